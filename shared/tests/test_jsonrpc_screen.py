"""Screening stdin lines: well-formed messages of both eras pass untouched, everything else is answered."""

import json

import pytest
from mcp.types import INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR
from mcp.types.version import LATEST_HANDSHAKE_VERSION

from folio_core.mcp.jsonrpc import Refusal, screen_line

MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def call(arguments_json: str, request_id: str = "r1") -> str:
    return (
        f'{{"jsonrpc":"2.0","id":"{request_id}","method":"tools/call",'
        f'"params":{{"name":"t","arguments":{{"q":{arguments_json}}}}}}}'
    )


@pytest.mark.parametrize(
    "message",
    [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"protocolVersion": LATEST_HANDSHAKE_VERSION, "capabilities": {}, "clientInfo": {}},
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "a", "method": "tools/list", "params": {"_meta": MODERN_META}},
        {"jsonrpc": "2.0", "id": 2**70, "method": "ping", "params": None},
        {"jsonrpc": "2.0", "id": "", "method": ""},
        {"jsonrpc": "2.0", "id": 3, "result": {}},
        {"jsonrpc": "2.0", "id": None, "error": {"code": -1, "message": "declined"}},
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "t", "arguments": {"x": "a\x00"}},
        },
    ],
)
def test_well_formed_messages_of_both_eras_pass_unchanged(message: dict[str, object]) -> None:
    line = json.dumps(message) + "\n"
    screened = screen_line(line)
    assert screened.forward == line and screened.replies == ()


def test_a_leading_byte_order_mark_is_removed_and_the_message_passes() -> None:
    line = '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    assert screen_line("\ufeff" + line).forward == line


def test_blank_lines_are_neither_passed_nor_answered() -> None:
    screened = screen_line("  \r\n")
    assert screened.forward is None and screened.replies == () and screened.dropped is None


def only(line: str) -> Refusal:
    screened = screen_line(line)
    assert screened.forward is None and len(screened.replies) == 1, screened
    return screened.replies[0]


@pytest.mark.parametrize(
    ("line", "request_id", "code", "words"),
    [
        ('{"jsonrpc":', None, PARSE_ERROR, "not valid JSON"),
        ("not json", None, PARSE_ERROR, "not valid JSON"),
        ("", None, None, None),
        ('"a string"', None, INVALID_REQUEST, "is an object, not a string"),
        ("5", None, INVALID_REQUEST, "not a number"),
        ('{"jsonrpc":"1.0","id":1,"method":"ping"}', 1, INVALID_REQUEST, '"jsonrpc": "2.0"'),
        ('{"id":"x","method":"ping"}', "x", INVALID_REQUEST, '"jsonrpc": "2.0"'),
        ('{"jsonrpc":"2.0","id":2,"method":5}', 2, INVALID_REQUEST, "method must be a string"),
        ('{"jsonrpc":"2.0","id":2}', 2, INVALID_REQUEST, "needs a method"),
        ('{"jsonrpc":"2.0","id":1.5,"method":"ping"}', None, INVALID_REQUEST, "id must be"),
        ('{"jsonrpc":"2.0","id":null,"method":"ping"}', None, INVALID_REQUEST, "not null"),
        ('{"jsonrpc":"2.0","id":true,"method":"ping"}', None, INVALID_REQUEST, "not a boolean"),
        ('{"jsonrpc":"2.0","id":{},"method":"ping"}', None, INVALID_REQUEST, "not an object"),
        (
            '{"jsonrpc":"2.0","id":3,"method":"ping","params":"s"}',
            3,
            INVALID_REQUEST,
            "params must be an object",
        ),
        ('{"jsonrpc":"2.0","id":3,"method":"ping","params":[1,2]}', 3, INVALID_REQUEST, "not an array"),
        ('{"jsonrpc":"2.0","method":5}', None, INVALID_REQUEST, "method must be a string"),
        ('{"jsonrpc":"2.0","id":7,"result":5}', None, INVALID_REQUEST, "A response needs"),
        ("[]", None, INVALID_REQUEST, "Batches are not supported"),
        (call('"\\ud800"'), "r1", INVALID_PARAMS, "params.arguments.q contains an unpaired surrogate"),
        (call("9" * 100_000), "r1", INVALID_PARAMS, "params.arguments.q is an integer beyond"),
        (call("[" * 250 + "]" * 250), "r1", INVALID_PARAMS, "nests deeper than"),
        (call("[" * 100_000 + "]" * 100_000, "deepest"), "deepest", INVALID_PARAMS, "nests too deeply"),
    ],
)
def test_what_the_sdk_would_drop_is_answered_with_the_id_when_it_can_be_read(
    line: str, request_id: object, code: int | None, words: str | None
) -> None:
    if code is None:
        assert screen_line(line).replies == ()
        return
    refusal = only(line)
    assert (refusal.id, refusal.code) == (request_id, code)
    assert words is not None and words in refusal.message


def test_every_request_of_a_batch_is_refused_with_its_own_id() -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "two", "method": "tools/list"},
    ]
    replies = screen_line(json.dumps(batch)).replies
    assert [(r.id, r.code) for r in replies] == [(1, INVALID_REQUEST), ("two", INVALID_REQUEST)]


def test_an_id_that_a_reply_cannot_carry_is_not_echoed() -> None:
    refusal = only('{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}')
    assert refusal.id is None and refusal.code == INVALID_REQUEST


def test_a_notification_that_cannot_be_read_gets_no_reply_but_is_reported() -> None:
    screened = screen_line(
        '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"reason":"\\ud800"}}'
    )
    assert screened.forward is None and screened.replies == ()
    assert screened.dropped is not None and "unpaired surrogate" in screened.dropped


def test_the_id_of_a_message_too_deep_to_parse_is_found_after_the_nesting_too() -> None:
    line = '{"jsonrpc":"2.0","method":"tools/call","params":{"a":' + "[" * 5000 + "]" * 5000 + '},"id":42}'
    assert only(line).id == 42


def test_messages_never_carry_a_bad_character_back() -> None:
    for line in [call('"\\u0000\\ud800"'), '{"jsonrpc":"2.0","id":1,"method":"x","params":{"k\\ud800":1}}']:
        message = only(line).message
        assert "\x00" not in message and "\ud800" not in message
        message.encode()  # serialisable as UTF-8

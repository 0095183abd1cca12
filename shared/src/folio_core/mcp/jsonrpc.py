"""Screening JSON-RPC lines before the SDK's stdio transport reads them.

The SDK's transport drops, without a word, every line it cannot parse into a message: invalid
JSON, a batch, ``"jsonrpc": "1.0"``, a non-string method, params that are not an object, and
anything its JSON parser refuses (nesting deeper than about 200 levels, integers of more than
about 4,300 digits, unpaired surrogate escapes). A request whose id is a float, null, a boolean
or an object is even read as a *notification* and never answered. JSON-RPC 2.0 requires an
error reply to each of them; :func:`screen_line` decides which.

A line either goes on to the SDK exactly as it came (a leading byte-order mark removed), or is
answered here: -32700 for invalid JSON, -32600 for a malformed message, -32602 for a request
whose parameters cannot be read, with the request's id whenever it can be recovered.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pydantic_core
from mcp.types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    JSONRPCError,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)

from folio_core.validation import MAX_DEPTH, MAX_INTEGER, find_input_problem

_BOM = "\ufeff"
_SURROGATE = re.compile("[\ud800-\udfff]")
_PYTHON_INT_DIGITS = 4000  # below Python's own limit on converting digit strings (4,300)
_ONE_PER_LINE = "send one JSON-RPC 2.0 message per line"


class _HugeInteger(int):
    """Stands in for an integer too long to convert; larger than any accepted value."""


_HUGE = _HugeInteger(MAX_INTEGER + 1)


@dataclass(frozen=True)
class Refusal:
    """An error reply to a line: the id it answers (``None`` when it cannot be told) and the error."""

    id: RequestId | None
    code: int
    message: str


@dataclass(frozen=True)
class Screened:
    """What to do with a line: hand ``forward`` on to the SDK, or send ``replies`` (or neither)."""

    forward: str | None = None
    replies: tuple[Refusal, ...] = field(default_factory=tuple)
    dropped: str | None = None
    """Why a line is neither handed on nor answered (a notification gets no reply, even an error)."""


def screen_line(line: str) -> Screened:
    """Hand a well-formed message on unchanged; answer anything else."""
    text = line.lstrip(_BOM)
    if not text.strip():
        return Screened()
    try:
        message = pydantic_core.from_json(text)
    except ValueError as exc:
        return _unreadable(text, str(exc))
    refusals = _refusals(message)
    if refusals:
        return Screened(replies=refusals)
    return Screened(forward=text)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _usable_id(value: object) -> bool:
    """Whether ``value`` is an id a reply can carry back (what the SDK's ``RequestId`` accepts)."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is None  # a reply could not carry it
    return isinstance(value, int) and not isinstance(value, bool | _HugeInteger)


def _refusals(message: object) -> tuple[Refusal, ...]:
    if isinstance(message, list):
        return _batch(message)
    if not isinstance(message, dict):
        return (
            Refusal(
                None,
                INVALID_REQUEST,
                f"A JSON-RPC message is an object, not {_kind(message)}; {_ONE_PER_LINE}.",
            ),
        )
    refusal = _refusal(message)
    return () if refusal is None else (refusal,)


def _batch(items: list[Any]) -> tuple[Refusal, ...]:
    """MCP has no batches (JSON-RPC's arrays of messages): every request in one is refused."""
    text = f"Batches are not supported: {_ONE_PER_LINE}."
    ids = [
        item["id"]
        for item in items
        if isinstance(item, dict) and "method" in item and "id" in item and _usable_id(item["id"])
    ]
    return tuple(Refusal(request_id, INVALID_REQUEST, text) for request_id in ids) or (
        Refusal(None, INVALID_REQUEST, text),
    )


def _refusal(message: dict[str, Any]) -> Refusal | None:
    if "method" not in message and ("result" in message or "error" in message):
        return _response_refusal(message)
    if "id" in message and not _usable_id(message["id"]):
        return Refusal(
            None,
            INVALID_REQUEST,
            f"The id must be an integer or a string of valid text, not {_kind(message['id'])}.",
        )
    reply_to = message.get("id")
    if message.get("jsonrpc") != "2.0":
        return Refusal(reply_to, INVALID_REQUEST, 'Every message needs "jsonrpc": "2.0" (JSON-RPC 2.0).')
    if "method" not in message:
        return Refusal(reply_to, INVALID_REQUEST, 'A request needs a method (a string such as "tools/list").')
    if not isinstance(message["method"], str):
        return Refusal(
            reply_to, INVALID_REQUEST, f"The method must be a string, not {_kind(message['method'])}."
        )
    params = message.get("params")
    if params is not None and not isinstance(params, dict):
        return Refusal(
            reply_to,
            INVALID_REQUEST,
            f"params must be an object (MCP methods take named parameters), not {_kind(params)}.",
        )
    return None


def _response_refusal(message: dict[str, Any]) -> Refusal | None:
    """A reply from the client to the server's own request passes if the SDK can read it."""
    try:
        parsed = jsonrpc_message_adapter.validate_python(message, by_name=False)
    except ValueError:
        parsed = None
    if isinstance(parsed, JSONRPCResponse | JSONRPCError):
        return None
    # Not answered with its id: that id belongs to one of the server's requests, not the client's.
    return Refusal(
        None,
        INVALID_REQUEST,
        'A response needs "jsonrpc": "2.0", an id and a result object or an error object.',
    )


def _bounded_int(digits: str) -> int:
    return int(digits) if len(digits) <= _PYTHON_INT_DIGITS else _HUGE


def _unreadable(text: str, reason: str) -> Screened:
    """Answer a line the SDK's JSON parser refuses: invalid JSON, or valid JSON it cannot hold."""
    try:
        message = json.loads(text, parse_int=_bounded_int)
    except RecursionError:
        request_id = _top_level_id(text)
        code = INVALID_REQUEST if request_id is None else INVALID_PARAMS
        refusal = Refusal(
            request_id,
            code,
            f"The message nests too deeply to be read; send a flatter structure "
            f"(at most {MAX_DEPTH} levels inside an argument).",
        )
        return Screened(replies=(refusal,))
    except ValueError:
        refusal = Refusal(
            None, PARSE_ERROR, f"Parse error: the line is not valid JSON ({reason}); {_ONE_PER_LINE}."
        )
        return Screened(replies=(refusal,))
    refusals = _refusals(message)
    if refusals:
        return Screened(replies=refusals)
    problem = find_input_problem(message.get("params"), "params")
    explanation = (
        f"Invalid params: {problem.message}" if problem else f"The message could not be read ({reason})."
    )
    if "id" not in message:
        return Screened(dropped=f"a notification: {explanation}")
    code = INVALID_PARAMS if problem else INVALID_REQUEST
    return Screened(replies=(Refusal(message["id"], code, explanation),))


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]|[^"{}\[\]]+', re.S)
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")


def _top_level_id(text: str) -> RequestId | None:
    """The ``id`` member of an object too deeply nested to parse, read from its top level only."""
    if not text.lstrip().startswith("{"):
        return None
    depth = 0
    key: str | None = None
    after_colon = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("{", "["):
            depth += 1
            key, after_colon = None, False
            continue
        if token in ("}", "]"):
            depth -= 1
            continue
        if depth != 1:
            continue
        if token.startswith('"'):
            if after_colon and key == '"id"':
                return _string_id(token)
            key, after_colon = token, False
            continue
        stripped = token.strip()
        if key == '"id"' and stripped.startswith(":"):
            value = stripped[1:].split(",")[0].strip()
            if value:
                return int(value) if _INTEGER.fullmatch(value) else None
            after_colon = True
            continue
        key, after_colon = None, False
    return None


def _string_id(token: str) -> str | None:
    try:
        value = json.loads(token)
    except ValueError:
        return None
    return value if isinstance(value, str) and _usable_id(value) else None


__all__ = ["Refusal", "Screened", "screen_line"]

"""A generated-input test every Folio server runs over real stdio: bad input always gets an answer.

:func:`fuzz_stdio_server` spawns a server's console script, lists its tools, prompts and
resources, and sends, one at a time, inputs made to be wrong: arguments generated from each
tool's ``inputSchema`` and then broken (a required one missing, a wrong type, NUL characters,
unpaired surrogates, NaN and Infinity, integers of 100,000 digits, nesting thousands of levels
deep, keys with NUL), prompts with missing, unknown and bad arguments, resource URIs filled with
junk, generated JSON-RPC envelopes (bad ``jsonrpc``, ids, methods, params) and a corpus of
malformed lines (invalid JSON, a byte-order mark, invalid UTF-8, batches).

Every expected reply is waited for (the one safety net is ``timeout`` for the whole run), and
the report lists each broken promise: a request never answered, an error without a proper code
(0, or -32603 for what is the client's fault), a tool that crashed ("Error executing tool X"), a
message with a traceback or an absolute path, a ping left unanswered, a traceback in the log.

Generation is seeded (``derandomize``), so a run is reproducible. This module is for tests: it
needs the dev dependencies ``hypothesis`` and ``hypothesis-jsonschema``.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

JsonId = int | str | None
T = TypeVar("T")

PROTOCOL_VERSION = "2025-11-25"  # the handshake era, where ping exists
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HUGE_DIGITS = 100_000
_MAX_LINE = 64 * 1024 * 1024
_PING_EVERY = 20
_SHOWN_FAILURES = 25


@dataclass(frozen=True)
class Raw:
    """JSON text put into a generated message as is (what ``json.dumps`` cannot or will not write)."""

    text: str


def encode(value: object) -> str:
    """JSON text of ``value``, ASCII only: unpaired surrogates and NUL become ``\\u`` escapes,
    NaN and Infinity their (non-standard) literals, :class:`Raw` its text."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value)


NASTY_TEXT: tuple[str, ...] = (
    "a\x00b",
    "\x00",
    "\ud800",
    "tail \udfff",
    "",
    "   ",
    "x" * 20_000,
    "\u202eright-to-left",
    "../../etc/passwd",
    "'; DROP TABLE x; --",
    "😀" * 50,
    "\ufeffbom",
)
NASTY_NUMBERS: tuple[object, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    Raw("1e999999"),
    Raw("-1e999999"),
    Raw("9" * HUGE_DIGITS),
    10**30,
    2**63,
    -(2**63),
    -1,
    0,
    1.5,
    1e308,
)
NASTY_SHAPES: tuple[object, ...] = (
    Raw("[" * 40 + "]" * 40),
    Raw("[" * 300 + "]" * 300),
    Raw('{"a":' * 3000 + "1" + "}" * 3000),
    {"a\x00": 1},
    {"\ud800": "x"},
    [None],
    {},
    [],
    None,
    True,
    False,
)


def nasty_values() -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from(NASTY_TEXT + NASTY_NUMBERS + NASTY_SHAPES),
        st.text(max_size=30),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
    )


# ---- cases ----


@dataclass(frozen=True)
class Case:
    """One line to send and the ids of the replies it must get (``None``: a reply with id null)."""

    label: str
    line: bytes
    expect: tuple[JsonId, ...]
    tool: str | None = None
    code: int | None = None
    """The error code the reply must carry, when the input says which one it has to be."""


def _line(message: object) -> bytes:
    return encode(message).encode()


def _request(request_id: JsonId, method: str, params: object) -> bytes:
    return _line({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def _examples(strategy: st.SearchStrategy[T], amount: int) -> list[T]:
    found: list[T] = []
    if amount < 1:
        return found

    @settings(
        max_examples=amount,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(strategy)
    def collect(value: T) -> None:
        found.append(value)

    collect()
    return found


Place = tuple[dict[str, Any] | list[Any], str | int]
"""A container and a key (or index) in it."""


def _get(place: Place) -> object:
    container, key = place
    return container.get(str(key)) if isinstance(container, dict) else container[int(key)]


def _put(place: Place, value: object) -> None:
    container, key = place
    if isinstance(container, dict):
        container[str(key)] = value
    else:
        container[int(key)] = value


def _positions(value: object) -> Iterator[Place]:
    """Every place inside ``value`` a value can be put (object members, array items)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield value, key
            yield from _positions(child)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield value, index
            yield from _positions(child)


def _valid_arguments(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    try:
        return from_schema(dict(schema), allow_x00=False)
    except Exception:  # a schema the generator cannot read: start from nothing
        return st.just({})


_MUTATIONS = (
    "missing",
    "wrong_type",
    "nasty",
    "nasty",
    "bad_text",
    "bad_text",
    "bad_text",
    "bad_number",
    "nasty_key",
    "not_an_object",
    "unknown",
)
_BAD_TEXT = ("\x00", "\ud800", "\udfff")
_BAD_NUMBERS: tuple[object, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    Raw("1e999999"),
    Raw("9" * HUGE_DIGITS),
    10**30,
)


def _typed_places(
    arguments: dict[str, Any], schema: Mapping[str, Any], wanted: tuple[type, ...], json_types: set[str]
) -> list[Place]:
    """Places holding a value of the wanted type, and top-level properties declared with that type."""
    places = [
        place
        for place in _positions(arguments)
        if isinstance(_get(place), wanted) and not isinstance(_get(place), bool)
    ]
    for name, declared in schema.get("properties", {}).items():
        text = json.dumps(declared)
        if name not in arguments and any(f'"type": "{t}"' in text for t in json_types):
            places.append((arguments, name))
    return places


@st.composite
def bad_arguments(draw: st.DrawFn, schema: Mapping[str, Any]) -> object:
    """Arguments valid for ``schema`` (as far as the generator can tell), then broken one way."""
    try:
        base = draw(_valid_arguments(schema))
    except Exception:  # unsatisfiable or unsupported in the generator
        base = {}
    arguments: dict[str, Any] = base if isinstance(base, dict) else {}
    properties = sorted(schema.get("properties", {}))
    required = sorted(schema.get("required", []))
    how = draw(st.sampled_from(_MUTATIONS))
    texts = _typed_places(arguments, schema, (str,), {"string"})
    numbers = _typed_places(arguments, schema, (int, float), {"number", "integer"})
    if how == "bad_text" and texts:
        place = texts[draw(st.integers(0, len(texts) - 1))]
        current = _get(place)
        text = current if isinstance(current, str) else ""
        at = draw(st.integers(0, len(text)))
        _put(place, text[:at] + draw(st.sampled_from(_BAD_TEXT)) + text[at:])
    elif how == "bad_number" and numbers:
        _put(numbers[draw(st.integers(0, len(numbers) - 1))], draw(st.sampled_from(_BAD_NUMBERS)))
    elif how == "missing" and required:
        arguments.pop(draw(st.sampled_from(required)), None)
    elif how == "wrong_type" and properties:
        arguments[draw(st.sampled_from(properties))] = draw(nasty_values())
    elif how in ("nasty", "bad_text", "bad_number"):
        places: list[Place] = [(arguments, p) for p in properties]
        places += list(_positions(arguments))
        if places:
            _put(places[draw(st.integers(0, len(places) - 1))], draw(nasty_values()))
    elif how == "nasty_key":
        dicts = [arguments] + [c for c, _ in _positions(arguments) if isinstance(c, dict)]
        target = dicts[draw(st.integers(0, len(dicts) - 1))]
        target[draw(st.sampled_from(["k\x00", "\ud800", "", "x" * 500]))] = draw(nasty_values())
    elif how == "not_an_object":
        return draw(st.sampled_from([[], "text", 5, None, True, [1, 2]]))
    else:
        arguments["zz_not_an_argument"] = draw(nasty_values())
    return arguments


_METHODS = (
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "completion/complete",
    "notifications/cancelled",
    "no/such/method",
    "",
)
_ABSENT = object()


@st.composite
def envelopes(draw: st.DrawFn, request_id: Callable[[], int]) -> tuple[dict[str, Any], JsonId]:
    """A JSON-RPC request with any of its members wrong, and the id its reply must carry."""
    message: dict[str, Any] = {}
    jsonrpc = draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2.0, None, _ABSENT]))
    if jsonrpc is not _ABSENT:
        message["jsonrpc"] = jsonrpc
    kind = draw(st.sampled_from(["int", "int", "str", "float", "null", "bool", "object", "array"]))
    number = request_id()
    ids: dict[str, object] = {
        "int": number,
        "str": f"e{number}",
        "float": number + 0.5,
        "null": None,
        "bool": True,
        "object": {"id": number},
        "array": [number],
    }
    message["id"] = ids[kind]
    method = draw(
        st.one_of(
            st.sampled_from(_METHODS),
            st.text(max_size=20).filter(lambda m: m != "initialize"),
            st.integers(),
            st.none(),
            st.just(_ABSENT),
        )
    )
    if method is not _ABSENT:
        message["method"] = method
    params = draw(
        st.one_of(
            st.just(_ABSENT),
            st.none(),
            st.sampled_from(["text", 5, [1, 2], True]),
            st.dictionaries(
                st.sampled_from(["name", "uri", "arguments", "cursor", "_meta", "x"]),
                nasty_values(),
                max_size=3,
            ),
        )
    )
    if params is not _ABSENT:
        message["params"] = params
    reply_id: JsonId = message["id"] if kind in ("int", "str") else None
    return message, reply_id


def _malformed_lines(tool: str | None, ids: Callable[[], int]) -> list[Case]:
    """Lines no generator writes: invalid JSON and UTF-8, a byte-order mark, batches, odd ids."""

    def call(arguments: str, number: int) -> bytes:
        return (
            f'{{"jsonrpc":"2.0","id":{number},"method":"tools/call",'
            f'"params":{{"name":{json.dumps(tool)},"arguments":{arguments}}}}}'
        ).encode()

    a, b, c = ids(), ids(), ids()
    cases = [
        Case("invalid JSON", b'{"jsonrpc":', (None,)),
        Case("not JSON at all", b"hello", (None,)),
        Case("invalid UTF-8", b'\xff\xfe{"jsonrpc":"2.0","id":1,"method"', (None,)),
        Case("a byte-order mark", "\ufeff".encode() + _request(a, "ping", None), (a,)),
        Case("an empty batch", b"[]", (None,)),
        Case(
            "a batch of requests",
            _line(
                [
                    {"jsonrpc": "2.0", "id": b, "method": "ping"},
                    {"jsonrpc": "2.0", "id": c, "method": "tools/list"},
                ]
            ),
            (b, c),
        ),
        Case(
            "a batch of notifications",
            _line([{"jsonrpc": "2.0", "method": "notifications/initialized"}]),
            (None,),
        ),
        Case("a number", b"5", (None,)),
        Case("a string", b'"ping"', (None,)),
        Case("null", b"null", (None,)),
        Case("an empty object", b"{}", (None,)),
        Case("a malformed response", b'{"jsonrpc":"2.0","id":999999,"result":5}', (None,)),
        Case("a notification with a numeric method", b'{"jsonrpc":"2.0","method":5}', (None,)),
    ]
    for label, text in [
        ("jsonrpc 1.0", '{{"jsonrpc":"1.0","id":{n},"method":"ping"}}'),
        ("no jsonrpc", '{{"id":{n},"method":"ping"}}'),
        ("a numeric method", '{{"jsonrpc":"2.0","id":{n},"method":5}}'),
        ("no method", '{{"jsonrpc":"2.0","id":{n}}}'),
        ("string params", '{{"jsonrpc":"2.0","id":{n},"method":"ping","params":"str"}}'),
        ("array params", '{{"jsonrpc":"2.0","id":{n},"method":"ping","params":[1,2]}}'),
        (
            "a long line",
            '{{"jsonrpc":"2.0","id":{n},"method":"ping","params":{{"x":"' + "a" * 1_000_000 + '"}}}}',
        ),
    ]:
        number = ids()
        cases.append(Case(label, text.format(n=number).encode(), (number,)))
    for label, bad_id in [
        ("a float id", "1.5"),
        ("a null id", "null"),
        ("a boolean id", "true"),
        ("an object id", "{}"),
    ]:
        cases.append(Case(label, f'{{"jsonrpc":"2.0","id":{bad_id},"method":"ping"}}'.encode(), (None,)))
    if tool is not None:
        for label, arguments in [
            ("an unpaired surrogate", '{"q":"\\ud800"}'),
            ("a 100,000-digit integer", '{"q":' + "9" * HUGE_DIGITS + "}"),
            ("nesting 250 levels deep", '{"q":' + "[" * 250 + "]" * 250 + "}"),
            ("nesting 20,000 levels deep", '{"q":' + "[" * 20_000 + "]" * 20_000 + "}"),
            ("NaN", '{"q":NaN}'),
            ("Infinity", '{"q":-Infinity}'),
            ("1e999999", '{"q":1e999999}'),
            ("a NUL key", '{"\\u0000":1}'),
        ]:
            number = ids()
            cases.append(
                Case(f"tools/call {tool} with {label}", call(arguments, number), (number,), tool=tool)
            )
    return cases


def _prompt_cases(prompts: Sequence[Mapping[str, Any]], ids: Callable[[], int]) -> list[Case]:
    cases: list[Case] = []

    def add(label: str, params: object, code: int | None = None) -> None:
        number = ids()
        cases.append(Case(label, _request(number, "prompts/get", params), (number,), code=code))

    for prompt in prompts:
        name = prompt["name"]
        arguments = list(prompt.get("arguments") or [])
        required = {a["name"]: "x" for a in arguments if a.get("required")}
        if required:
            add(f"prompt {name} without its arguments", {"name": name}, INVALID_PARAMS)
        add(
            f"prompt {name} with an unknown argument",
            {"name": name, "arguments": {**required, "zz": "x"}},
            INVALID_PARAMS,
        )
        for argument in arguments:
            for value, code in [
                ("a\x00b", INVALID_PARAMS),
                ("\ud800", INVALID_PARAMS),
                (5, INVALID_PARAMS),
                ("x" * 20_000, None),
                ("", None),
            ]:
                filled = {**required, argument["name"]: value}
                add(
                    f"prompt {name} with {argument['name']}={encode(value)[:20]}",
                    {"name": name, "arguments": filled},
                    code,
                )
    add("an unknown prompt", {"name": "no_such_prompt"}, INVALID_PARAMS)
    add("a prompt named with NUL", {"name": "a\x00"}, INVALID_PARAMS)
    return cases


_FILLS = ("0", "-1", "9" * 30, "a\x00b", "\ud800", "../x", "%00", "x" * 5000, "")


def _resource_cases(uris: Sequence[str], templates: Sequence[str], ids: Callable[[], int]) -> list[Case]:
    cases: list[Case] = []

    def add(label: str, uri: str, code: int | None = None) -> None:
        number = ids()
        cases.append(Case(label, _request(number, "resources/read", {"uri": uri}), (number,), code=code))

    for uri in uris:
        add(f"resource {uri}", uri)
    for template in templates:
        for fill in _FILLS:
            uri = re.sub(r"\{[^}]*\}", lambda _: fill, template)  # noqa: B023 (used at once)
            add(f"resource {template} with {encode(fill)[:20]}", uri)
    add("an unknown resource", "nope://nothing", INVALID_PARAMS)
    add("a resource URI with NUL", "nope://a\x00", INVALID_PARAMS)
    return cases


# ---- the peer ----


class StdioPeer:
    """A JSON-RPC client over a spawned server's stdio that can send any line at all."""

    def __init__(self, process: anyio.abc.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._stdin = process.stdin
        self._stdout = BufferedByteReceiveStream(process.stdout)
        self.strays: list[dict[str, Any]] = []
        self.garbage: list[str] = []

    async def send(self, line: bytes) -> None:
        await self._stdin.send(line + b"\n")

    async def _next_reply(self) -> dict[str, Any]:
        while True:
            raw = await self._stdout.receive_until(b"\n", _MAX_LINE)
            try:
                message = json.loads(raw)
            except ValueError:
                self.garbage.append(raw[:200].decode(errors="replace"))
                continue
            if not isinstance(message, dict):
                self.garbage.append(raw[:200].decode(errors="replace"))
            elif "method" not in message:
                return message
            elif "id" in message:  # a request from the server (sampling, elicitation…): not offered
                refusal = {"code": -32601, "message": "this client answers no requests"}
                await self.send(_line({"jsonrpc": "2.0", "id": message["id"], "error": refusal}))

    async def exchange(self, line: bytes, expect: Sequence[JsonId]) -> list[dict[str, Any]]:
        """Send ``line``; return its replies, once one has arrived for each id in ``expect``."""
        await self.send(line)
        pending = list(expect)
        replies: list[dict[str, Any]] = []
        while pending:
            reply = await self._next_reply()
            if reply.get("id") in pending and not isinstance(reply.get("id"), bool):
                pending.remove(reply.get("id"))
                replies.append(reply)
            else:
                self.strays.append(reply)
        return replies

    async def request(self, request_id: int, method: str, params: object = None) -> dict[str, Any]:
        (reply,) = await self.exchange(_request(request_id, method, params or {}), (request_id,))
        return reply


# ---- checks ----

_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")


def _private_paths(env: Mapping[str, str]) -> list[str]:
    """Absolute paths no message may show: the installation, the data, temporary files, home."""
    paths = {sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[3]), tempfile.gettempdir()}
    paths.add(str(Path.home()))
    paths.update(v for k, v in env.items() if k.startswith("FOLIO_") and v.startswith("/"))
    return sorted(p.rstrip("/") + "/" for p in paths if len(p) > 1)


def _texts(reply: Mapping[str, Any]) -> list[str]:
    if "error" in reply:
        error = reply["error"]
        return [str(error.get("message", "")), json.dumps(error.get("data"))]
    result = reply.get("result")
    if not isinstance(result, dict):
        return []
    return [str(block.get("text", "")) for block in result.get("content") or [] if isinstance(block, dict)]


def _reply_problems(case: Case, reply: Mapping[str, Any], private: Sequence[str]) -> list[str]:
    problems: list[str] = []
    if ("result" in reply) == ("error" in reply):
        problems.append("a reply with neither or both of result and error")
    error = reply.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        if not isinstance(code, int) or code == 0:
            problems.append(f"error code {code!r}")
        elif code == INTERNAL_ERROR:
            problems.append(f"an internal error (-32603) for bad input: {error.get('message')!r}")
        elif case.code is not None and code != case.code:
            problems.append(f"error code {code}, expected {case.code}: {error.get('message')!r}")
    elif case.code is not None:
        problems.append(f"a result, expected error {case.code}")
    result = reply.get("result")
    if case.tool is not None and isinstance(result, dict) and result.get("isError"):
        texts = _texts(reply)
        if any(t.strip() == f"Error executing tool {case.tool}" for t in texts):
            problems.append("the tool crashed (a bare 'Error executing tool'; see the server's log)")
    for text in _texts(reply):
        if _TRACEBACK.search(text):
            problems.append(f"a traceback in a message: {text[:200]!r}")
        shown = [p for p in private if p in text]
        if shown:
            problems.append(f"an absolute path ({shown[0]}) in a message: {text[:200]!r}")
    return [f"{case.label}: {p}" for p in problems]


@dataclass
class FuzzReport:
    """What a run sent and every promise it found broken."""

    cases: dict[str, int] = field(default_factory=dict)
    replies: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stderr_tail: str = ""

    def summary(self) -> str:
        lines = [f"{len(self.failures)} problems in {sum(self.cases.values())} inputs {self.cases}:"]
        lines += [f"  - {f}" for f in self.failures[:_SHOWN_FAILURES]]
        if len(self.failures) > _SHOWN_FAILURES:
            lines.append(f"  … and {len(self.failures) - _SHOWN_FAILURES} more")
        lines.append("slowest replies: " + ", ".join(f"{s:.2f} s ({label})" for s, label in self.slowest))
        if self.failures:
            lines.append("server log (tail):\n" + self.stderr_tail)
        return "\n".join(lines)


def _server_env(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its Folio settings (they may point at real data), plus ``env``."""
    if "FOLIO_DATA_DIR" not in env:
        raise ValueError("give FOLIO_DATA_DIR (a temporary directory): the inputs must not reach real data")
    inherited = {k: v for k, v in os.environ.items() if not k.upper().startswith("FOLIO_")}
    return {**inherited, "FOLIO_AUDIENCE": "owner", "FOLIO_ALLOW_MODEL_REQUESTS": "0", **env}


async def _list(peer: StdioPeer, ids: Callable[[], int], method: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        reply = await peer.request(ids(), method, {"cursor": cursor} if cursor else {})
        result = reply.get("result") or {}
        items += result.get(key, [])
        cursor = result.get("nextCursor")
        if not cursor:
            return items


def _generated_cases(
    tools: Sequence[Mapping[str, Any]], examples_per_tool: int, envelope_count: int, ids: Callable[[], int]
) -> tuple[list[Case], list[Case]]:
    tool_cases: list[Case] = []
    for tool in tools:
        schema = tool.get("inputSchema") or {"type": "object"}
        for arguments in _examples(bad_arguments(schema), examples_per_tool):
            number = ids()
            params = {"name": tool["name"], "arguments": arguments}
            label = f"tools/call {tool['name']} {encode(arguments)[:80]}"
            tool_cases.append(
                Case(label, _request(number, "tools/call", params), (number,), tool=tool["name"])
            )
    envelope_cases = [
        Case(f"envelope {encode(message)[:80]}", _line(message), (reply_id,))
        for message, reply_id in _examples(envelopes(ids), envelope_count)
    ]
    return tool_cases, envelope_cases


async def _drive(
    peer: StdioPeer,
    report: FuzzReport,
    waiting: list[str],
    private: Sequence[str],
    examples_per_tool: int,
    envelope_count: int,
) -> None:
    """The session: handshake, listings, then every case in turn with a ping every few cases."""
    ids = count(1).__next__
    hello = {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "fuzz", "version": "1"},
    }
    init = await peer.request(ids(), "initialize", hello)
    if "result" not in init:
        report.failures.append(f"initialize failed: {init}")
        return
    await peer.send(_line({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    waiting[0] = "the listings"
    tools = await _list(peer, ids, "tools/list", "tools")
    prompts = await _list(peer, ids, "prompts/list", "prompts")
    resources = await _list(peer, ids, "resources/list", "resources")
    templates = await _list(peer, ids, "resources/templates/list", "resourceTemplates")
    tool_cases, envelope_cases = await anyio.to_thread.run_sync(
        _generated_cases, tools, examples_per_tool, envelope_count, ids
    )
    groups = {
        "tools": tool_cases,
        "malformed lines": _malformed_lines(tools[0]["name"] if tools else None, ids),
        "envelopes": envelope_cases,
        "prompts": _prompt_cases(prompts, ids),
        "resources": _resource_cases(
            [r["uri"] for r in resources], [t["uriTemplate"] for t in templates], ids
        ),
    }
    report.cases = {name: len(cases) for name, cases in groups.items()}
    timings: list[tuple[float, str]] = []
    for n, case in enumerate(c for cases in groups.values() for c in cases):
        waiting[0] = f"the reply to {case.label}"
        started = time.perf_counter()
        replies = await peer.exchange(case.line, case.expect)
        timings.append((time.perf_counter() - started, case.label[:60]))
        report.replies += len(replies)
        for reply in replies:
            report.failures += _reply_problems(case, reply, private)
        if n % _PING_EVERY == 0:
            waiting[0] = f"a ping after {case.label}"
            pong = await peer.request(ids(), "ping")
            if pong.get("result") != {}:
                report.failures.append(f"ping after {case.label}: {pong}")
    waiting[0] = "the last ping"
    final = await peer.request(ids(), "ping")
    if final.get("result") != {}:
        report.failures.append(f"the last ping: {final}")
    report.slowest = sorted(timings, reverse=True)[:3]
    report.failures += [f"a reply nobody asked for: {json.dumps(s)[:200]}" for s in peer.strays]
    report.failures += [f"not JSON-RPC on stdout: {g!r}" for g in peer.garbage]


async def fuzz_stdio_server(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    examples_per_tool: int = 10,
    envelope_count: int = 40,
    timeout: float = 900.0,
) -> FuzzReport:
    """Spawn ``command`` over stdio with ``env`` (``FOLIO_DATA_DIR`` required) and send it bad input.

    ``timeout`` bounds the whole run (a safety net, not a measurement).
    """
    report = FuzzReport()
    private = _private_paths(env)
    stderr = bytearray()

    async def drain_stderr(process: anyio.abc.Process) -> None:
        assert process.stderr is not None
        async for chunk in process.stderr:
            stderr.extend(chunk)

    waiting = ["the handshake"]  # what the run is waiting for, to name it if no answer comes
    process = await anyio.open_process(list(command), env=_server_env(env))
    try:
        with anyio.fail_after(timeout):
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(drain_stderr, process)
                    await _drive(
                        StdioPeer(process), report, waiting, private, examples_per_tool, envelope_count
                    )
                    waiting[0] = "the server to exit once stdin closed"
                    await process.stdin.aclose()  # type: ignore[union-attr]
                    code = await process.wait()
                    if code != 0:
                        report.failures.append(f"the server exited with {code} after stdin closed")
                    tg.cancel_scope.cancel()
            except* (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                report.failures.append(
                    f"the server went away (exit code {process.returncode}) during {waiting[0]}"
                )
    except TimeoutError:
        report.failures.append(f"no answer within the run's {timeout:g} s safety net, during {waiting[0]}")
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.CancelScope(shield=True):
            await process.aclose()
    log = stderr.decode(errors="replace")
    report.stderr_tail = log[-4000:]
    for match in _TRACEBACK.finditer(log):
        start = log.rfind("\n", 0, match.start()) + 1  # the log record the traceback is in
        report.failures.append(f"a traceback in the server's log: {log[start : match.end() + 1500]}")
        break
    return report


__all__ = [
    "Case",
    "FuzzReport",
    "Raw",
    "StdioPeer",
    "bad_arguments",
    "encode",
    "envelopes",
    "fuzz_stdio_server",
    "nasty_values",
]

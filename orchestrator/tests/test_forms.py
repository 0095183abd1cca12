"""Elicitation forms: schema parsing, answer validation, secrets, the runner, policies, and real terminals."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Literal

import anyio
import mcp.types as types
import pexpect
import pytest
from mcp import Client, StdioServerParameters
from mcp.server.elicitation import render_elicitation_schema
from pydantic import BaseModel, Field

from folio_orchestrator.forms import (
    CTRL_C,
    CTRL_D,
    OMITTED,
    REASON_META_KEY,
    FormField,
    FormSchemaError,
    Invalid,
    ScriptedFormIO,
    elicit_without_terminal,
    elicitation_callback,
    handle_elicitation,
    parse_answer,
    parse_boolean,
    parse_choice,
    parse_choices,
    parse_form,
    parse_number,
    parse_text,
    policy_from_env,
    run_form,
    run_url_request,
    secret_reason,
)
from folio_orchestrator.ui.console import Console

pytestmark = pytest.mark.anyio

HELPER = Path(__file__).parent / "helpers" / "form_run.py"
EVERYTHING_BIN = Path(__file__).parents[2] / "tests/interop/node_modules/.bin/mcp-server-everything"

# The form @modelcontextprotocol/server-everything sends from `trigger-elicitation-request`.
EVERYTHING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"title": "String", "type": "string", "description": "Your full, legal name"},
        "check": {"title": "Boolean", "type": "boolean", "description": "Agree to the terms and conditions"},
        "firstLine": {
            "title": "String with default",
            "type": "string",
            "description": "Favorite first line of a story",
            "default": "It was a dark and stormy night.",
        },
        "email": {
            "title": "String with email format",
            "type": "string",
            "format": "email",
            "description": "Your email address (will be verified, and never shared with anyone else)",
        },
        "homepage": {
            "type": "string",
            "format": "uri",
            "title": "String with uri format",
            "description": "Portfolio / personal website",
        },
        "birthdate": {
            "title": "String with date format",
            "type": "string",
            "format": "date",
            "description": "Your date of birth",
        },
        "integer": {
            "title": "Integer",
            "type": "integer",
            "description": "Your favorite integer (do not give us your phone number, pin, or other sensitive info)",
            "minimum": 1,
            "maximum": 100,
            "default": 42,
        },
        "number": {
            "title": "Number in range 1-1000",
            "type": "number",
            "description": "Favorite number (there are no wrong answers)",
            "minimum": 0,
            "maximum": 1000,
            "default": 3.14,
        },
        "untitledSingleSelectEnum": {
            "type": "string",
            "title": "Untitled Single Select Enum",
            "description": "Choose your favorite friend",
            "enum": ["Monica", "Rachel", "Joey", "Chandler", "Ross", "Phoebe"],
            "default": "Monica",
        },
        "untitledMultipleSelectEnum": {
            "type": "array",
            "title": "Untitled Multiple Select Enum",
            "description": "Choose your favorite instruments",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "enum": ["Guitar", "Piano", "Violin", "Drums", "Bass"]},
            "default": ["Guitar"],
        },
        "titledSingleSelectEnum": {
            "type": "string",
            "title": "Titled Single Select Enum",
            "description": "Choose your favorite hero",
            "oneOf": [
                {"const": "hero-1", "title": "Superman"},
                {"const": "hero-2", "title": "Green Lantern"},
                {"const": "hero-3", "title": "Wonder Woman"},
            ],
            "default": "hero-1",
        },
        "titledMultipleSelectEnum": {
            "type": "array",
            "title": "Titled Multiple Select Enum",
            "description": "Choose your favorite types of fish",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "anyOf": [
                    {"const": "fish-1", "title": "Tuna"},
                    {"const": "fish-2", "title": "Salmon"},
                    {"const": "fish-3", "title": "Trout"},
                ]
            },
            "default": ["fish-1"],
        },
        "legacyTitledEnum": {
            "type": "string",
            "title": "Legacy Titled Single Select Enum",
            "description": "Choose your favorite type of pet",
            "enum": ["pet-1", "pet-2", "pet-3", "pet-4", "pet-5"],
            "enumNames": ["Cats", "Dogs", "Birds", "Fish", "Reptiles"],
            "default": "pet-1",
        },
    },
    "required": ["name"],
}

# One answer per field of EVERYTHING_SCHEMA, in order ("" keeps the default).
EVERYTHING_ANSWERS = [
    "Ada Lovelace",
    "y",
    "",
    "ada@example.com",
    "https://ada.example.org",
    "1815-12-10",
    "7",
    "",
    "3",
    "1, Piano",
    "Wonder Woman",
    "fish-2,3",
    "2",
]
EVERYTHING_CONTENT: dict[str, Any] = {
    "name": "Ada Lovelace",
    "check": True,
    "firstLine": "It was a dark and stormy night.",
    "email": "ada@example.com",
    "homepage": "https://ada.example.org",
    "birthdate": "1815-12-10",
    "integer": 7,
    "number": 3.14,
    "untitledSingleSelectEnum": "Joey",
    "untitledMultipleSelectEnum": ["Guitar", "Piano"],
    "titledSingleSelectEnum": "hero-3",
    "titledMultipleSelectEnum": ["fish-2", "fish-3"],
    "legacyTitledEnum": "pet-2",
}


def text_field(**kw: Any) -> FormField:
    return FormField(name="f", kind="text", **kw)


# --- parse_form ------------------------------------------------------------------------------


def test_parse_form_reads_every_field_of_the_server_everything_schema() -> None:
    form = parse_form(EVERYTHING_SCHEMA)

    kinds = {f.name: f.kind for f in form.fields}
    assert kinds == {
        "name": "text",
        "check": "boolean",
        "firstLine": "text",
        "email": "text",
        "homepage": "text",
        "birthdate": "text",
        "integer": "integer",
        "number": "number",
        "untitledSingleSelectEnum": "choice",
        "untitledMultipleSelectEnum": "multi",
        "titledSingleSelectEnum": "choice",
        "titledMultipleSelectEnum": "multi",
        "legacyTitledEnum": "choice",
    }
    assert [f.name for f in form.fields if f.required] == ["name"]
    assert form.field("email").format == "email"
    integer = form.field("integer")
    assert (integer.minimum, integer.maximum, integer.default) == (1, 100, 42)
    legacy = form.field("legacyTitledEnum")
    assert [(c.value, c.label) for c in legacy.choices][:2] == [("pet-1", "Cats"), ("pet-2", "Dogs")]
    fish = form.field("titledMultipleSelectEnum")
    assert [c.label for c in fish.choices] == ["Tuna", "Salmon", "Trout"]
    assert (fish.min_items, fish.max_items, fish.default) == (1, 3, ["fish-1"])
    assert all(f.secret is None for f in form.fields)  # "pin" in a description is prose, not a PIN


def test_parse_form_reads_what_the_python_sdk_renders_for_a_model() -> None:
    class Booking(BaseModel):
        guest: str = Field(min_length=2, max_length=40)
        nights: int = Field(default=1, ge=1, le=14)
        room: Literal["single", "double"] = "double"
        extras: list[Literal["breakfast", "parking"]] = Field(default_factory=list)
        price_cap: float | None = Field(default=None, gt=0)
        newsletter: bool = False

    form = parse_form(render_elicitation_schema(Booking))

    assert [(f.name, f.kind, f.required) for f in form.fields] == [
        ("guest", "text", True),
        ("nights", "integer", False),
        ("room", "choice", False),
        ("extras", "multi", False),
        ("price_cap", "number", False),
        ("newsletter", "boolean", False),
    ]
    assert form.field("guest").max_length == 40
    assert form.field("price_cap").exclusive_minimum == 0


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array"}, "must be of type 'object'"),
        (
            {"type": "object", "properties": {"a": {"type": "object"}}},
            "field 'a': type 'object' is not supported",
        ),
        ({"type": "object", "properties": {"a": {"description": "?"}}}, "field 'a' has no 'type'"),
        (
            {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}},
            "free-form lists",
        ),
        ({"type": "object", "properties": {"a": {"type": ["string", "null"]}}}, "is not supported"),
        ({"type": "object", "properties": {"a": {"type": "integer", "enum": [1, 2]}}}, "string fields only"),
        ({"type": "object", "properties": {"a": {"type": "string", "default": 3}}}, "not a string"),
        (
            {"type": "object", "properties": {"a": {"type": "string", "enum": ["x"], "default": "y"}}},
            "not one of",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "enum": ["x"], "enumNames": []}}},
            "enumNames",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "integer", "minimum": 5, "maximum": 1}}},
            "above maximum",
        ),
        ({"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}}, "not a valid regex"),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}, "'b' is not among"),
    ],
)
def test_parse_form_refuses_unsupported_shapes_with_a_clear_message(
    schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(FormSchemaError, match=message.replace("(", r"\(").replace("'", "'")):
        parse_form(schema)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [
        (text_field(format="email"), "ada@example.com", "ada@example.com"),
        (
            text_field(format="email"),
            "ada@example",
            Invalid("must be an email address like name@example.com"),
        ),
        (
            text_field(format="email"),
            "ada example.com",
            Invalid("must be an email address like name@example.com"),
        ),
        (text_field(format="uri"), "https://ada.example.org/x?y=1", "https://ada.example.org/x?y=1"),
        (text_field(format="uri"), "mailto:ada@example.com", "mailto:ada@example.com"),
        (
            text_field(format="uri"),
            "ada.example.org",
            Invalid("must be a full URI like https://example.com/page"),
        ),
        (text_field(format="uri"), "https://", Invalid("must be a full URI like https://example.com/page")),
        (text_field(format="date"), "1815-12-10", "1815-12-10"),
        (text_field(format="date"), "1815-02-30", Invalid("must be a date like 2024-05-31 (YYYY-MM-DD)")),
        (text_field(format="date"), "18151210", Invalid("must be a date like 2024-05-31 (YYYY-MM-DD)")),
        (text_field(format="date-time"), "2024-05-31T14:30:00Z", "2024-05-31T14:30:00Z"),
        (text_field(format="date-time"), "2024-05-31T14:30:00+02:00", "2024-05-31T14:30:00+02:00"),
        (
            text_field(format="date-time"),
            "2024-05-31T14:30:00",
            Invalid("must be a date and time with a time zone, like 2024-05-31T14:30:00Z"),
        ),
        (text_field(min_length=2, max_length=4), "a", Invalid("must be 2–4 characters (you typed 1)")),
        (text_field(min_length=2), "a", Invalid("must be at least 2 characters (you typed 1)")),
        (text_field(max_length=3), "abcd", Invalid("must be at most 3 characters (you typed 4)")),
        (text_field(pattern=r"^[A-Z]{3}$"), "EUR", "EUR"),
        (text_field(pattern=r"^[A-Z]{3}$"), "eur", Invalid("must match the pattern ^[A-Z]{3}$")),
    ],
)
def test_parse_text_checks_length_format_and_pattern(field: FormField, typed: str, expected: object) -> None:
    assert parse_text(field, typed) == expected


@pytest.mark.parametrize(
    ("kind", "bounds", "typed", "expected"),
    [
        ("integer", {"minimum": 1, "maximum": 10}, "7", 7),
        ("integer", {"minimum": 1, "maximum": 10}, "11", Invalid("must be between 1 and 10")),
        ("integer", {"minimum": 1, "maximum": 10}, "0", Invalid("must be between 1 and 10")),
        ("integer", {}, "3.5", Invalid("must be a whole number, like 42")),
        ("integer", {}, "4.0", 4),
        ("integer", {}, "-12", -12),
        ("integer", {}, "1,000", 1000),
        ("integer", {}, "seven", Invalid("must be a whole number, like 42")),
        ("number", {"minimum": 0}, "-0.5", Invalid("must be at least 0")),
        ("number", {"maximum": 1}, "2", Invalid("must be at most 1")),
        ("number", {"exclusive_minimum": 0}, "0", Invalid("must be more than 0")),
        ("number", {}, "3.14", 3.14),
        ("number", {}, "2", 2),
        ("number", {}, "1e3", 1000.0),
        ("number", {}, "nan", Invalid("must be a number, like 3.14")),
        ("number", {}, "1e999", Invalid("must be a finite number")),
    ],
)
def test_parse_number_checks_type_and_bounds(
    kind: Literal["integer", "number"], bounds: dict[str, Any], typed: str, expected: object
) -> None:
    assert parse_number(FormField(name="n", kind=kind, **bounds), typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("y", True), ("Yes", True), ("true", True), ("n", False), ("NO", False), ("0", False)],
)
def test_parse_boolean_takes_yes_and_no(typed: str, expected: bool) -> None:
    assert parse_boolean(typed) is expected


def test_parse_boolean_refuses_anything_else() -> None:
    assert parse_boolean("maybe") == Invalid("answer y (yes) or n (no)")


HEROES = parse_form(EVERYTHING_SCHEMA).field("titledSingleSelectEnum")
FISH = parse_form(EVERYTHING_SCHEMA).field("titledMultipleSelectEnum")


@pytest.mark.parametrize(
    ("typed", "expected"), [("2", "hero-2"), ("hero-3", "hero-3"), ("wonder woman", "hero-3")]
)
def test_parse_choice_takes_a_number_a_value_or_a_label(typed: str, expected: str) -> None:
    assert parse_choice(HEROES, typed) == expected


def test_parse_choice_lists_the_options_when_the_answer_is_none_of_them() -> None:
    assert parse_choice(HEROES, "4") == Invalid(
        "choose one of: 1) Superman, 2) Green Lantern, 3) Wonder Woman"
    )


def test_parse_choices_takes_comma_separated_numbers_and_values_once_each() -> None:
    assert parse_choices(FISH, "3, fish-1, 3") == ["fish-3", "fish-1"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1,2,3,1", None),
        (" , ", "choose 1–3 of: 1) Tuna, 2) Salmon, 3) Trout"),
        ("4", "'4' is not an option; choose 1–3 of: 1) Tuna, 2) Salmon, 3) Trout"),
    ],
)
def test_parse_choices_checks_options_and_count(typed: str, message: str | None) -> None:
    result = parse_choices(FISH, typed)
    assert result == (Invalid(message) if message else ["fish-1", "fish-2", "fish-3"])


def test_parse_choices_enforces_the_maximum() -> None:
    field = FormField(name="m", kind="multi", choices=FISH.choices, max_items=2)
    assert parse_choices(field, "1,2,3") == Invalid("choose up to 2 of: 1) Tuna, 2) Salmon, 3) Trout")


def test_an_empty_answer_keeps_the_default_or_leaves_an_optional_field_out() -> None:
    assert parse_answer(FormField(name="n", kind="integer", default=42), "  ") == 42
    assert parse_answer(FormField(name="n", kind="integer"), "") is OMITTED
    assert parse_answer(FormField(name="n", kind="integer", required=True), "") == Invalid(
        "required: please type a value"
    )


def test_a_secret_text_answer_is_kept_exactly_as_typed() -> None:
    secret = FormField(name="password", kind="text", secret="password")
    assert parse_answer(secret, " pass word ") == " pass word "
    assert parse_answer(text_field(), " Ada ") == "Ada"


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title", "description", "reason"),
    [
        ("password", None, None, "password"),
        ("apiKey", None, None, "api key"),
        ("OPENAI_API_KEY", None, None, "api key"),
        ("github", "Personal access token", None, "token"),
        ("pinCode", None, None, "pin"),
        ("card", "Card", "Your credit card number", "credit card"),
        ("ssn", None, None, "ssn"),
        ("unlock", "Passphrase", None, "passphrase"),
        ("integer", "Integer", "do not give us your phone number, pin, or other sensitive info", None),
        ("spinner", "Spinner speed", None, None),
        ("budget", "Budget", "How many tokens may the model use", None),
        ("name", "String", "Your full, legal name", None),
    ],
)
def test_secret_reason_flags_fields_that_look_like_secrets(
    name: str, title: str | None, description: str | None, reason: str | None
) -> None:
    assert secret_reason(name, title, description) == reason


# --- the runner, scripted --------------------------------------------------------------------

SMALL = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Your name", "minLength": 2},
        "age": {"type": "integer", "minimum": 1, "maximum": 130},
        "subscribe": {"type": "boolean", "default": True},
        "topics": {
            "type": "array",
            "items": {"type": "string", "enum": ["mcp", "rust", "python"]},
            "minItems": 1,
            "maxItems": 2,
        },
    },
    "required": ["name", "topics"],
}


async def test_run_form_accepts_defaults_and_leaves_empty_optional_fields_out() -> None:
    io = ScriptedFormIO(["Ada", "", "", "python", "a"])

    outcome = await run_form("Tell me about you", SMALL, server="profile", io=io)

    assert (outcome.action, outcome.content) == (
        "accept",
        {"name": "Ada", "subscribe": True, "topics": ["python"]},
    )
    assert "profile asks for input" in io.output
    assert "Tell me about you" in io.output
    assert "Ctrl-C cancels the request, Ctrl-D declines it." in io.output
    assert "a whole number between 1 and 130" in io.output
    assert "subscribe [Y/n]> " in io.output
    assert "age: (left out)" in io.output


async def test_run_form_reasks_with_the_reason_until_the_answer_is_valid() -> None:
    io = ScriptedFormIO(["", "A", "Ada", "200", "abc", "36", "maybe", "n", "mcp,rust,python", "mcp, 3", "a"])

    outcome = await run_form("", SMALL, server="profile", io=io)

    assert outcome.content == {"name": "Ada", "age": 36, "subscribe": False, "topics": ["mcp", "python"]}
    for reason in [
        "✗ required: please type a value. Please try again.",
        "✗ must be at least 2 characters (you typed 1)",
        "✗ must be between 1 and 130",
        "✗ must be a whole number, like 42",
        "✗ answer y (yes) or n (no)",
        "✗ choose 1–2 of: 1) mcp, 2) rust, 3) python",
    ]:
        assert reason in io.output
    assert [p for p, _ in io.prompts].count("name> ") == 3


async def test_run_form_edits_a_field_from_the_summary_and_keeps_the_current_answer_on_enter() -> None:
    io = ScriptedFormIO(["Ada", "36", "", "1", "e", "age", "37", "e 1", "", "edit", "9", "a"])

    outcome = await run_form("", SMALL, server="profile", io=io)

    assert outcome.content == {"name": "Ada", "age": 37, "subscribe": True, "topics": ["mcp"]}
    assert "age [36]> " in io.output
    assert "name [Ada]> " in io.output
    assert "✗ no field '9': type its number (1–4) or its name." in io.output
    assert io.output.count("Your answers for profile:") == 4


async def test_run_form_runs_the_whole_server_everything_form() -> None:
    io = ScriptedFormIO([*EVERYTHING_ANSWERS, "a"])

    outcome = await run_form("Please provide inputs", EVERYTHING_SCHEMA, server="everything", io=io)

    assert outcome.action == "accept"
    assert outcome.content == EVERYTHING_CONTENT
    assert "    3) Wonder Woman  (hero-3)" in io.output
    assert "titledSingleSelectEnum: Wonder Woman (hero-3)" in io.output


@pytest.mark.parametrize(("answer", "action"), [("d", "decline"), ("cancel", "cancel")])
async def test_run_form_declines_or_cancels_from_the_summary(answer: str, action: str) -> None:
    io = ScriptedFormIO(["Ada", "", "", "1", "x", answer])

    outcome = await run_form("", SMALL, server="profile", io=io)

    assert (outcome.action, outcome.content) == (action, None)
    assert "✗ type a (accept), e (edit), d (decline) or c (cancel)." in io.output
    assert "nothing was sent to profile" in io.output


@pytest.mark.parametrize(("key", "action"), [(CTRL_C, "cancel"), (CTRL_D, "decline")])
async def test_ctrl_c_cancels_and_ctrl_d_declines_in_the_middle_of_a_form(key: str, action: str) -> None:
    io = ScriptedFormIO(["Ada", key, "never read"])

    outcome = await run_form("", SMALL, server="profile", io=io)

    assert (outcome.action, outcome.content) == (action, None)
    assert io.remaining == ["never read"]


async def test_a_secret_field_is_flagged_asked_without_echo_and_hidden_in_the_summary() -> None:
    schema = {
        "type": "object",
        "properties": {"user": {"type": "string"}, "apiToken": {"type": "string", "title": "API token"}},
        "required": ["user", "apiToken"],
    }
    io = ScriptedFormIO(["ada", "tok-123", "a"])

    outcome = await run_form("Log in", schema, server="deploy", io=io)

    assert outcome.content == {"user": "ada", "apiToken": "tok-123"}
    assert io.prompts[:2] == [("user> ", False), ("apiToken> ", True)]
    assert "⚠ this looks like a secret (api token)" not in io.output
    assert "⚠ this looks like a secret (token)" in io.output
    assert "tok-123" not in io.output
    assert "apiToken: •••••••• (hidden)" in io.output


async def test_server_text_is_stripped_of_terminal_escape_sequences() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "string", "description": "\x1b]0;pwned\x07hi"}}}
    io = ScriptedFormIO(["", "a"])

    await run_form("\x1b[2Jwelcome", schema, server="evil\x1b[31m", io=io)

    assert "\x1b" not in io.output
    assert "welcome" in io.output
    assert "]0;pwnedhi" in io.output


class WaitingIO(ScriptedFormIO):
    """Answers nothing: every prompt waits until the test cancels it."""

    def __init__(self) -> None:
        super().__init__([])
        self.asking = anyio.Event()

    async def ask(self, prompt: str, *, secret: bool = False) -> str:
        self.lines.append(prompt)
        self.asking.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


@pytest.mark.parametrize("mode", ["form", "url"])
async def test_a_request_withdrawn_by_the_server_tells_the_person_and_stops_asking(mode: str) -> None:
    io = WaitingIO()

    async def ask() -> None:
        if mode == "form":
            await run_form("", SMALL, server="slow", io=io)
        else:
            await run_url_request("", "https://example.com", server="slow", io=io)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            await io.asking.wait()
            tg.cancel_scope.cancel()

    assert io.lines[-1] == "\nslow withdrew its request (cancelled or timed out); nothing was sent."


# --- URL mode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "action"), [([""], "accept"), (["?", "d"], "decline"), (["c"], "cancel")]
)
async def test_run_url_request_shows_the_link_and_waits_for_the_person(
    answers: list[str], action: str
) -> None:
    io = ScriptedFormIO(answers)

    outcome = await run_url_request(
        "Authorize GitHub", "https://github.com/login/oauth?x=1", server="repos", io=io
    )

    assert (outcome.action, outcome.content) == (action, None)
    assert "repos asks you to open a link" in io.output
    assert "  https://github.com/login/oauth?x=1" in io.output
    assert "domain: github.com" in io.output


async def test_run_url_request_warns_about_a_plain_http_link_and_ctrl_d_declines() -> None:
    io = ScriptedFormIO([CTRL_D])

    outcome = await run_url_request("", "http://example.com/pay", server="shop", io=io)

    assert outcome.action == "decline"
    assert "not https" in io.output


# --- without a terminal ----------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "said"), [("decline", "declined"), ("cancel", "cancelled")])
def test_without_a_terminal_the_policy_declines_or_cancels_and_says_why(
    policy: Literal["decline", "cancel"], said: str
) -> None:
    outcome = elicit_without_terminal(SMALL, policy)

    assert (outcome.action, outcome.content) == (policy, None)
    assert outcome.reason is not None
    assert outcome.reason.startswith(f"{said}: no terminal to ask the person")
    assert "FOLIO_ELICITATION_POLICY" in outcome.reason


def test_without_a_terminal_the_defaults_policy_accepts_when_every_required_field_has_a_default() -> None:
    schema = {**EVERYTHING_SCHEMA, "required": ["firstLine", "integer"]}

    outcome = elicit_without_terminal(schema, "defaults")

    assert outcome.action == "accept"
    assert outcome.content == {
        "firstLine": "It was a dark and stormy night.",
        "integer": 42,
        "number": 3.14,
        "untitledSingleSelectEnum": "Monica",
        "untitledMultipleSelectEnum": ["Guitar"],
        "titledSingleSelectEnum": "hero-1",
        "titledMultipleSelectEnum": ["fish-1"],
        "legacyTitledEnum": "pet-1",
    }


def test_without_a_terminal_the_defaults_policy_declines_when_a_required_field_has_none() -> None:
    outcome = elicit_without_terminal(EVERYTHING_SCHEMA, "defaults")

    assert outcome.action == "decline"
    assert (
        outcome.reason == "declined: no terminal to ask the person, and required field 'name' has no default"
    )


def test_policy_from_env_defaults_to_decline_and_names_the_allowed_values() -> None:
    assert policy_from_env({}) == "decline"
    assert policy_from_env({"FOLIO_ELICITATION_POLICY": " Defaults "}) == "defaults"
    with pytest.raises(ValueError, match="'accept' is not one of: decline, cancel, defaults"):
        policy_from_env({"FOLIO_ELICITATION_POLICY": "accept"})


# --- handle_elicitation ----------------------------------------------------------------------


def form_params(schema: dict[str, Any], message: str = "Please fill in") -> types.ElicitRequestFormParams:
    return types.ElicitRequestFormParams(message=message, requested_schema=schema)


async def test_handle_elicitation_without_a_terminal_declines_with_the_reason_in_meta() -> None:
    result = await handle_elicitation(
        form_params(SMALL), server="profile", io=None, interactive=False, policy="decline"
    )

    assert (result.action, result.content) == ("decline", None)
    assert result.meta is not None
    assert "no terminal to ask the person" in result.meta[REASON_META_KEY]


async def test_handle_elicitation_declines_a_schema_it_cannot_show_and_tells_the_person() -> None:
    io = ScriptedFormIO([])
    schema = {"type": "object", "properties": {"address": {"type": "object"}}}

    result = await handle_elicitation(
        form_params(schema), server="crm", io=io, interactive=True, policy="decline"
    )

    assert result.action == "decline"
    assert result.meta is not None
    assert "type 'object' is not supported" in result.meta[REASON_META_KEY]
    assert "crm asked for input with a form Folio cannot show; declined" in io.output


async def test_handle_elicitation_relays_a_form_and_a_url_request() -> None:
    io = ScriptedFormIO(["Ada", "", "", "2", "a", ""])

    form = await handle_elicitation(
        form_params(SMALL), server="profile", io=io, interactive=True, policy="decline"
    )
    url = await handle_elicitation(
        types.ElicitRequestURLParams(message="Sign in", url="https://example.com/sso", elicitation_id="e1"),
        server="sso",
        io=io,
        interactive=True,
        policy="decline",
    )
    url_unattended = await handle_elicitation(
        types.ElicitRequestURLParams(message="Sign in", url="https://example.com/sso", elicitation_id="e2"),
        server="sso",
        io=None,
        interactive=False,
        policy="cancel",
    )

    assert (form.action, form.content, form.meta) == (
        "accept",
        {"name": "Ada", "subscribe": True, "topics": ["rust"]},
        None,
    )
    assert (url.action, url.content) == ("accept", None)
    assert url_unattended.action == "cancel"


async def test_forms_from_two_servers_asking_at_once_are_shown_one_after_the_other() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    io = ScriptedFormIO(["1", "2", "a", "3", "4", "a"])
    results: dict[str, types.ElicitResult] = {}

    async def ask(server: str) -> None:
        results[server] = await handle_elicitation(
            form_params(schema), server=server, io=io, interactive=True, policy="decline"
        )

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(ask, "first")
            tg.start_soon(ask, "second")

    assert sorted(str(r.content["a"]) for r in results.values() if r.content) == ["1", "3"]
    assert {r.content["b"] for r in results.values() if r.content} == {"2", "4"}
    assert [p for p, _ in io.prompts] == ["a> ", "b> ", "send? [a/e/d/c]> "] * 2


async def test_ctrl_c_at_one_form_stops_the_turn_and_dismisses_the_forms_waiting_behind_it() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    console = Console()
    io = ScriptedFormIO([CTRL_C], console=console)  # only one answer: a second form would run out
    stopped: list[str] = []
    results: dict[str, types.ElicitResult] = {}

    async def ask(server: str) -> None:
        results[server] = await handle_elicitation(
            form_params(schema), server=server, io=io, interactive=True, policy="decline"
        )

    with console.on_interrupt(lambda: stopped.append("turn")), anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(ask, "first")
            tg.start_soon(ask, "second")

    assert stopped == ["turn"]
    assert [p for p, _ in io.prompts] == ["a> "]  # the second form was never shown
    assert results["first"].action == "cancel" and results["second"].action == "cancel"
    assert results["second"].meta is not None
    assert "stopped the turn" in results["second"].meta[REASON_META_KEY]
    # later questions (a new turn) are asked again
    later = ScriptedFormIO(["x", "a"], console=console)
    again = await handle_elicitation(
        form_params(schema), server="third", io=later, interactive=True, policy="decline"
    )
    assert again.action == "accept" and again.content == {"a": "x"}


# --- a real terminal (pseudo-terminal, prompt_toolkit) ---------------------------------------


def spawn_form(
    tmp_path: Path, schema: dict[str, Any], message: str = "Please provide inputs"
) -> pexpect.spawn:
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps({"server": "everything", "message": message, "schema": schema}), encoding="utf-8"
    )
    env = {**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}
    return pexpect.spawn(
        sys.executable,
        [str(HELPER), str(request)],
        env=env,
        encoding="utf-8",
        timeout=15,
        dimensions=(50, 200),
    )


def read_outcome(child: pexpect.spawn) -> dict[str, Any]:
    child.expect(r"OUTCOME (\{.*\})\r?\n")
    outcome: dict[str, Any] = json.loads(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    return outcome


@pytest.mark.slow
def test_a_real_terminal_form_is_filled_in_corrected_edited_and_accepted(tmp_path: Path) -> None:
    child = spawn_form(tmp_path, EVERYTHING_SCHEMA)
    try:
        child.expect_exact("everything asks for input")
        child.expect_exact("name>")
        child.sendline("")
        child.expect_exact("required: please type a value")
        child.expect_exact("name>")
        child.sendline("Ada Lovelace")
        prompts = [
            "check>",
            "firstLine [It was a dark and storm…]>",
            "email>",
            "homepage>",
            "birthdate>",
            "integer [42]>",
            "number [3.14]>",
            "untitledSingleSelectEnum [Monica]>",
            "untitledMultipleSelectEnum [Guitar]>",
            "titledSingleSelectEnum [Superman (hero-1)]>",
            "titledMultipleSelectEnum [Tuna (fish-1)]>",
            "legacyTitledEnum [Cats (pet-1)]>",
        ]
        for prompt, answer in zip(prompts, EVERYTHING_ANSWERS[1:], strict=True):
            child.expect_exact(prompt)
            if prompt == "email>":
                child.sendline("ada at example")
                child.expect_exact("must be an email address like name@example.com")
                child.expect_exact(prompt)
            if prompt == "integer [42]>":
                child.sendline("500")
                child.expect_exact("must be between 1 and 100")
                child.expect_exact(prompt)
            child.sendline(answer)
        child.expect_exact("send? [a/e/d/c]>")
        child.sendline("e check")
        child.expect_exact("check [Y/n]>")
        child.sendline("n")
        child.expect_exact("check: no")
        child.expect_exact("send? [a/e/d/c]>")
        child.sendline("a")

        outcome = read_outcome(child)
    finally:
        child.close(force=True)

    assert outcome == {"action": "accept", "content": {**EVERYTHING_CONTENT, "check": False}}


@pytest.mark.slow
def test_a_real_terminal_hides_a_secret_as_it_is_typed_and_ctrl_c_cancels(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"password": {"type": "string"}, "remember": {"type": "boolean"}},
        "required": ["password"],
    }
    child = spawn_form(tmp_path, schema, message="Unlock the vault")
    try:
        child.expect_exact("this looks like a secret (password)")
        child.expect_exact("password>")
        child.sendline("hunter2")
        child.expect_exact("remember>")
        typed_so_far = child.before
        child.sendcontrol("c")
        outcome = read_outcome(child)
    finally:
        child.close(force=True)

    assert "*******" in typed_so_far
    assert "hunter2" not in typed_so_far
    assert outcome == {"action": "cancel", "content": None}


# --- end to end: @modelcontextprotocol/server-everything over stdio --------------------------


@pytest.mark.slow
@pytest.mark.skipif(not EVERYTHING_BIN.exists(), reason="npm kit not installed (tests/interop: npm ci)")
async def test_server_everything_receives_what_was_typed_into_its_form_and_its_link() -> None:
    io = ScriptedFormIO([*EVERYTHING_ANSWERS, "e 7", "99", "a", ""])
    on_elicit = elicitation_callback("everything", io=io, interactive=True, policy="decline")

    server = StdioServerParameters(command=str(EVERYTHING_BIN), args=["stdio"])
    with anyio.fail_after(60):
        async with Client(server, mode="legacy", elicitation_callback=on_elicit) as client:
            form = await client.call_tool("trigger-elicitation-request", {})
            link = await client.call_tool("trigger-url-elicitation", {"url": "https://example.com/authorize"})

    form_text = "\n".join(c.text for c in form.content if isinstance(c, types.TextContent))
    for line in [
        "✅ User provided the requested information!",
        "- Name: Ada Lovelace",
        "- Agreed to terms: true",
        "- Email: ada@example.com",
        "- Homepage: https://ada.example.org",
        "- Birthdate: 1815-12-10",
        "- Favorite Integer: 99",
        "- Favorite Number: 3.14",
    ]:
        assert line in form_text
    assert '"titledMultipleSelectEnum": [\n      "fish-2",\n      "fish-3"\n    ]' in form_text
    link_text = "\n".join(c.text for c in link.content if isinstance(c, types.TextContent))
    assert "✅ User completed the URL elicitation flow." in link_text
    assert "everything asks for input" in io.output
    assert "everything asks you to open a link" in io.output
    assert "  https://example.com/authorize" in io.output
    assert not io.remaining

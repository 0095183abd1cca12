"""The MCP elicitation schema (``PrimitiveSchemaDefinition``) parsed into form fields.

The wire shape is a restricted JSON Schema: an object whose ``properties`` are flat strings
(optionally with a format), numbers and integers with bounds, booleans, single choices
(``enum`` with optional legacy ``enumNames``, or ``oneOf`` of ``{const, title}``) and multiple
choices (``array`` whose ``items`` carry ``enum`` or ``anyOf`` of ``{const, title}``).
Anything else is refused with :class:`FormSchemaError`, whose message says what and where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from folio_orchestrator.errors import FolioHostError

FormValue = str | int | float | bool | list[str]
"""A JSON value a form field can produce (what goes into ``ElicitResult.content``)."""

FieldKind = Literal["text", "integer", "number", "boolean", "choice", "multi"]
TextFormat = Literal["email", "uri", "date", "date-time"]
KNOWN_FORMATS: tuple[TextFormat, ...] = ("email", "uri", "date", "date-time")


class FormSchemaError(FolioHostError):
    """The requested schema has a shape a terminal form cannot ask for."""


@dataclass(frozen=True)
class Choice:
    """One option of a single or multiple choice: the value sent back and the label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One field of a form. Only the attributes that fit ``kind`` are set."""

    name: str
    kind: FieldKind
    title: str | None = None
    description: str | None = None
    required: bool = False
    default: FormValue | None = None
    # text
    format: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    # integer / number
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    # choice / multi
    choices: tuple[Choice, ...] = ()
    min_items: int | None = None
    max_items: int | None = None
    # a field that looks like a password, token, card number…: flagged, and typed without echo
    secret: str | None = None

    @property
    def label(self) -> str:
        return self.title or self.name


@dataclass(frozen=True)
class Form:
    """The fields of an elicitation form, in the order the server listed them."""

    fields: tuple[FormField, ...]
    title: str | None = None

    def field(self, name: str) -> FormField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def parse_form(schema: Mapping[str, Any]) -> Form:
    """Parse an elicitation ``requested_schema``; raise :class:`FormSchemaError` if unsupported."""
    if not isinstance(schema, Mapping):
        raise FormSchemaError("the requested schema is not a JSON object")
    kind = schema.get("type", "object")
    if kind != "object":
        raise FormSchemaError(f"the requested schema must be of type 'object', not {kind!r}")
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        raise FormSchemaError("the requested schema's 'properties' is not an object")
    required = schema.get("required", [])
    if not _is_str_list(required):
        raise FormSchemaError("the requested schema's 'required' is not a list of field names")
    unknown = [name for name in required if name not in properties]
    if unknown:
        raise FormSchemaError(f"required field {unknown[0]!r} is not among the schema's properties")
    fields = tuple(
        _parse_field(str(name), prop, required=name in required) for name, prop in properties.items()
    )
    title = schema.get("title")
    return Form(fields=fields, title=title if isinstance(title, str) else None)


def _parse_field(name: str, prop: Any, *, required: bool) -> FormField:
    if not isinstance(prop, Mapping):
        raise FormSchemaError(f"field {name!r}: its schema is not a JSON object")
    common: dict[str, Any] = {
        "name": name,
        "required": required,
        "title": _opt_str(name, prop, "title"),
        "description": _opt_str(name, prop, "description"),
    }
    common["secret"] = secret_reason(name, common["title"], common["description"])
    kind = prop.get("type")
    if kind is None and ("enum" in prop or "oneOf" in prop):
        kind = "string"
    if kind == "string":
        if "enum" in prop or "oneOf" in prop:
            return _parse_choice(prop, common)
        return _parse_text(prop, common)
    if kind in ("integer", "number"):
        return _parse_number(prop, common, integer=kind == "integer")
    if kind == "boolean":
        default = prop.get("default")
        if default is not None and not isinstance(default, bool):
            raise FormSchemaError(f"field {name!r}: default {default!r} is not true or false")
        return FormField(kind="boolean", default=default, **common)
    if kind == "array":
        return _parse_multi(prop, common)
    if kind is None:
        raise FormSchemaError(f"field {name!r} has no 'type'")
    raise FormSchemaError(
        f"field {name!r}: type {kind!r} is not supported in a form "
        "(only string, number, integer, boolean, and string choices)"
    )


def _parse_text(prop: Mapping[str, Any], common: dict[str, Any]) -> FormField:
    name = common["name"]
    fmt = _opt_str(name, prop, "format")
    min_length = _opt_count(name, prop, "minLength")
    max_length = _opt_count(name, prop, "maxLength")
    if min_length is not None and max_length is not None and min_length > max_length:
        raise FormSchemaError(f"field {name!r}: minLength {min_length} is above maxLength {max_length}")
    pattern = _opt_str(name, prop, "pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as e:
            raise FormSchemaError(f"field {name!r}: pattern {pattern!r} is not a valid regex ({e})") from None
    default = prop.get("default")
    if default is not None and not isinstance(default, str):
        raise FormSchemaError(f"field {name!r}: default {default!r} is not a string")
    return FormField(
        kind="text",
        format=fmt,
        min_length=min_length,
        max_length=max_length,
        pattern=pattern,
        default=default,
        **common,
    )


def _parse_number(prop: Mapping[str, Any], common: dict[str, Any], *, integer: bool) -> FormField:
    name = common["name"]
    if "enum" in prop or "oneOf" in prop:
        raise FormSchemaError(f"field {name!r}: choices are supported on string fields only")
    bounds = {key: _opt_number(name, prop, key) for key in ("minimum", "maximum")}
    exclusive = {key: _opt_number(name, prop, key) for key in ("exclusiveMinimum", "exclusiveMaximum")}
    low, high = bounds["minimum"], bounds["maximum"]
    if low is not None and high is not None and low > high:
        raise FormSchemaError(f"field {name!r}: minimum {low:g} is above maximum {high:g}")
    default = prop.get("default")
    if default is not None:
        if isinstance(default, bool) or not isinstance(default, int | float):
            raise FormSchemaError(f"field {name!r}: default {default!r} is not a number")
        if integer and default != int(default):
            raise FormSchemaError(f"field {name!r}: default {default!r} is not a whole number")
        if integer:
            default = int(default)
    return FormField(
        kind="integer" if integer else "number",
        minimum=low,
        maximum=high,
        exclusive_minimum=exclusive["exclusiveMinimum"],
        exclusive_maximum=exclusive["exclusiveMaximum"],
        default=default,
        **common,
    )


def _parse_choice(prop: Mapping[str, Any], common: dict[str, Any]) -> FormField:
    name = common["name"]
    if "enum" in prop:
        choices = _enum_choices(name, prop["enum"], prop.get("enumNames"))
    else:
        choices = _titled_choices(name, prop["oneOf"], "oneOf")
    default = prop.get("default")
    if default is not None and default not in {c.value for c in choices}:
        raise FormSchemaError(f"field {name!r}: default {default!r} is not one of its choices")
    return FormField(kind="choice", choices=choices, default=default, **common)


def _parse_multi(prop: Mapping[str, Any], common: dict[str, Any]) -> FormField:
    name = common["name"]
    items = prop.get("items")
    if not isinstance(items, Mapping):
        raise FormSchemaError(f"field {name!r}: an array needs 'items' with 'enum' or 'anyOf' choices")
    if "enum" in items:
        choices = _enum_choices(name, items["enum"], items.get("enumNames"))
    elif "anyOf" in items or "oneOf" in items:
        key = "anyOf" if "anyOf" in items else "oneOf"
        choices = _titled_choices(name, items[key], f"items.{key}")
    else:
        raise FormSchemaError(
            f"field {name!r}: free-form lists are not supported; the items need 'enum' or 'anyOf' choices"
        )
    min_items = _opt_count(name, prop, "minItems")
    max_items = _opt_count(name, prop, "maxItems")
    if min_items is not None and max_items is not None and min_items > max_items:
        raise FormSchemaError(f"field {name!r}: minItems {min_items} is above maxItems {max_items}")
    default = prop.get("default")
    if default is not None:
        values = {c.value for c in choices}
        if not _is_str_list(default) or not set(default) <= values:
            raise FormSchemaError(f"field {name!r}: default {default!r} is not a list of its choices")
        default = list(default)
    return FormField(
        kind="multi", choices=choices, min_items=min_items, max_items=max_items, default=default, **common
    )


def _enum_choices(name: str, enum: Any, names: Any) -> tuple[Choice, ...]:
    if not _is_str_list(enum) or not enum:
        raise FormSchemaError(f"field {name!r}: 'enum' must be a non-empty list of strings")
    if names is None:
        return tuple(Choice(v, v) for v in enum)
    if not _is_str_list(names) or len(names) != len(enum):
        raise FormSchemaError(f"field {name!r}: 'enumNames' must list one string per 'enum' value")
    return tuple(Choice(v, label) for v, label in zip(enum, names, strict=True))


def _titled_choices(name: str, options: Any, key: str) -> tuple[Choice, ...]:
    if not isinstance(options, Sequence) or isinstance(options, str) or not options:
        raise FormSchemaError(f"field {name!r}: {key!r} must be a non-empty list of {{const, title}}")
    choices = []
    for option in options:
        value = option.get("const") if isinstance(option, Mapping) else None
        if not isinstance(value, str):
            raise FormSchemaError(f"field {name!r}: each {key!r} option needs a string 'const'")
        label = option.get("title")
        choices.append(Choice(value, label if isinstance(label, str) else value))
    return tuple(choices)


def _opt_str(name: str, prop: Mapping[str, Any], key: str) -> str | None:
    value = prop.get(key)
    if value is not None and not isinstance(value, str):
        raise FormSchemaError(f"field {name!r}: {key!r} is not a string")
    return value


def _opt_count(name: str, prop: Mapping[str, Any], key: str) -> int | None:
    value = prop.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise FormSchemaError(f"field {name!r}: {key!r} must be a whole number ≥ 0, not {value!r}")
    return value


def _opt_number(name: str, prop: Mapping[str, Any], key: str) -> float | None:
    value = prop.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise FormSchemaError(f"field {name!r}: {key!r} must be a number, not {value!r}")
    return value


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# --- secrets ---------------------------------------------------------------------------------

# Words that mark a secret wherever they appear (name, title or description).
_STRONG = re.compile(
    r"\b(password|passwd|passphrase|pass phrase|secret|token|api key|apikey|access key|private key"
    r"|credit card|card number|cvv|cvc|security code|ssn|social security)\b"
)
# Short words that mean a secret in a field's name or title, but too often appear in prose
# ("do not give us your pin") to be trusted in a description.
_WEAK = re.compile(r"\b(pin|pwd|otp|passcode|mfa code|2fa code|totp)\b")


def _words(text: str) -> str:
    """``"userAPIKey"`` → ``"user api key"``; ``"api_key"`` → ``"api key"``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def secret_reason(name: str, title: str | None = None, description: str | None = None) -> str | None:
    """The word that makes a field look like a secret (``"password"``, ``"api key"``…), or None."""
    short = " ".join(_words(t) for t in (name, title) if t)
    prose = " ".join(_words(t) for t in (name, title, description) if t)
    match = _STRONG.search(prose) or _WEAK.search(short)
    return match.group(1) if match else None

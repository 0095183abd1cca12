"""The interactive form: ask each field, re-ask on invalid input, then accept / edit / decline / cancel."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio

from folio_orchestrator.forms._io import FormAborted, FormIO, TerminalFormIO, clean
from folio_orchestrator.forms._schema import Form, FormField, FormValue, parse_form
from folio_orchestrator.forms._values import OMITTED, Invalid, parse_answer, show_value, type_hint

Action = Literal["accept", "decline", "cancel"]

KEYS_HELP = "Ctrl-C cancels the request, Ctrl-D declines it."


@dataclass(frozen=True)
class FormOutcome:
    """What became of an elicitation: the action, the content (accept, form mode), and why.

    ``reason`` is set when the orchestrator decided on the person's behalf (no terminal, a
    schema it cannot show), and says so in words meant for the person and the server.
    """

    action: Action
    content: dict[str, FormValue] | None = None
    reason: str | None = None


async def run_form(
    message: str, schema: Mapping[str, Any], *, server: str, io: FormIO | None = None
) -> FormOutcome:
    """Ask the person to fill in the form ``schema`` requested by ``server``.

    Raises :class:`~folio_orchestrator.forms.FormSchemaError` (before showing anything) if the
    schema has a shape a form cannot ask for.
    """
    form = parse_form(schema)
    io = io if io is not None else TerminalFormIO()
    try:
        return await _FormRun(form, io).run(message, server=clean(server))
    except FormAborted as e:
        io.write(
            f"{'Cancelled' if e.action == 'cancel' else 'Declined'}: nothing was sent to {clean(server)}."
        )
        return FormOutcome(e.action)
    except anyio.get_cancelled_exc_class():
        _withdrawn(io, server)
        raise


async def run_url_request(message: str, url: str, *, server: str, io: FormIO | None = None) -> FormOutcome:
    """Show the URL a server asks the person to open and wait until they are done.

    Enter = done (accept), ``d`` = decline, ``c`` = cancel (Ctrl-C / Ctrl-D likewise). The URL is
    only shown, never opened: the person checks the domain and opens it themselves.
    """
    io = io if io is not None else TerminalFormIO()
    shown = clean(url)
    io.write(f"\n── {clean(server)} asks you to open a link ──")
    if message:
        io.write(clean(message))
    io.write(f"  {shown}")
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if host:
        io.write(f"  domain: {clean(host)}  (check it before you enter anything there)")
    if not url.lower().startswith("https://"):
        io.write("  ⚠ this link is not https: whatever you send there can be read on the way")
    io.write(f"Open it in your browser. Press Enter when you are done; d declines, c cancels. {KEYS_HELP}")
    try:
        while True:
            answer = (await io.ask("done? [Enter/d/c]> ")).strip().lower()
            if answer in ("", "done", "ok", "y", "yes"):
                return FormOutcome("accept")
            if answer in ("d", "decline", "n", "no"):
                return FormOutcome("decline")
            if answer in ("c", "cancel"):
                return FormOutcome("cancel")
            io.write("  Press Enter when you are done, or type d (decline) or c (cancel).")
    except FormAborted as e:
        return FormOutcome(e.action)
    except anyio.get_cancelled_exc_class():
        _withdrawn(io, server)
        raise


def _withdrawn(io: FormIO, server: str) -> None:
    io.write(f"\n{clean(server)} withdrew its request (cancelled or timed out); nothing was sent.")


class _FormRun:
    def __init__(self, form: Form, io: FormIO) -> None:
        self.form = form
        self.io = io
        self.answers: dict[str, FormValue] = {}

    async def run(self, message: str, *, server: str) -> FormOutcome:
        fields = self.form.fields
        required = sum(f.required for f in fields)
        self.io.write(f"\n── {server} asks for input ──")
        if message:
            self.io.write(clean(message))
        self.io.write(
            f"{len(fields)} field{'s' if len(fields) != 1 else ''}, {required} required. "
            f"Enter keeps the [default]; an optional field left empty is not sent. {KEYS_HELP}"
        )
        for i, f in enumerate(fields, 1):
            await self.ask_field(f, f"({i}/{len(fields)}) ")
        return await self.review(server)

    async def ask_field(self, field: FormField, counter: str = "") -> None:
        if field.name in self.answers:  # editing: Enter keeps the current answer
            field = dataclasses.replace(field, default=self.answers[field.name])
        self.show_field(field, counter)
        while True:
            answer = parse_answer(
                field, await self.io.ask(self.prompt(field), secret=field.secret is not None)
            )
            if isinstance(answer, Invalid):
                self.io.write(f"  ✗ {answer.message}. Please try again.")
                continue
            if answer is OMITTED:
                self.answers.pop(field.name, None)
            else:
                self.answers[field.name] = answer
            return

    def show_field(self, field: FormField, counter: str) -> None:
        heading = clean(field.name)
        if field.title and field.title != field.name:
            heading = f"{clean(field.title)} ({heading})"
        self.io.write(f"\n{counter}{heading}{', required' if field.required else ''}")
        if field.description:
            self.io.write(f"  {clean(field.description)}")
        if field.secret is not None:
            self.io.write(
                f"  ⚠ this looks like a secret ({field.secret}). Servers should not ask for secrets in a "
                "form; only answer if you trust this server. What you type will not be shown."
            )
        self.io.write(f"  {type_hint(field)}")
        for n, choice in enumerate(field.choices, 1):
            extra = f"  ({clean(choice.value)})" if choice.label != choice.value else ""
            self.io.write(f"    {n}) {clean(choice.label)}{extra}")
        if field.default is not None:
            self.io.write(f"  default: {clean(show_value(field, field.default))} (Enter keeps it)")
        elif not field.required:
            self.io.write("  optional: Enter leaves it out")

    @staticmethod
    def prompt(field: FormField) -> str:
        if field.default is None:
            return f"{clean(field.name)}> "
        if field.kind == "boolean":
            shown = "Y/n" if field.default else "y/N"
        elif field.secret is not None:
            shown = "hidden"
        else:
            shown = clean(show_value(field, field.default))
            shown = shown if len(shown) <= 24 else shown[:23] + "…"
        return f"{clean(field.name)} [{shown}]> "

    async def review(self, server: str) -> FormOutcome:
        fields = self.form.fields
        while True:
            self.io.write(f"\nYour answers for {server}:")
            for n, f in enumerate(fields, 1):
                value = self.answers.get(f.name)
                shown = "(left out)" if value is None else clean(show_value(f, value))
                self.io.write(f"  {n:>2}. {clean(f.name)}: {shown}")
            self.io.write("a = accept and send, e = edit a field, d = decline, c = cancel")
            choice = (await self.io.ask("send? [a/e/d/c]> ")).strip()
            word, _, rest = choice.partition(" ")
            word = word.lower()
            if word in ("a", "accept"):
                return FormOutcome("accept", dict(self.answers))
            if word in ("d", "decline"):
                self.io.write(f"Declined: nothing was sent to {server}.")
                return FormOutcome("decline")
            if word in ("c", "cancel"):
                self.io.write(f"Cancelled: nothing was sent to {server}.")
                return FormOutcome("cancel")
            if word in ("e", "edit"):
                target = rest.strip() or (await self.io.ask("edit which field? (number or name)> ")).strip()
                field = self._find(target)
                if field is None:
                    if target:
                        self.io.write(
                            f"  ✗ no field {target!r}: type its number (1–{len(fields)}) or its name."
                        )
                    continue
                await self.ask_field(field)
                continue
            self.io.write("  ✗ type a (accept), e (edit), d (decline) or c (cancel).")

    def _find(self, target: str) -> FormField | None:
        fields = self.form.fields
        if target.isdigit() and 1 <= int(target) <= len(fields):
            return fields[int(target) - 1]
        for f in fields:
            if target in (f.name, f.title):
                return f
        return None

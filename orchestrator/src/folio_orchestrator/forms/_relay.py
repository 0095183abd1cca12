"""The elicitation callback: a server's ``elicitation/create`` → a form, a link, or the no-terminal policy."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any, Literal

import mcp.types as types
from mcp.client.context import ClientRequestContext
from mcp.client.session import ElicitationFnT

from folio_orchestrator.forms._io import FormIO, TerminalFormIO, clean
from folio_orchestrator.forms._runner import FormOutcome, run_form, run_url_request
from folio_orchestrator.forms._schema import FormSchemaError, FormValue, parse_form
from folio_orchestrator.ui.console import QuestionDismissed

NoTerminalPolicy = Literal["decline", "cancel", "defaults"]
"""What to answer when nobody can be asked: decline, cancel, or accept the schema's defaults
(only if every required field has one; otherwise decline)."""

POLICY_ENV = "FOLIO_ELICITATION_POLICY"
REASON_META_KEY = "folio/reason"
"""``_meta`` key of an ``ElicitResult`` that the orchestrator decided without the person."""


def policy_from_env(environ: Mapping[str, str] | None = None) -> NoTerminalPolicy:
    """``$FOLIO_ELICITATION_POLICY`` (default ``decline``); ``ValueError`` names the allowed values."""
    value = (os.environ if environ is None else environ).get(POLICY_ENV, "").strip().lower() or "decline"
    policies: dict[str, NoTerminalPolicy] = {"decline": "decline", "cancel": "cancel", "defaults": "defaults"}
    if value not in policies:
        raise ValueError(f"{POLICY_ENV}={value!r} is not one of: {', '.join(policies)}")
    return policies[value]


def terminal_available() -> bool:
    """True when a person can be asked: stdin and stderr (where forms are drawn) are terminals."""
    return sys.stdin is not None and sys.stdin.isatty() and sys.stderr is not None and sys.stderr.isatty()


def elicit_without_terminal(schema: Mapping[str, Any], policy: NoTerminalPolicy) -> FormOutcome:
    """Answer a form request when nobody can be asked, and say why in ``reason``."""
    hint = f"set {POLICY_ENV}=decline|cancel|defaults, or run in a terminal"
    if policy == "cancel":
        return FormOutcome("cancel", reason=f"cancelled: no terminal to ask the person ({hint})")
    if policy == "decline":
        return FormOutcome("decline", reason=f"declined: no terminal to ask the person ({hint})")
    try:
        form = parse_form(schema)
    except FormSchemaError as e:
        return FormOutcome("decline", reason=f"declined: {e}")
    missing = [f.name for f in form.fields if f.required and f.default is None]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        return FormOutcome(
            "decline",
            reason=f"declined: no terminal to ask the person, and required field {names} has no default",
        )
    content: dict[str, FormValue] = {f.name: f.default for f in form.fields if f.default is not None}
    return FormOutcome(
        "accept", content, reason=f"accepted the defaults: no terminal to ask the person ({hint})"
    )


def url_without_terminal(policy: NoTerminalPolicy) -> FormOutcome:
    """A URL request when nobody can be asked: cancelled if the policy says so, else declined."""
    hint = f"set {POLICY_ENV}, or run in a terminal"
    if policy == "cancel":
        return FormOutcome("cancel", reason=f"cancelled: no terminal to show the link to the person ({hint})")
    return FormOutcome("decline", reason=f"declined: no terminal to show the link to the person ({hint})")


async def handle_elicitation(
    params: types.ElicitRequestParams,
    *,
    server: str,
    io: FormIO | None,
    interactive: bool,
    policy: NoTerminalPolicy,
) -> types.ElicitResult:
    """Answer one ``elicitation/create`` from ``server``: ask the person, or apply ``policy``.

    :func:`elicitation_callback` wraps it for ``Client(elicitation_callback=...)``.
    A schema the form cannot show is declined; ``_meta["folio/reason"]`` says why (so does the
    terminal, when there is one).
    """
    if not interactive:
        if isinstance(params, types.ElicitRequestURLParams):
            return _result(url_without_terminal(policy))
        return _result(elicit_without_terminal(params.requested_schema, policy))
    io = io if io is not None else TerminalFormIO()
    # one person, one keyboard: requests from servers asking at once are shown one after another
    try:
        async with io.console.question():
            if isinstance(params, types.ElicitRequestURLParams):
                return _result(await run_url_request(params.message, params.url, server=server, io=io))
            try:
                outcome = await run_form(params.message, params.requested_schema, server=server, io=io)
            except FormSchemaError as e:
                outcome = FormOutcome("decline", reason=f"declined: this form cannot be shown here: {e}")
                io.write(f"\n{clean(server)} asked for input with a form Folio cannot show; declined ({e}).")
    except QuestionDismissed as e:
        outcome = FormOutcome("cancel", reason=f"cancelled: {e}")
    return _result(outcome)


def elicitation_callback(
    server: str, *, io: FormIO | None = None, interactive: bool, policy: NoTerminalPolicy
) -> ElicitationFnT:
    """A ``Client(elicitation_callback=...)`` for ``server`` that calls :func:`handle_elicitation`."""

    async def callback(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        return await handle_elicitation(params, server=server, io=io, interactive=interactive, policy=policy)

    return callback


def _result(outcome: FormOutcome) -> types.ElicitResult:
    meta = {REASON_META_KEY: outcome.reason} if outcome.reason else None
    if outcome.action == "accept" and outcome.content is not None:
        content: dict[str, str | int | float | bool | list[str] | None] = dict(outcome.content)
        return types.ElicitResult(action="accept", content=content, _meta=meta)
    return types.ElicitResult(action=outcome.action, _meta=meta)

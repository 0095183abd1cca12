"""Elicitation relay: terminal forms for a server's ``elicitation/create``.

A server asks the person for input with a restricted JSON Schema (form mode) or a link to open
(URL mode). :func:`handle_elicitation` answers it (:func:`elicitation_callback` makes the
``Client(elicitation_callback=...)`` for one server):

* **form mode**: :func:`parse_form` turns the schema into fields; :func:`run_form` asks each one
  in the terminal (title, description, type and bounds, default: Enter keeps it; an empty
  optional field is left out), re-asks with the reason when the answer is invalid, then shows a
  summary: **a**ccept, **e**dit a field, **d**ecline, **c**ancel. Single choices take the option's
  number or value; multiple choices take comma-separated numbers or values; booleans take y/n.
  Fields that look like secrets (password, token, API key, PIN, card number…) are flagged and
  typed without echo.
* **URL mode**: :func:`run_url_request` shows the link and its domain (never opens it) and waits:
  Enter = done (accept), ``d`` = decline, ``c`` = cancel.
* **Keys**: at any prompt **Ctrl-C cancels** the request (and, in the chat, the turn that led to
  it) and **Ctrl-D declines** it. Requests are shown one at a time (the io's console).
* **No terminal**: :func:`elicit_without_terminal` applies a :data:`NoTerminalPolicy`
  (``$FOLIO_ELICITATION_POLICY``; default ``decline``; ``defaults`` accepts the schema's
  defaults when every required field has one) and says why in ``FormOutcome.reason``, which
  the result carries as ``_meta["folio/reason"]``.
"""

from __future__ import annotations

from folio_orchestrator.forms._io import (
    CTRL_C,
    CTRL_D,
    FormAborted,
    FormIO,
    ScriptedFormIO,
    TerminalFormIO,
    clean,
)
from folio_orchestrator.forms._relay import (
    POLICY_ENV,
    REASON_META_KEY,
    NoTerminalPolicy,
    elicit_without_terminal,
    elicitation_callback,
    handle_elicitation,
    policy_from_env,
    terminal_available,
    url_without_terminal,
)
from folio_orchestrator.forms._runner import FormOutcome, run_form, run_url_request
from folio_orchestrator.forms._schema import (
    Choice,
    Form,
    FormField,
    FormSchemaError,
    FormValue,
    parse_form,
    secret_reason,
)
from folio_orchestrator.forms._values import (
    OMITTED,
    Invalid,
    parse_answer,
    parse_boolean,
    parse_choice,
    parse_choices,
    parse_number,
    parse_text,
)

__all__ = [
    "CTRL_C",
    "CTRL_D",
    "OMITTED",
    "POLICY_ENV",
    "REASON_META_KEY",
    "Choice",
    "Form",
    "FormAborted",
    "FormField",
    "FormIO",
    "FormOutcome",
    "FormSchemaError",
    "FormValue",
    "Invalid",
    "NoTerminalPolicy",
    "ScriptedFormIO",
    "TerminalFormIO",
    "clean",
    "elicit_without_terminal",
    "elicitation_callback",
    "handle_elicitation",
    "parse_answer",
    "parse_boolean",
    "parse_choice",
    "parse_choices",
    "parse_form",
    "parse_number",
    "parse_text",
    "policy_from_env",
    "run_form",
    "run_url_request",
    "secret_reason",
    "terminal_available",
    "url_without_terminal",
]

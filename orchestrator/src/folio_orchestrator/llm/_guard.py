"""The guard that stops real model requests during tests.

Real adapters (Anthropic, OpenAI) call :func:`check_model_requests_allowed` before they send
anything. Requests are refused when

* inside ``with allow_model_requests(False):``, or
* outside any ``allow_model_requests`` block, when the environment has
  ``FOLIO_ALLOW_MODEL_REQUESTS`` set to ``0``/``false``/``no`` (the test suite sets it).

Tests that drive an adapter against a fake HTTP transport or a local fake server opt in with
``with allow_model_requests():``. :class:`FunctionModel` and :class:`TestModel` never check: they
send nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from folio_orchestrator.llm._errors import ModelRequestsDisabled

ALLOW_MODEL_REQUESTS_ENV = "FOLIO_ALLOW_MODEL_REQUESTS"

_override: ContextVar[bool | None] = ContextVar("folio_allow_model_requests", default=None)


def model_requests_allowed() -> bool:
    """Whether a real adapter may send a request now (see the module docstring)."""
    override = _override.get()
    if override is not None:
        return override
    value = os.environ.get(ALLOW_MODEL_REQUESTS_ENV, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


@contextmanager
def allow_model_requests(allow: bool = True) -> Iterator[None]:
    """Allow (or forbid) real model requests in this block, whatever the environment says."""
    token = _override.set(allow)
    try:
        yield
    finally:
        _override.reset(token)


def check_model_requests_allowed(model: str) -> None:
    """Raise :class:`ModelRequestsDisabled` when real model requests are disabled."""
    if not model_requests_allowed():
        raise ModelRequestsDisabled(
            f"real model requests are disabled ({ALLOW_MODEL_REQUESTS_ENV}=0, set by the test suite): "
            "use FunctionModel or TestModel, or wrap a test that injects a fake transport in "
            "`with allow_model_requests():`",
            model=model,
        )

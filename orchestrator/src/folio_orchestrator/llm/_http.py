"""Mapping the SDKs' HTTP failures to the LLM layer's exception tree (shared by both adapters)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass

from folio_orchestrator.llm._errors import (
    ModelAuthError,
    ModelBadRequest,
    ModelError,
    ModelRateLimited,
    ModelUnavailable,
)

# The error `type`s of Anthropic's error bodies (also seen in OpenAI-compatible servers).
_RATE_LIMIT_TYPES = {"rate_limit_error", "rate_limit_exceeded", "requests", "tokens"}
_UNAVAILABLE_TYPES = {"overloaded_error", "api_error", "server_error", "timeout_error"}
_AUTH_TYPES = {
    "authentication_error",
    "permission_error",
    "billing_error",
    "invalid_api_key",
    "insufficient_quota",
}


@dataclass(frozen=True)
class ProviderContext:
    """What an error message needs to say what to do."""

    model: str  # our name, "anthropic:claude-…"
    label: str  # "Anthropic", "OpenAI", "the OpenAI-compatible server at http://…"
    key_env: str  # the variable that holds the key
    base_url: str | None = None
    local: bool = False


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def status_error(
    ctx: ProviderContext,
    *,
    status: int | None,
    error_type: str | None,
    detail: str,
    headers: Mapping[str, str] | None = None,
    streamed: bool = False,
) -> ModelError:
    """The :class:`ModelError` for an HTTP error status (or an error event inside a stream)."""
    detail = detail.strip() or "no detail"
    where = f"{ctx.label} answered {status}" if status and status >= 400 else f"{ctx.label} reported an error"
    retry_after = parse_retry_after(headers)
    if status in (401, 403) or (status == 402) or (error_type in _AUTH_TYPES):
        if ctx.local:
            hint = f"if the server needs a key, set {ctx.key_env}"
        else:
            hint = f"set {ctx.key_env} to a valid key with access to this model (and check billing)"
        return ModelAuthError(
            f"{where}: {detail} — {hint}", model=ctx.model, status_code=status, streamed=streamed
        )
    if status == 429 or error_type in _RATE_LIMIT_TYPES:
        return ModelRateLimited(
            f"{where}: rate limited: {detail}",
            retry_after=retry_after,
            model=ctx.model,
            status_code=status,
            streamed=streamed,
        )
    if (status is not None and (status >= 500 or status in (408, 409))) or error_type in _UNAVAILABLE_TYPES:
        return ModelUnavailable(
            f"{where}: {detail} — try again later or add a fallback model",
            retry_after=retry_after,
            model=ctx.model,
            status_code=status,
            streamed=streamed,
        )
    if status == 404:
        return ModelBadRequest(
            f"{where}: {detail} — check the model name in --model / FOLIO_MODEL",
            model=ctx.model,
            status_code=status,
            streamed=streamed,
        )
    if status is not None and status >= 400:
        return ModelBadRequest(f"{where}: {detail}", model=ctx.model, status_code=status, streamed=streamed)
    # An error event in a 200 stream with an unknown type: treat it as transient.
    return ModelUnavailable(f"{where}: {detail}", model=ctx.model, status_code=status, streamed=streamed)


def connection_error(ctx: ProviderContext, detail: str, *, streamed: bool = False) -> ModelUnavailable:
    if ctx.local:
        hint = f"is the server at {ctx.base_url} running (Ollama, vLLM, llama.cpp, LM Studio)?"
    else:
        hint = "check the network (and any proxy settings), or add a fallback model"
    return ModelUnavailable(
        f"cannot reach {ctx.label}: {detail} — {hint}", model=ctx.model, streamed=streamed
    )


def missing_key(ctx: ProviderContext) -> ModelAuthError:
    return ModelAuthError(
        f"no API key for {ctx.label}: set {ctx.key_env} (or choose another model with --model / FOLIO_MODEL)",
        model=ctx.model,
    )

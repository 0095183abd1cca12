"""The LLM layer's exception tree. Only the CLI turns these into a message and an exit code.

::

    ModelError
    ├── ModelAuthError          missing/invalid key, no permission, billing   (fallback: yes)
    ├── ModelRateLimited        429                                           (retry, then fallback)
    ├── ModelUnavailable        5xx, overloaded, timeouts, connection errors  (retry, then fallback)
    │   └── AllModelsFailed     every model of a FallbackModel failed
    ├── ModelBadRequest         the request itself is wrong (400/404/413/422) (no retry, no fallback)
    ├── ModelRequestsDisabled   a real request while FOLIO_ALLOW_MODEL_REQUESTS=0 (tests)
    └── ModelConfigError        --model / FOLIO_MODEL is malformed

``streamed`` is True when the error happened after the stream had yielded events: such an error
is never retried nor handed to the next model (the caller has already shown partial output).
"""

from __future__ import annotations

from collections.abc import Sequence


class ModelError(Exception):
    """A model request failed. ``model`` is the model's name (``anthropic:claude-…``)."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        status_code: int | None = None,
        streamed: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.model = model
        self.status_code = status_code
        self.streamed = streamed

    def __str__(self) -> str:
        return f"{self.model}: {self.message}" if self.model else self.message


class ModelAuthError(ModelError):
    """The provider refused the credentials (or there were none)."""


class _RetryableError(ModelError):
    """An error worth retrying; ``retry_after`` (seconds) is the provider's hint, when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        model: str | None = None,
        status_code: int | None = None,
        streamed: bool = False,
    ) -> None:
        super().__init__(message, model=model, status_code=status_code, streamed=streamed)
        self.retry_after = retry_after


class ModelRateLimited(_RetryableError):
    """Too many requests."""


class ModelUnavailable(_RetryableError):
    """The provider is down, overloaded or unreachable; worth retrying later."""


class AllModelsFailed(ModelUnavailable):
    """Every model of a fallback list failed; ``errors`` holds each one's error, in order."""

    def __init__(self, errors: Sequence[ModelError]) -> None:
        detail = "; ".join(str(e) for e in errors)
        super().__init__(f"every model failed: {detail}")
        self.errors = list(errors)


class ModelBadRequest(ModelError):
    """The provider rejected the request itself (unknown model, context too long, bad schema)."""


class ModelRequestsDisabled(ModelError):
    """A real model request was attempted while they are disabled (the test suite's guard)."""


class ModelConfigError(ModelError):
    """``--model`` / ``FOLIO_MODEL`` does not name a model Folio can use."""

"""Optional API embedder: OpenAI's embeddings endpoint, or any OpenAI-compatible server.

Needs the extra ``folio-core[openai]``; the ``openai`` package is imported only when the first request
is made, so configuring this embedder without it installed fails with a clear message, not at import.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import EmbeddingError, FloatMatrix, l2_normalize

DEFAULT_MODEL = "text-embedding-3-small"
KNOWN_DIMS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
MAX_BATCH = 2048  # the API's limit on inputs per request
# The API also caps a request at 300k tokens. Tokens are estimated as UTF-8 bytes / 3 (English runs at
# about 4-5 bytes a token, CJK at about 3), and requests are kept under this estimate.
MAX_REQUEST_TOKENS = 250_000
INSTALL_HINT = "pip install 'folio-core[openai]'"


def _estimate_tokens(text: str) -> int:
    return len(text.encode("utf-8")) // 3 + 1


class OpenAIEmbedder:
    """Embeddings from ``client.embeddings.create`` (openai SDK), in batches, re-normalised.

    ``api_key`` and ``base_url`` come from FOLIO's settings; when not given, ``OPENAI_API_KEY`` and
    ``OPENAI_BASE_URL`` are used. A ``base_url`` without any key is allowed (local OpenAI-compatible
    servers such as Ollama or vLLM ignore it). ``client`` injects a ready client (anything with
    ``.embeddings.create``), e.g. a fake in tests. ``dimensions`` asks text-embedding-3 models for
    shorter vectors. The SDK retries 429 and 5xx responses itself (``max_retries``); whatever still
    fails becomes an EmbeddingError.

    For a model not in KNOWN_DIMS and no ``dimensions``, the dimension is learnt from the first
    response; reading ``dim`` before any request then makes one small request.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        client: Any | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        dimensions: int | None = None,
        batch_size: int = MAX_BATCH,
        max_retries: int = 2,
        timeout: float = 60.0,
    ) -> None:
        if not model:
            raise ValueError("model must be a non-empty model name")
        if dimensions is not None and dimensions < 1:
            raise ValueError("dimensions must be a positive integer or None")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self.model = model
        self.dimensions = dimensions
        self.batch_size = batch_size
        self.tokens_used = 0
        self._client = client
        self._base_url = base_url
        self._api_key = api_key
        self._max_retries = max_retries
        self._timeout = timeout
        self._dim: int | None = dimensions if dimensions is not None else KNOWN_DIMS.get(model)
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    @property
    def known_dim(self) -> int | None:
        """The dimension if known without a request (None for an unknown model before its first call)."""
        return self._dim

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed_query("dimension probe")
        assert self._dim is not None
        return self._dim

    def __repr__(self) -> str:
        return (
            f"OpenAIEmbedder(model={self.model!r}, dimensions={self.dimensions}, base_url={self._base_url!r})"
        )

    # -- client ----------------------------------------------------------------------------------

    def _get_client(self) -> Any:
        if self._client is not None:
            return self._client
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> Any:
        try:
            import openai
        except ImportError as exc:
            raise EmbeddingError(
                f"the OpenAI embedder needs the openai package, which is not installed: {INSTALL_HINT}"
            ) from exc
        base_url = self._base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = self._api_key or os.environ.get("OPENAI_API_KEY") or None
        if api_key is None:
            if base_url is None:
                raise EmbeddingError(
                    "no OpenAI API key: set OPENAI_API_KEY (or the API key in FOLIO's settings), "
                    "or point the OpenAI base URL at an OpenAI-compatible server"
                )
            api_key = "not-needed"  # local compatible servers ignore it; the SDK insists on one
        try:
            return openai.OpenAI(
                api_key=api_key, base_url=base_url, max_retries=self._max_retries, timeout=self._timeout
            )
        except openai.OpenAIError as exc:
            raise EmbeddingError(f"could not set up the OpenAI client: {exc}") from exc

    # -- embedding -------------------------------------------------------------------------------

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        if isinstance(texts, str):
            raise TypeError("embed_documents takes a sequence of strings, not a single string")
        items = list(texts)
        if not items:
            return np.empty((0, self._dim or 0), dtype=np.float32)
        client = self._get_client()
        parts = [self._request(client, batch) for batch in self._batches(items)]
        return np.concatenate(parts, axis=0)

    def embed_query(self, text: str) -> FloatMatrix:
        vector: FloatMatrix = self.embed_documents([text])[0]
        return vector

    def _batches(self, items: list[str]) -> list[list[str]]:
        batches: list[list[str]] = []
        current: list[str] = []
        budget = 0
        for text in items:
            cost = _estimate_tokens(text)
            if current and (len(current) >= self.batch_size or budget + cost > MAX_REQUEST_TOKENS):
                batches.append(current)
                current, budget = [], 0
            current.append(text)
            budget += cost
        if current:
            batches.append(current)
        return batches

    def _request(self, client: Any, batch: list[str]) -> FloatMatrix:
        # the API rejects empty strings; a lone space embeds as "no content"
        inputs = [text if text else " " for text in batch]
        kwargs: dict[str, Any] = {"model": self.model, "input": inputs}
        if self.dimensions is not None:
            kwargs["dimensions"] = self.dimensions
        try:
            response = client.embeddings.create(**kwargs)
        except Exception as exc:
            raise _map_error(exc, self) from exc

        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(batch) or [item.index for item in data] != list(range(len(batch))):
            raise EmbeddingError(
                f"{self.name}: asked for {len(batch)} embeddings, got {len(data)} (indices do not match)"
            )
        try:
            matrix = np.array([item.embedding for item in data], dtype=np.float32)
        except (TypeError, ValueError) as exc:  # ragged lists or non-numbers
            raise EmbeddingError(f"{self.name}: response vectors are not all the same length: {exc}") from exc
        if matrix.ndim != 2:
            raise EmbeddingError(f"{self.name}: unexpected response shape {matrix.shape}")
        self._check_dim(matrix.shape[1])
        if not np.all(np.isfinite(matrix)):
            raise EmbeddingError(f"{self.name}: response contains non-finite values")
        usage = getattr(response, "usage", None)
        total = getattr(usage, "total_tokens", None)
        if isinstance(total, int):
            self.tokens_used += total
        return l2_normalize(matrix)

    def _check_dim(self, got: int) -> None:
        with self._lock:
            if self._dim is None:
                self._dim = got
                return
            expected = self._dim
        if got != expected:
            source = "requested dimensions" if self.dimensions is not None else "expected for this model"
            raise EmbeddingError(f"{self.name} returned {got}-d vectors, but {expected} are {source}")


def _map_error(exc: Exception, embedder: OpenAIEmbedder) -> EmbeddingError:
    """Turn an openai SDK exception (after its own retries) into an EmbeddingError with a clear message."""
    try:
        import openai
    except ImportError:  # pragma: no cover - a fake client without the SDK installed
        return EmbeddingError(f"{embedder.name}: embeddings request failed: {exc}")

    name = embedder.name
    if isinstance(exc, openai.AuthenticationError):
        return EmbeddingError(
            f"{name}: the API key was rejected (HTTP 401); "
            "check OPENAI_API_KEY or the API key in FOLIO's settings"
        )
    if isinstance(exc, openai.PermissionDeniedError):
        return EmbeddingError(f"{name}: the API key may not use this model (HTTP 403): {exc.message}")
    if isinstance(exc, openai.RateLimitError):
        return EmbeddingError(
            f"{name}: rate limit or quota exceeded (HTTP 429), still failing after "
            f"{embedder._max_retries} retries; wait and try again, or check the account's quota"
        )
    if isinstance(exc, openai.NotFoundError):
        return EmbeddingError(f"{name}: model or endpoint not found (HTTP 404): {exc.message}")
    if isinstance(exc, openai.APITimeoutError):
        return EmbeddingError(f"{name}: the embeddings request timed out: {exc}")
    if isinstance(exc, openai.APIConnectionError):
        where = embedder._base_url or os.environ.get("OPENAI_BASE_URL") or "the OpenAI API"
        return EmbeddingError(f"{name}: could not connect to {where}: {exc}")
    if isinstance(exc, openai.APIStatusError):
        return EmbeddingError(f"{name}: embeddings request failed with HTTP {exc.status_code}: {exc.message}")
    if isinstance(exc, openai.OpenAIError):
        return EmbeddingError(f"{name}: embeddings request failed: {exc}")
    return EmbeddingError(f"{name}: embeddings request failed ({type(exc).__name__}): {exc}")

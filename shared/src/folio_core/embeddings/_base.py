"""The embedder interface, its errors and the stored-vector compatibility check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]
"""(n, dim) float32 array of L2-normalised vectors (or (dim,) for a single query)."""


class EmbeddingError(Exception):
    """An embedder could not produce vectors (missing model, bad credentials, API failure, ...)."""


class EmbedderMismatchError(EmbeddingError):
    """Stored vectors were made by a different embedder than the configured one."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    Implementations are synchronous and may block (model inference, network): async callers should run
    them in a worker thread. ``name`` identifies the model exactly: vectors with different names are
    never comparable, even when their dimensions match.
    """

    @property
    def name(self) -> str:
        """Stable identifier stored next to the vectors, e.g. ``"openai:text-embedding-3-small"``."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector this embedder returns."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """Vectors for ``texts``, shape ``(len(texts), dim)``, float32, each of unit length."""
        ...

    def embed_query(self, text: str) -> FloatMatrix:
        """The vector for one search query, shape ``(dim,)``, float32, unit length."""
        ...


def l2_normalize(vectors: npt.NDArray[np.floating]) -> FloatMatrix:
    """Row-wise unit length as float32; all-zero rows stay zero instead of becoming NaN."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.asarray(matrix / np.maximum(norms, np.float32(1e-12)), dtype=np.float32)


LOCAL_MODEL_NAME = "all-MiniLM-L6-v2@onnx-fp16"
"""Name of the packaged local embedder (the spec ``"local"``)."""


def _spec_for(name: str) -> str:
    """The embedder spec that selects the embedder called ``name`` (OpenAI names are their own spec)."""
    return "local" if name == LOCAL_MODEL_NAME else name


def check_compatible(stored_name: str, stored_dim: int, embedder: Embedder) -> None:
    """Refuse to mix vectors from different embedders.

    Raises EmbedderMismatchError when the stored model name or dimension differs from ``embedder``'s.
    The name is compared first, so an embedder that learns its dimension lazily is not asked for it
    when the names already differ.
    """
    same_name = stored_name == embedder.name
    if same_name and stored_dim == embedder.dim:
        return
    configured_dim = embedder.dim if same_name else _known_dim(embedder)
    configured = f"{embedder.name} ({configured_dim}-d)" if configured_dim else embedder.name
    raise EmbedderMismatchError(
        f"stored vectors were made by {stored_name} ({stored_dim}-d) but the configured embedder is "
        f"{configured}; set FOLIO_EMBEDDER back to {_spec_for(stored_name)!r} or re-embed the stored "
        "items with the new embedder"
    )


def _known_dim(embedder: Embedder) -> int | None:
    """The embedder's dimension if it is known without a network call."""
    known = getattr(embedder, "known_dim", None)
    if known is not None or hasattr(embedder, "known_dim"):
        return known if isinstance(known, int) else None
    return embedder.dim

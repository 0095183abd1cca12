"""Text embeddings for Folio's memory: a packaged local model by default, OpenAI as an option.

``make_embedder("local")`` gives all-MiniLM-L6-v2 on onnxruntime (384-d, offline, deterministic);
``make_embedder("openai:text-embedding-3-small")`` uses the API (extra ``folio-core[openai]``). Store
``embedder.name`` and ``embedder.dim`` with the vectors and call ``check_compatible`` on start-up:
vectors from different embedders must never be compared.

Importing this package is cheap: onnxruntime, tokenizers and openai are imported on first use.
"""

from __future__ import annotations

from ._base import (
    LOCAL_MODEL_NAME,
    Embedder,
    EmbedderMismatchError,
    EmbeddingError,
    FloatMatrix,
    check_compatible,
    l2_normalize,
)
from ._local import LocalEmbedder, packaged_model_dir
from ._openai import KNOWN_DIMS, OpenAIEmbedder

__all__ = [
    "KNOWN_DIMS",
    "LOCAL_MODEL_NAME",
    "Embedder",
    "EmbedderMismatchError",
    "EmbeddingError",
    "FloatMatrix",
    "LocalEmbedder",
    "OpenAIEmbedder",
    "check_compatible",
    "l2_normalize",
    "make_embedder",
    "packaged_model_dir",
]

_SPEC_FORMS = "'local' or 'openai:<model>' (for example 'openai:text-embedding-3-small')"


def make_embedder(
    spec: str, *, openai_base_url: str | None = None, openai_api_key: str | None = None
) -> Embedder:
    """Build the embedder named by ``spec``: ``"local"`` or ``"openai:<model>"``.

    Nothing heavy happens here: the local model loads, and the OpenAI client is created, on first use.
    Raises ValueError for any other spec.
    """
    text = spec.strip()
    if text == "local":
        return LocalEmbedder()
    prefix, sep, model = text.partition(":")
    if sep and prefix == "openai":
        if not model.strip():
            raise ValueError(f"embedder spec {spec!r} names no OpenAI model; accepted forms: {_SPEC_FORMS}")
        return OpenAIEmbedder(model.strip(), base_url=openai_base_url, api_key=openai_api_key)
    raise ValueError(f"unknown embedder spec {spec!r}; accepted forms: {_SPEC_FORMS}")

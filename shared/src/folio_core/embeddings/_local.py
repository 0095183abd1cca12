"""The default embedder: all-MiniLM-L6-v2 on onnxruntime, packaged with folio-core (no torch).

The model files live in ``model/`` next to this module; ``scripts/export_minilm.py`` made them. The
vectors match sentence-transformers' ``all-MiniLM-L6-v2`` (cosine > 0.9999): BERT last hidden state,
mean-pooled over the attention mask, L2-normalised, inputs truncated at 256 word pieces.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ._base import LOCAL_MODEL_NAME, EmbeddingError, FloatMatrix, l2_normalize

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
SUMS_FILE = "SHA256SUMS"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
PAD_ID = 0
PAD_TOKEN = "[PAD]"
# texts are tokenised and length-sorted in windows of this many, so memory stays bounded for huge inputs
_SORT_WINDOW = 2048


def packaged_model_dir() -> Path:
    """The directory of the model files shipped inside folio_core."""
    return Path(__file__).resolve().parent / "model"


def _read_sums(model_dir: Path) -> dict[str, str]:
    try:
        text = (model_dir / SUMS_FILE).read_text(encoding="utf-8")
    except OSError as exc:
        raise EmbeddingError(f"embedding model checksums missing: {exc}") from exc
    sums: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            digest, _, filename = line.strip().partition("  ")
            sums[filename.strip()] = digest.lower()
    return sums


def _check_digest(model_dir: Path, filename: str, sums: dict[str, str]) -> None:
    expected = sums.get(filename)
    if expected is None:
        raise EmbeddingError(f"{SUMS_FILE} of the embedding model has no entry for {filename}")
    try:
        with (model_dir / filename).open("rb") as fh:  # streamed: no 45 MB copy in memory
            actual = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise EmbeddingError(
            f"embedding model file {filename} not found in {model_dir}: {exc}; "
            "the folio-core installation is incomplete"
        ) from exc
    if actual != expected:
        raise EmbeddingError(
            f"embedding model file {filename} is corrupt or was replaced: sha256 {actual}, expected "
            f"{expected}; reinstall folio-core"
        )


@dataclass(frozen=True)
class _Runtime:
    session: Any  # onnxruntime.InferenceSession
    tokenizer: Any  # tokenizers.Tokenizer
    wants_token_types: bool


class LocalEmbedder:
    """all-MiniLM-L6-v2 (384-d) on onnxruntime + tokenizers + numpy.

    Constructing one is cheap: the model (45 MB) and the heavy libraries are loaded on first use, once,
    thread-safely; call ``load()`` to do it eagerly. Loading first checks the sha256 of model.onnx and
    tokenizer.json against the packaged SHA256SUMS (about 30 ms of the ~0.3 s load). Vectors are
    deterministic and do not depend on which other texts share the batch.

    ``threads`` is onnxruntime's intra-op thread count. The default is one, with no spinning: a
    fleet runs several server processes that each embed, and onnxruntime's own default (a spinning
    thread per core in every process) spent about twice the CPU per query for no gain in wall time
    once more than one process was busy (measured: 15.9 → 8.1 ms CPU per query).
    ``model_dir`` replaces the packaged model directory (same file names), e.g. for a rebuilt model.
    """

    MODEL_NAME: ClassVar[str] = LOCAL_MODEL_NAME
    DIM: ClassVar[int] = 384

    def __init__(
        self, *, threads: int | None = 1, batch_size: int = 32, model_dir: str | Path | None = None
    ) -> None:
        if threads is not None and threads < 1:
            raise ValueError("threads must be a positive integer or None")
        if batch_size < 1:
            raise ValueError("batch_size must be a positive integer")
        self._threads = threads
        self._batch_size = batch_size
        self._model_dir = Path(model_dir) if model_dir is not None else packaged_model_dir()
        self._runtime: _Runtime | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.MODEL_NAME

    @property
    def dim(self) -> int:
        return self.DIM

    @property
    def loaded(self) -> bool:
        return self._runtime is not None

    def __repr__(self) -> str:
        return f"LocalEmbedder(name={self.name!r}, threads={self._threads}, loaded={self.loaded})"

    # -- loading ---------------------------------------------------------------------------------

    def verify(self) -> None:
        """Check model.onnx and tokenizer.json against SHA256SUMS; raise EmbeddingError if they differ."""
        sums = _read_sums(self._model_dir)
        for filename in (MODEL_FILE, TOKENIZER_FILE):
            _check_digest(self._model_dir, filename, sums)

    def load(self) -> None:
        """Load the model now instead of on the first embedding call."""
        self._ensure_runtime()

    def _ensure_runtime(self) -> _Runtime:
        runtime = self._runtime
        if runtime is not None:
            return runtime
        with self._lock:
            if self._runtime is None:
                self._runtime = self._load_runtime()
            return self._runtime

    def _load_runtime(self) -> _Runtime:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are core dependencies
            raise EmbeddingError(
                f"the local embedder needs onnxruntime and tokenizers ({exc}); reinstall folio-core"
            ) from exc

        self.verify()
        tokenizer = Tokenizer.from_file(str(self._model_dir / TOKENIZER_FILE))
        # the shipped tokenizer.json truncates at 128 and pads to a fixed 128: match sentence-transformers
        # (256) and pad only to the longest text of each call
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=PAD_ID, pad_token=PAD_TOKEN)

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        if self._threads is not None:
            options.intra_op_num_threads = self._threads
        try:
            # a path, not bytes: loading from bytes keeps ~50 MB more resident
            session = ort.InferenceSession(
                str(self._model_dir / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own non-exported exception types
            raise EmbeddingError(f"onnxruntime could not load the embedding model: {exc}") from exc
        inputs = {i.name for i in session.get_inputs()}
        return _Runtime(session=session, tokenizer=tokenizer, wants_token_types="token_type_ids" in inputs)

    # -- embedding -------------------------------------------------------------------------------

    def embed_documents(self, texts: Sequence[str]) -> FloatMatrix:
        if isinstance(texts, str):
            raise TypeError("embed_documents takes a sequence of strings, not a single string")
        items = list(texts)
        out = np.empty((len(items), self.DIM), dtype=np.float32)
        if not items:
            return out
        runtime = self._ensure_runtime()
        for start in range(0, len(items), _SORT_WINDOW):
            window = items[start : start + _SORT_WINDOW]
            out[start : start + len(window)] = self._embed_window(runtime, window)
        return out

    def embed_query(self, text: str) -> FloatMatrix:
        vectors: FloatMatrix = self.embed_documents([text])[0]
        return vectors

    def _embed_window(self, runtime: _Runtime, texts: list[str]) -> FloatMatrix:
        encodings = runtime.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        lengths = mask.sum(axis=1)
        # shortest first (stable): batches hold texts of similar length, so little padding is computed
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), self.DIM), dtype=np.float32)
        for start in range(0, len(texts), self._batch_size):
            rows = order[start : start + self._batch_size]
            width = max(int(lengths[rows].max()), 1)
            out[rows] = self._run(runtime, ids[rows, :width], mask[rows, :width])
        return out

    def _run(
        self,
        runtime: _Runtime,
        ids: np.ndarray[Any, np.dtype[np.int64]],
        mask: np.ndarray[Any, np.dtype[np.int64]],
    ) -> FloatMatrix:
        feed = {"input_ids": ids, "attention_mask": mask}
        if runtime.wants_token_types:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(runtime.session.run(["last_hidden_state"], feed)[0], dtype=np.float32)
        if hidden.ndim != 3 or hidden.shape[-1] != self.DIM:
            raise EmbeddingError(
                f"embedding model returned shape {hidden.shape}, expected (batch, seq, {self.DIM})"
            )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), np.float32(1e-9))
        return l2_normalize(pooled)

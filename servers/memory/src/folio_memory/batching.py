"""One model call for the texts that concurrent requests of a process want embedded at once.

A model call has a fixed cost besides its per-text cost, and the local model runs one call at a
time anyway: while it embeds one text, the texts that arrive queue up, and the next call embeds
them all. Each text gets the same vector as alone (the model pads each batch and masks the
padding), so batching changes the cost, never the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import anyio
import numpy as np


class _Slot:
    __slots__ = ("text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None


class EmbeddingBatcher:
    """``await batcher.embed_one(text)``: the caller that finds the model free embeds every text
    waiting at that moment (up to ``max_batch``), its own included, in a worker thread."""

    def __init__(self, embed: Callable[[Sequence[str]], Any], *, max_batch: int = 32) -> None:
        self._embed = embed
        self._max_batch = max_batch
        self._pending: list[_Slot] = []
        self._lock = anyio.Lock()

    async def embed_one(self, text: str) -> np.ndarray:
        slot = _Slot(text)
        self._pending.append(slot)
        while slot.vector is None:
            async with self._lock:
                if slot.vector is not None:  # embedded in another caller's batch meanwhile
                    break
                if slot not in self._pending:  # its batch failed: this caller tries again
                    self._pending.insert(0, slot)
                batch = self._pending[: self._max_batch]
                del self._pending[: len(batch)]
                try:
                    vectors = await anyio.to_thread.run_sync(self._embed, [s.text for s in batch])
                except BaseException:
                    # The others go back to the queue; their own callers retry (or fail) for them.
                    self._pending[:0] = [s for s in batch if s is not slot]
                    raise
                for waiting, vector in zip(batch, vectors, strict=True):
                    waiting.vector = np.asarray(vector, dtype=np.float32)
        return slot.vector

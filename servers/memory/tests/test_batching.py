"""Concurrent embeddings of one process share model calls, and each text keeps its own vector."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
import numpy as np
import pytest

from folio_core.embeddings import make_embedder
from folio_memory.batching import EmbeddingBatcher

pytestmark = pytest.mark.anyio

TEXTS = ["Prefers tabs over spaces", "Allergic to penicillin", "Lives in Porto", "Plays the cello"]


async def queue_behind_the_first_call(
    batcher: EmbeddingBatcher,
    one: Callable[[str], Awaitable[None]],
    started: threading.Event,
    release: threading.Event,
) -> None:
    """Start one embedding, wait until its model call holds the model, queue the other texts behind
    it, then let the model go."""
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, TEXTS[0])
            await anyio.to_thread.run_sync(started.wait)
            for text in TEXTS[1:]:
                tg.start_soon(one, text)
            while len(batcher._pending) < len(TEXTS) - 1:  # the batcher's queue, as it fills
                await anyio.sleep(0.01)
            release.set()


async def test_texts_that_wait_for_the_model_are_embedded_together_with_their_own_vectors() -> None:
    embedder = make_embedder("local")
    alone = {t: embedder.embed_documents([t])[0] for t in TEXTS}
    batches: list[list[str]] = []
    started, release = threading.Event(), threading.Event()

    def embed(texts: Sequence[str]) -> Any:
        batches.append(list(texts))
        if len(batches) == 1:
            started.set()
            release.wait(60)  # the first call holds the model until the others queue up
        return embedder.embed_documents(texts)

    batcher = EmbeddingBatcher(embed)
    got: dict[str, np.ndarray] = {}

    async def one(text: str) -> None:
        got[text] = await batcher.embed_one(text)

    await queue_behind_the_first_call(batcher, one, started, release)
    assert batches == [TEXTS[:1], TEXTS[1:]]
    for text in TEXTS:
        assert np.allclose(got[text], alone[text], atol=1e-5)


async def test_when_a_model_call_fails_the_texts_waiting_on_it_are_embedded_by_their_own_callers() -> None:
    embedder = make_embedder("local")
    calls: list[list[str]] = []
    started, release = threading.Event(), threading.Event()

    def embed(texts: Sequence[str]) -> Any:
        calls.append(list(texts))
        if len(calls) == 1:
            started.set()
            release.wait(60)
            return embedder.embed_documents(texts)
        if len(calls) == 2:
            raise RuntimeError("the model failed")
        return embedder.embed_documents(texts)

    batcher = EmbeddingBatcher(embed)
    outcome: dict[str, Any] = {}

    async def one(text: str) -> None:
        try:
            outcome[text] = await batcher.embed_one(text)
        except RuntimeError as exc:
            outcome[text] = exc

    await queue_behind_the_first_call(batcher, one, started, release)
    failed = [t for t, v in outcome.items() if isinstance(v, RuntimeError)]
    assert len(failed) == 1 and calls[1] == TEXTS[1:]  # the caller whose call failed gets the error
    assert all(isinstance(outcome[t], np.ndarray) for t in TEXTS if t not in failed)
    assert len(outcome) == len(TEXTS)

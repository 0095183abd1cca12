"""A scripted OpenAI-compatible model server on 127.0.0.1, for driving ``folio chat`` from a test.

It answers every ``/v1/chat/completions`` request with the next scripted reply, streamed as real
Chat Completions chunks, one word per chunk. After each word it waits until the test calls
:meth:`ScriptedOpenAI.release`: a test can read the word from the terminal before it lets the
next one go, so it proves that tokens are shown as they arrive without measuring any time.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

_STOP = object()


def _chunk(model: str, delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": choices,
        "usage": usage,
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class ScriptedOpenAI:
    """``with ScriptedOpenAI([["Hello ", "world."]]) as llm:`` then ``--model openai:x@{llm.base_url}``."""

    def __init__(self, replies: Sequence[Sequence[str]]) -> None:
        self._replies = [list(r) for r in replies]
        self._gate: queue.Queue[object] = queue.Queue()
        self.requests: list[dict[str, Any]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)  # connections queue until uvicorn accepts: no start-up to wait for
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off", http="h11", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def release(self) -> None:
        """Let the next word go."""
        self._gate.put(None)

    def _app(self) -> Starlette:
        async def completions(request: Request) -> StreamingResponse:
            body = await request.json()
            self.requests.append(body)
            words = self._replies.pop(0) if self._replies else ["(no more scripted replies)"]
            model = body["model"]

            async def events() -> AsyncIterator[bytes]:
                yield _chunk(model, {"role": "assistant", "content": ""})
                for i, word in enumerate(words):
                    if i and await anyio.to_thread.run_sync(self._gate.get) is _STOP:
                        return
                    yield _chunk(model, {"content": word})
                if await anyio.to_thread.run_sync(self._gate.get) is _STOP:
                    return
                yield _chunk(model, {}, "stop")
                yield _chunk(model, None, usage={"prompt_tokens": 10, "completion_tokens": len(words)})
                yield b"data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])

    def __enter__(self) -> ScriptedOpenAI:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        for _ in range(8):  # unblock any reply still waiting for the test
            self._gate.put(_STOP)
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()

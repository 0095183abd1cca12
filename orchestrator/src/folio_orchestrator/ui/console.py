"""One person, one terminal: the chat's output and the questions servers ask, kept apart.

Servers ask the person questions while a chat turn runs (a sampling request to review, an
elicitation form). :meth:`Console.question` gives the terminal to one question at a time, and
while a question is open the chat's own output (the streamed answer, the tool progress lines) is
held back, then shown once the question is answered, so a question is never interleaved with
anything else. Ctrl-C at a question calls :meth:`Console.interrupt`, which stops what the chat
registered with :meth:`Console.on_interrupt` (the running turn); the questions that were
waiting for their turn meanwhile are dismissed (:class:`QuestionDismissed`), not asked after the
turn is gone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TextIO

import anyio


class QuestionDismissed(Exception):
    """The person pressed Ctrl-C at another question while this one waited: it is not asked."""


class Console:
    def __init__(self) -> None:
        self._interrupts = 0
        self._lock = anyio.Lock()
        self._open = False
        self._held: list[tuple[TextIO, str]] = []
        self._on_interrupt: Callable[[], None] | None = None

    @property
    def asking(self) -> bool:
        """A question is open (other output is being held back)."""
        return self._open

    @asynccontextmanager
    async def question(self) -> AsyncIterator[None]:
        """The terminal is this question's until the block ends; other questions wait their turn.

        Raises :class:`QuestionDismissed` when the person interrupted while this one waited.
        """
        interrupts = self._interrupts
        async with self._lock:
            if self._interrupts != interrupts:
                raise QuestionDismissed("the person stopped the turn that led to this question")
            self._open = True
            try:
                yield
            finally:
                self._open = False
                held, self._held = self._held, []
                streams = []
                for stream, text in held:
                    stream.write(text)
                    if stream not in streams:
                        streams.append(stream)
                for stream in streams:
                    stream.flush()

    def write(self, stream: TextIO, text: str) -> None:
        """Write ``text`` now, or once the open question is answered."""
        if self._open:
            self._held.append((stream, text))
            return
        stream.write(text)
        stream.flush()

    @contextmanager
    def on_interrupt(self, handler: Callable[[], None]) -> Iterator[None]:
        """Within the block, Ctrl-C at a question calls ``handler``."""
        previous, self._on_interrupt = self._on_interrupt, handler
        try:
            yield
        finally:
            self._on_interrupt = previous

    def interrupt(self) -> bool:
        """The person pressed Ctrl-C at a question; True if that stopped something."""
        self._interrupts += 1
        handler = self._on_interrupt
        if handler is None:
            return False
        handler()
        return True


TERMINAL = Console()
"""The process's terminal (every :class:`~folio_orchestrator.forms.TerminalFormIO` shares it)."""

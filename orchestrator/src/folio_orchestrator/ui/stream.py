"""The chat's answer on the terminal: streamed as Markdown, tool calls shown as they run.

Text is written as it arrives. On a terminal the line being written is shown as it comes, then
redrawn in place, styled as Markdown, once it is complete (see
:mod:`folio_orchestrator.ui.markdown`); anywhere else (a pipe, a file) the text stays unstyled.
With a :class:`~folio_orchestrator.ui.console.Console`, output waits while a server's question
is open, so questions are never interleaved with the answer or the tool lines.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, TextIO

from folio_orchestrator.agent import AgentEvent, ToolCallFinished, ToolCallStarted
from folio_orchestrator.llm import Completion, TextDelta
from folio_orchestrator.ui.console import Console
from folio_orchestrator.ui.markdown import DIM, RESET, MarkdownStream

ERASE_BELOW = "\x1b[J"


def _arguments(arguments: dict[str, Any], limit: int = 80) -> str:
    text = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StreamPrinter:
    """An ``on_event`` sink for :meth:`Agent.turn` that prints to ``stream``."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        markdown: bool | None = None,
        console: Console | None = None,
        width: int | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.markdown = self.stream.isatty() if markdown is None else markdown
        self.console = console
        self._width = width
        self._renderer = MarkdownStream()
        self._open_line = False  # plain mode: the last text written did not end with a newline
        self._shown = ""  # markdown mode: the unfinished line, as written so far (unstyled)
        self.first_token_at: float | None = None

    def _write(self, text: str) -> None:
        if not text:
            return
        if self.console is not None:
            self.console.write(self.stream, text)
        else:
            self.stream.write(text)
            self.stream.flush()

    def _columns(self) -> int:
        if self._width is not None:
            return self._width
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (AttributeError, OSError, ValueError):
            return 80

    def _unshow(self) -> str:
        """Escapes that take the cursor back to where the unfinished line began, erasing it."""
        if not self._shown:
            return ""
        rows = (len(self._shown) - 1) // self._columns()  # the rows it wrapped onto
        self._shown = ""
        return "\r" + (f"\x1b[{rows}A" if rows else "") + ERASE_BELOW

    def _markdown_text(self, text: str) -> None:
        complete = self._renderer.feed(text)
        pending = self._renderer.pending
        # a completed line replaces its unstyled draft; the unfinished line only grows until then
        out = self._unshow() + complete if complete else ""
        out += pending[len(self._shown) :]
        self._shown = pending
        self._write(out)

    def _end_segment(self) -> None:
        if self.markdown:
            rest = self._renderer.flush()
            self._write(self._unshow() + (rest + "\n" if rest else ""))
        elif self._open_line:
            self._write("\n")
        self._open_line = False

    def __call__(self, event: AgentEvent) -> None:
        if isinstance(event, TextDelta):
            if not event.text:
                return
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
            if self.markdown:
                self._markdown_text(event.text)
            else:
                self._write(event.text)
                self._open_line = not event.text.endswith("\n")
        elif isinstance(event, Completion):
            self._end_segment()
        elif isinstance(event, ToolCallStarted):
            self._end_segment()
            self._line(f"  → {event.call.name}({_arguments(event.call.arguments)})")
        elif isinstance(event, ToolCallFinished):
            mark = "✗" if event.outcome.is_error else "✓"
            detail = f": {event.outcome.content[:120]}" if event.outcome.is_error else ""
            self._line(f"  {mark} {event.call.name} {event.seconds * 1000:.0f} ms{detail}")

    def _line(self, text: str) -> None:
        self._write(f"{DIM}{text}{RESET}\n" if self.markdown else text + "\n")

    def close(self) -> None:
        self._end_segment()

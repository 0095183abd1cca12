"""The chat's answer on the terminal: streamed as Markdown, tool calls shown as they run.

On a terminal each line of the answer is styled as Markdown as soon as it is complete (see
:mod:`folio_orchestrator.ui.markdown`); anywhere else (a pipe, a file) the text is written as it
arrives, unstyled.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from folio_orchestrator.agent import AgentEvent, ToolCallFinished, ToolCallStarted
from folio_orchestrator.llm import Completion, TextDelta
from folio_orchestrator.ui.markdown import DIM, RESET, MarkdownStream


def _arguments(arguments: dict[str, Any], limit: int = 80) -> str:
    text = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StreamPrinter:
    """An ``on_event`` sink for :meth:`Agent.turn` that prints to ``stream``."""

    def __init__(self, stream: TextIO | None = None, *, markdown: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.markdown = self.stream.isatty() if markdown is None else markdown
        self._renderer = MarkdownStream()
        self._open_line = False  # plain mode: the last text written did not end with a newline
        self.first_token_at: float | None = None

    def _write(self, text: str) -> None:
        if text:
            self.stream.write(text)
            self.stream.flush()

    def _end_segment(self) -> None:
        if self.markdown:
            rest = self._renderer.flush()
            self._write(rest + "\n" if rest else "")
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
                self._write(self._renderer.feed(event.text))
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

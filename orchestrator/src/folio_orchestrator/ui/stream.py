"""The chat's answer on the terminal: streamed as Markdown, tool calls shown as they run.

On a terminal the text of each step is re-rendered as Markdown while it streams (``rich``'s
live display); anywhere else (a pipe, a file) it is written as plain text as it arrives.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from folio_orchestrator.agent import AgentEvent, ToolCallFinished, ToolCallStarted
from folio_orchestrator.llm import Completion, TextDelta


def _arguments(arguments: dict[str, Any], limit: int = 80) -> str:
    text = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StreamPrinter:
    """An ``on_event`` sink for :meth:`Agent.turn` that prints to ``stream``."""

    def __init__(self, stream: TextIO | None = None, *, markdown: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.markdown = self.stream.isatty() if markdown is None else markdown
        self._text = ""
        self._live: Any = None
        self._console: Any = None
        self.first_token_at: float | None = None

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.markdown import Markdown

        if self._console is None:
            self._console = Console(file=self.stream)
        self._live = Live(
            Markdown(""), console=self._console, refresh_per_second=12, vertical_overflow="visible"
        )
        self._live.start()

    def _end_segment(self) -> None:
        if self._live is not None:
            from rich.markdown import Markdown

            self._live.update(Markdown(self._text))
            self._live.stop()
            self._live = None
        elif self._text and not self._text.endswith("\n"):
            self.stream.write("\n")
        self._text = ""
        self.stream.flush()

    def __call__(self, event: AgentEvent) -> None:
        if isinstance(event, TextDelta):
            if not event.text:
                return
            if self.first_token_at is None:
                import time

                self.first_token_at = time.perf_counter()
            self._text += event.text
            if self.markdown:
                from rich.markdown import Markdown

                if self._live is None:
                    self._start_live()
                self._live.update(Markdown(self._text))
            else:
                self.stream.write(event.text)
                self.stream.flush()
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
        if self.markdown:
            from rich.console import Console

            if self._console is None:
                self._console = Console(file=self.stream)
            self._console.print(text, style="dim", markup=False, highlight=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        self._end_segment()

"""A progress bar fed by MCP progress notifications, drawn on stderr.

On a terminal it redraws one line; otherwise (a pipe, a log) it writes one line per update, so
scripts and tests can read every step.
"""

from __future__ import annotations

import sys
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.updates = 0
        self._interactive = self.stream.isatty()
        self._drawn = False

    def render(self, progress: float, total: float | None, message: str | None) -> str:
        if total:
            fraction = min(1.0, max(0.0, progress / total))
            filled = round(fraction * WIDTH)
            bar = "█" * filled + "░" * (WIDTH - filled)
            text = f"{self.label} [{bar}] {fraction:4.0%} {progress:g}/{total:g}"
        else:
            text = f"{self.label} [{'·' * WIDTH}] {progress:g}"
        return f"{text} {message}" if message else text

    async def update(self, progress: float, total: float | None, message: str | None) -> None:
        """A ``progress_callback`` for ``call_tool``."""
        self.updates += 1
        line = self.render(progress, total, message)
        if self._interactive:
            self.stream.write("\r\x1b[2K" + line)
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._interactive and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False

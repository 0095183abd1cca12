"""Streamed Markdown for a terminal, a line at a time.

The model's answer arrives in small pieces. Each line is styled with ANSI escapes as soon as it
is complete (the unfinished last line is kept as :attr:`MarkdownStream.pending` until its
newline, or the end of the answer: the stream printer shows it unstyled meanwhile). Covered: headings, emphasis,
inline code, fenced code blocks, bullet and numbered lists, block quotes, links and rules —
what chat answers use. Anything else is shown as written.

Deliberately small and dependency-free: the servers share this environment, and every module a
server imports at start-up delays its handshake.
"""

from __future__ import annotations

import re

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
ITALIC = "\x1b[3m"
UNDERLINE = "\x1b[4m"
CYAN = "\x1b[36m"
MAGENTA = "\x1b[35m"

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,3})[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s*>\s?(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE = re.compile(r"`([^`]+)`")
# Underscores emphasise only at word boundaries (as in CommonMark): ``profile__profile_history``
# and ``snake_case`` stay as written; asterisks may emphasise inside a word.
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=[^\s_])(.+?)(?<=[^\s_])__(?!\w)")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")


def inline(text: str) -> str:
    """Emphasis, inline code and links of one line as ANSI (code spans are left untouched inside)."""
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        spans.append(f"{CYAN}{match.group(1)}{RESET}")
        return f"\x00{len(spans) - 1}\x00"

    text = _CODE.sub(keep, text)
    text = _LINK.sub(lambda m: f"{UNDERLINE}{m.group(1)}{RESET} {DIM}({m.group(2)}){RESET}", text)
    text = _BOLD.sub(lambda m: f"{BOLD}{m.group(1) or m.group(2)}{RESET}", text)
    text = _ITALIC.sub(lambda m: f"{ITALIC}{m.group(1) or m.group(2)}{RESET}", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], text)


class MarkdownStream:
    """Feed streamed text; get back styled, complete lines."""

    def __init__(self, width: int = 80) -> None:
        self.width = width
        self._pending = ""
        self._in_code = False

    @property
    def pending(self) -> str:
        """The unfinished last line, as written (unstyled)."""
        return self._pending

    def feed(self, text: str) -> str:
        """Styled output for every line completed by ``text`` (with their newlines)."""
        self._pending += text
        *complete, self._pending = self._pending.split("\n")
        return "".join(self._line(line) + "\n" for line in complete)

    def flush(self) -> str:
        """The unfinished last line, styled (the answer ended)."""
        line, self._pending = self._pending, ""
        self._in_code = False
        return self._line(line) if line else ""

    def _line(self, line: str) -> str:
        if _FENCE.match(line):
            self._in_code = not self._in_code
            return f"{DIM}{line.strip()}{RESET}"
        if self._in_code:
            return f"{CYAN}  {line}{RESET}"
        if match := _HEADING.match(line):
            level, title = len(match.group(1)), inline(match.group(2))
            return f"{BOLD}{MAGENTA if level == 1 else ''}{title}{RESET}"
        if _RULE.match(line):
            return f"{DIM}{'─' * min(self.width, 60)}{RESET}"
        if match := _BULLET.match(line):
            return f"{match.group(1)}• {inline(match.group(2))}"
        if match := _NUMBERED.match(line):
            return f"{match.group(1)}{match.group(2)}. {inline(match.group(3))}"
        if match := _QUOTE.match(line):
            return f"{DIM}│{RESET} {ITALIC}{inline(match.group(1))}{RESET}"
        return inline(line)

"""The terminal seam of the forms: :class:`FormIO`, on prompt_toolkit or scripted for tests."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, Protocol, TextIO

import anyio.lowlevel

from folio_orchestrator.ui.console import TERMINAL, Console

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

CTRL_C = "\x03"
"""In a :class:`ScriptedFormIO` script: the person pressed Ctrl-C (the form is cancelled)."""
CTRL_D = "\x04"
"""In a :class:`ScriptedFormIO` script: the person pressed Ctrl-D (the form is declined)."""


class FormAborted(Exception):
    """Raised by :meth:`FormIO.ask` on Ctrl-C (``action="cancel"``) or Ctrl-D (``"decline"``)."""

    def __init__(self, action: Literal["decline", "cancel"]) -> None:
        self.action: Literal["decline", "cancel"] = action
        key = "Ctrl-C" if action == "cancel" else "Ctrl-D"
        super().__init__(f"{key} pressed: {action}")


class FormIO(Protocol):
    """Where a form is shown and answered; ``console`` serialises the questions asked there."""

    console: Console

    def write(self, text: str) -> None:
        """Show one or more lines."""

    async def ask(self, prompt: str, *, secret: bool = False) -> str:
        """Read one answer; ``secret`` hides what is typed. Raises :class:`FormAborted`."""


class TerminalFormIO:
    """The real terminal: prompt_toolkit for input, everything written to ``stream`` (stderr).

    Ctrl-C at any prompt cancels the request (and, through the console, the chat turn it came
    from), Ctrl-D (on an empty line) declines it. Answers are kept in no history, so a secret
    cannot come back with the Up arrow.
    """

    def __init__(self, stream: TextIO | None = None, *, console: Console | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._session: PromptSession[str] | None = None
        self.console = console if console is not None else TERMINAL

    def write(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

    async def ask(self, prompt: str, *, secret: bool = False) -> str:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import DummyHistory
        from prompt_toolkit.output import create_output

        if self._session is None:
            # imported here: prompt_toolkit is only needed once someone is actually asked
            self._session = PromptSession(history=DummyHistory(), output=create_output(stdout=self._stream))
        try:
            return await self._session.prompt_async(prompt, is_password=secret)
        except KeyboardInterrupt:
            self.console.interrupt()
            raise FormAborted("cancel") from None
        except EOFError:
            raise FormAborted("decline") from None


class ScriptedFormIO:
    """A :class:`FormIO` that answers from a script and records what was shown (for tests).

    Script entries are the typed lines; :data:`CTRL_C` / :data:`CTRL_D` press those keys.
    Running out of script raises ``RuntimeError`` naming the prompt that was left unanswered.
    """

    def __init__(self, script: Iterable[str], *, console: Console | None = None) -> None:
        self._script = list(script)
        self.console = console if console is not None else Console()
        self.lines: list[str] = []
        self.prompts: list[tuple[str, bool]] = []

    @property
    def output(self) -> str:
        """Everything written and asked, in order, as one text."""
        return "\n".join(self.lines)

    @property
    def remaining(self) -> list[str]:
        return list(self._script)

    def write(self, text: str) -> None:
        self.lines.append(text)

    async def ask(self, prompt: str, *, secret: bool = False) -> str:
        await anyio.lowlevel.checkpoint()  # a real prompt waits: let other tasks run, as they would
        self.prompts.append((prompt, secret))
        self.lines.append(prompt)
        if not self._script:
            raise RuntimeError(f"scripted input ran out at prompt {prompt!r}")
        answer = self._script.pop(0)
        if answer == CTRL_C:
            self.console.interrupt()
            raise FormAborted("cancel")
        if answer == CTRL_D:
            raise FormAborted("decline")
        return answer


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Server-supplied text made safe to print: no escape sequences or bidi overrides."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))

"""The terminal's streamed Markdown and the chat's stream printer."""

from __future__ import annotations

import io

from folio_orchestrator.agent import ToolCallFinished, ToolCallStarted, ToolOutcome
from folio_orchestrator.llm import Completion, Message, TextDelta, Usage, tool_call
from folio_orchestrator.ui.markdown import BOLD, CYAN, ITALIC, RESET, UNDERLINE, MarkdownStream, inline
from folio_orchestrator.ui.stream import StreamPrinter


def test_inline_styles_leave_code_spans_alone() -> None:
    assert inline("a **bold** and *soft* word") == f"a {BOLD}bold{RESET} and {ITALIC}soft{RESET} word"
    assert inline("run `x **y**` now") == f"run {CYAN}x **y**{RESET} now"
    assert inline("see [docs](https://example.org)").startswith(f"see {UNDERLINE}docs{RESET}")
    assert inline("2 * 3 * 4 and snake_case_name") == "2 * 3 * 4 and snake_case_name"


def test_lines_are_styled_as_soon_as_they_are_complete() -> None:
    md = MarkdownStream()
    assert md.feed("# Ti") == ""  # an unfinished line waits
    heading = md.feed("tle\n- one\n- tw")
    assert "Title" in heading and heading.startswith(BOLD) and "• one\n" in heading
    block = md.feed("o\n```py\nx = *a*\n```\n1) last")
    assert block.count("\n") == 4 and "• two" in block and "x = *a*" in block
    assert md.flush() == "1. last"


def test_code_blocks_are_not_styled_inside() -> None:
    md = MarkdownStream()
    out = md.feed("```\n**not bold**\n```\n**bold**\n")
    lines = out.splitlines()
    assert "**not bold**" in lines[1] and lines[1].startswith(CYAN)
    assert lines[3] == f"{BOLD}bold{RESET}"


def _completion(text: str) -> Completion:
    return Completion(
        message=Message.assistant(text), stop_reason="end_turn", usage=Usage(provider="t", model="t")
    )


def test_the_printer_streams_plain_text_to_a_pipe_and_shows_tool_calls() -> None:
    out = io.StringIO()
    printer = StreamPrinter(out, markdown=False)
    call = tool_call("profile__profile_search", {"query": "kafka"})
    for event in (
        TextDelta("Let me "),
        TextDelta("look."),
        ToolCallStarted(call),
        ToolCallFinished(call, ToolOutcome("{}", False, "profile", "profile_search"), 0.012),
        TextDelta("**Found** it."),
        _completion("**Found** it."),
    ):
        printer(event)
    assert out.getvalue() == (
        "Let me look.\n"
        '  → profile__profile_search({"query":"kafka"})\n'
        "  ✓ profile__profile_search 12 ms\n"
        "**Found** it.\n"
    )
    assert printer.first_token_at is not None


def test_the_printer_styles_markdown_on_a_terminal() -> None:
    out = io.StringIO()
    printer = StreamPrinter(out, markdown=True)
    printer(TextDelta("**Hi**\nthere"))
    assert out.getvalue() == f"{BOLD}Hi{RESET}\n"  # the second line waits for its end
    printer(_completion("**Hi**\nthere"))
    assert out.getvalue() == f"{BOLD}Hi{RESET}\nthere\n"

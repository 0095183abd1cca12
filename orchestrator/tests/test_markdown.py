"""The terminal's streamed Markdown and the chat's stream printer."""

from __future__ import annotations

import io

import anyio
import anyio.lowlevel
import pytest

from folio_orchestrator.agent import ToolCallFinished, ToolCallStarted, ToolOutcome
from folio_orchestrator.llm import (
    Completion,
    Message,
    TestModel,
    TextDelta,
    ToolResultPart,
    ToolSpec,
    Usage,
    tool_call,
)
from folio_orchestrator.ui.console import Console
from folio_orchestrator.ui.markdown import BOLD, CYAN, DIM, ITALIC, RESET, UNDERLINE, MarkdownStream, inline
from folio_orchestrator.ui.stream import ERASE_BELOW, StreamPrinter


def test_inline_styles_leave_code_spans_alone() -> None:
    assert inline("a **bold** and *soft* word") == f"a {BOLD}bold{RESET} and {ITALIC}soft{RESET} word"
    assert inline("run `x **y**` now") == f"run {CYAN}x **y**{RESET} now"
    assert inline("see [docs](https://example.org)").startswith(f"see {UNDERLINE}docs{RESET}")
    assert inline("2 * 3 * 4 and snake_case_name") == "2 * 3 * 4 and snake_case_name"


def test_double_underscores_inside_words_are_not_emphasis() -> None:
    names = 'called profile__profile_history, then {"memory__memory_recall": 1, "profile__x": 2}'
    assert inline(names) == names
    assert inline("x__y__z") == "x__y__z"
    assert inline("a __strong__ word, __this__.") == f"a {BOLD}strong{RESET} word, {BOLD}this{RESET}."
    assert inline("in**side**word") == f"in{BOLD}side{RESET}word"  # asterisks may emphasise inside


@pytest.mark.anyio
async def test_the_test_models_answer_keeps_tool_names_through_the_markdown() -> None:
    tools = [
        ToolSpec(name="profile__profile_history", read_only=True),
        ToolSpec(name="profile__profile_get", read_only=True),
        ToolSpec(name="profile__profile_update"),
    ]
    model = TestModel()
    first = await model.complete([Message.user("go")], tools=tools)
    results = Message.tool_results(
        [
            ToolResultPart(call_id=c.id, content='{"entries": [{"by": "a__b"}]}')
            for c in first.message.tool_calls
        ]
    )
    final = await model.complete([Message.user("go"), first.message, results], tools=tools)
    md = MarkdownStream()
    shown = md.feed(final.message.text) + md.flush()
    for name in ("profile__profile_history", "profile__profile_get", "profile__profile_update"):
        assert f"{CYAN}{name}{RESET}" in shown  # a code span, as written
    assert '{"entries": [{"by": "a__b"}]}' in shown


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
    printer = StreamPrinter(out, markdown=True, width=80)
    printer(TextDelta("**Hi**\nthere"))
    assert out.getvalue() == f"{BOLD}Hi{RESET}\nthere"  # the unfinished line is shown as it is
    printer(_completion("**Hi**\nthere"))
    assert out.getvalue() == f"{BOLD}Hi{RESET}\nthere\r{ERASE_BELOW}there\n"


def test_tokens_show_as_they_arrive_and_the_line_is_restyled_in_place_when_complete() -> None:
    out = io.StringIO()
    printer = StreamPrinter(out, markdown=True, width=80)
    shown: list[str] = []
    for piece in ("Hel", "lo **wor", "ld**", "\nnext"):
        printer(TextDelta(piece))
        shown.append(out.getvalue())
    assert shown[0] == "Hel"
    assert shown[1] == "Hello **wor"  # no newline yet: each token is on the screen at once
    assert shown[2] == "Hello **world**"
    assert shown[3] == f"Hello **world**\r{ERASE_BELOW}Hello {BOLD}world{RESET}\nnext"


def test_a_draft_that_wrapped_is_erased_from_its_first_row() -> None:
    out = io.StringIO()
    printer = StreamPrinter(out, markdown=True, width=10)
    printer(TextDelta("x" * 25))  # three rows on a 10-column terminal
    printer(TextDelta("\n"))
    assert out.getvalue() == "x" * 25 + f"\r\x1b[2A{ERASE_BELOW}" + "x" * 25 + "\n"


@pytest.mark.anyio
async def test_output_waits_while_a_question_is_open_and_questions_take_turns() -> None:
    console = Console()
    out = io.StringIO()
    printer = StreamPrinter(out, markdown=False, console=console)
    call = tool_call("profile__profile_match_job", {"description": "a"})
    order: list[str] = []
    first_open = anyio.Event()

    async def question(name: str, opened: anyio.Event | None) -> None:
        async with console.question():
            order.append(f"{name} opens")
            if opened is not None:
                opened.set()
            before = out.getvalue()
            printer(ToolCallFinished(call, ToolOutcome("{}", False, "profile", "profile_match_job"), 0.001))
            assert out.getvalue() == before  # held back while the question is open
            await anyio.lowlevel.checkpoint()  # the other question may try to open meanwhile
            order.append(f"{name} closes")

    printer(ToolCallStarted(call))
    async with anyio.create_task_group() as tg:
        tg.start_soon(question, "first", first_open)
        await first_open.wait()
        tg.start_soon(question, "second", None)
    assert order == ["first opens", "first closes", "second opens", "second closes"]
    assert out.getvalue().startswith("  → profile__profile_match_job")
    assert out.getvalue().count("✓ profile__profile_match_job") == 2  # shown once each question closed
    assert DIM not in out.getvalue()

"""``folio chat``, ``folio ask``, ``folio history`` and ``folio usage``."""

from __future__ import annotations

import json
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click

from folio_orchestrator.cli._context import EXIT_FAILED, EXIT_USAGE, State, echo_json, fail, run

# The chat host, the models and the terminal UI are imported by the commands that use them, so
# that every other `folio` command starts without them.
if TYPE_CHECKING:
    from folio_orchestrator.agent import TurnResult
    from folio_orchestrator.chat import ChatHost, ChatOptions
    from folio_orchestrator.ui.stream import StreamPrinter

model_option = click.option(
    "--model",
    "model_spec",
    default=None,
    help="anthropic:<model>, openai:<model>, openai:<model>@<base-url>, or test [env FOLIO_MODEL].",
)

SLASH_HELP = """\
/tools [server]          the fleet's tools
/servers                 the servers and their state
/call NAME JSON          call a tool yourself
/read URI                read a resource
/prompt NAME key=value…  render a prompt
/usage                   tokens and cost so far
/model [SPEC]            show or switch the model
/clear                   start a new conversation
/exit                    leave (or Ctrl-D)"""


def _options(model_spec: str | None, interactive: bool) -> ChatOptions:
    from folio_orchestrator.chat import terminal_options
    from folio_orchestrator.llm import ModelConfigError

    try:
        return terminal_options(model_spec, interactive=interactive)
    except ModelConfigError as exc:
        fail(str(exc), EXIT_USAGE)


async def _turn_with_ctrl_c(host: ChatHost, question: str, printer: StreamPrinter) -> TurnResult | None:
    """Run a turn; Ctrl-C cancels it (and the tool calls in flight) instead of leaving the chat,
    at the prompt of a server's question too (see :meth:`ChatHost.turn`)."""
    result: TurnResult | None = None
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:

            async def interrupt() -> None:
                with anyio.open_signal_receiver(signal.SIGINT) as signals:
                    async for _ in signals:
                        scope.cancel()
                        return

            tg.start_soon(interrupt)
            try:
                result = await host.turn(question, printer)
            finally:
                printer.close()
                tg.cancel_scope.cancel()
    if scope.cancelled_caught or (result is not None and result.stopped == "cancelled"):
        click.echo("(cancelled)", err=True)
    return result


def _report(result: TurnResult | None) -> None:
    if result is None:
        return
    if result.stopped == "model_error":
        click.echo(f"folio: the model failed: {result.error}", err=True)


class _Lines:
    """The chat's input: a line editor with history on a terminal, plain lines otherwise."""

    def __init__(self, history_file: Path | None, interactive: bool) -> None:
        self._session: Any = None
        if interactive:
            from prompt_toolkit import PromptSession
            from prompt_toolkit.history import FileHistory, InMemoryHistory

            history: Any = InMemoryHistory()
            if history_file is not None:
                history_file.parent.mkdir(parents=True, exist_ok=True)
                history = FileHistory(str(history_file))
            self._session = PromptSession(history=history)

    async def read(self) -> str | None:
        """The next line, or None at the end (Ctrl-D). Ctrl-C at the prompt clears the line."""
        if self._session is None:
            line = await anyio.to_thread.run_sync(sys.stdin.readline)
            return line.rstrip("\n") if line else None
        while True:
            try:
                text: str = await self._session.prompt_async("you › ")
                return text
            except KeyboardInterrupt:
                continue
            except EOFError:
                return None


async def _slash(host: ChatHost, line: str) -> bool:
    """Run a /command; False when the chat should end."""
    from folio_orchestrator.chat import configured_model
    from folio_orchestrator.errors import FolioHostError
    from folio_orchestrator.llm import ModelError
    from folio_orchestrator.ui.content import render_content, render_prompt, render_resource
    from folio_orchestrator.ui.table import table

    try:
        words = shlex.split(line[1:])
    except ValueError as exc:
        click.echo(f"folio: {exc}", err=True)
        return True
    if not words:
        click.echo(SLASH_HELP)
        return True
    command, args = words[0].lower(), words[1:]
    fleet = host.fleet
    try:
        if command in ("exit", "quit"):
            return False
        if command == "help":
            click.echo(SLASH_HELP)
        elif command == "tools":
            rows: list[list[object]] = [
                [t.name, (t.tool.description or "").strip().split("\n")[0]] for t in fleet.tools(*args[:1])
            ]
            click.echo(table(["name", "description"], rows, max_width={1: 80}))
        elif command == "servers":
            statuses: list[list[object]] = [
                [s.name, s.protocol_version or "-", s.state.value, s.pid or "-", s.restarts, s.tools]
                for s in fleet.status()
            ]
            click.echo(table(["name", "era", "state", "pid", "restarts", "tools"], statuses))
        elif command == "call":
            if not args:
                click.echo("usage: /call NAME JSON", err=True)
                return True
            # the JSON is taken verbatim from the line (shell-style splitting would eat its quotes)
            raw = line[1:].split(None, 2)
            arguments = json.loads(raw[2] if len(raw) > 2 else "{}")
            result = await fleet.call_tool(args[0], arguments)
            click.echo(render_content(result))
        elif command == "read":
            if len(args) != 1:
                click.echo("usage: /read URI", err=True)
                return True
            _, resource = await fleet.read_resource(args[0])
            click.echo(render_resource(resource))
        elif command == "prompt":
            if not args:
                click.echo("usage: /prompt NAME key=value…", err=True)
                return True
            values = dict(a.split("=", 1) for a in args[1:] if "=" in a)
            click.echo(render_prompt(await fleet.get_prompt(args[0], values)))
        elif command == "usage":
            await _print_usage(host, as_json=False)
        elif command == "model":
            if args:
                model = configured_model(args[0])
                if model is not None:
                    await host.use_model(model)
            click.echo(f"model: {host.model.name if host.model else 'none'}")
        elif command == "clear":
            if host.model is not None:
                await host.new_conversation()
            click.echo("(new conversation)")
        else:
            click.echo(f"unknown command /{command}\n{SLASH_HELP}", err=True)
    except json.JSONDecodeError as exc:
        click.echo(f"folio: the arguments are not valid JSON: {exc.msg}", err=True)
    except (FolioHostError, ModelError) as exc:
        click.echo(f"folio: {exc}", err=True)
    except Exception as exc:  # a protocol error from a server: report it and keep the chat going
        click.echo(f"folio: {type(exc).__name__}: {exc}", err=True)
    return True


async def _chat(state: State, model_spec: str | None, resume: str | None) -> None:
    from folio_orchestrator.chat import NO_MODEL_HELP, ChatHost
    from folio_orchestrator.forms import terminal_available
    from folio_orchestrator.ui.stream import StreamPrinter

    interactive = terminal_available()
    options = _options(model_spec, interactive)
    host = ChatHost(state.config, state.settings, options)
    async with host.running():
        ready = [s.name for s in host.fleet.status() if s.state.value == "ready"]
        click.echo(f"folio chat — servers ready: {', '.join(ready) or 'none'} · /help for commands", err=True)
        if host.model is None:
            click.echo(NO_MODEL_HELP, err=True)
        else:
            agent = await (host.resume(resume) if resume else host.new_conversation())
            click.echo(f"model: {host.model.name} · conversation {str(agent.conversation)[:8]}", err=True)
        lines = _Lines(state.settings.data_dir / "chat_history", interactive)
        while True:
            line = await lines.read()
            if line is None:
                break
            line = line.strip()
            if not line:
                continue
            if line.startswith("/"):
                if not await _slash(host, line):
                    break
                continue
            if host.agent is None:
                click.echo(NO_MODEL_HELP, err=True)
                continue
            printer = StreamPrinter(console=host.options.console)
            _report(await _turn_with_ctrl_c(host, line, printer))


@click.command("chat")
@model_option
@click.option(
    "--resume",
    "resume",
    default=None,
    help="Continue a conversation (an id prefix from `folio history list`).",
)
@click.pass_obj
def chat_command(state: State, model_spec: str | None, resume: str | None) -> None:
    """Talk with the owner's digital twin, with the whole fleet as its tools."""
    run(lambda: _chat(state, model_spec, resume))


@click.command("ask")
@click.argument("question")
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer, tool calls and usage as JSON.")
@click.pass_obj
def ask_command(state: State, question: str, model_spec: str | None, as_json: bool) -> None:
    """Ask one question (one turn, for scripts)."""
    from folio_orchestrator.chat import NO_MODEL_HELP, ChatHost
    from folio_orchestrator.ui.stream import StreamPrinter

    options = _options(model_spec, interactive=False)
    if options.model is None:
        fail(NO_MODEL_HELP, EXIT_USAGE)

    async def main() -> dict[str, Any]:
        host = ChatHost(state.config, state.settings, options)
        async with host.running():
            agent = await host.new_conversation()
            printer = StreamPrinter(
                sys.stderr if as_json else sys.stdout, markdown=False if as_json else None
            )
            result = await agent.turn(question, None if as_json else printer)
            printer.close()
            calls = (
                await host.history.tool_calls(agent.conversation)
                if host.history and agent.conversation
                else []
            )
            return {
                "conversation": str(agent.conversation),
                "answer": result.text,
                "stopped": result.stopped,
                "error": result.error,
                "steps": result.steps,
                "tool_calls": [asdict(c) for c in calls],
                "usage": [u.model_dump(mode="json") for u in result.usage],
            }

    outcome = run(main)
    if as_json:
        echo_json(outcome)
    if outcome["stopped"] == "model_error":
        fail(f"the model failed: {outcome['error']}", EXIT_FAILED)


# --- history and usage ------------------------------------------------------------------------


def _with_history(state: State, body: Callable[[Any], Awaitable[Any]]) -> Any:
    from folio_orchestrator.chat import _history

    async def main() -> Any:
        async with _history(state.settings) as history:
            return await body(history)

    return run(main)


@click.group("history")
def history_group() -> None:
    """Past conversations: list, show, resume."""


@history_group.command("list")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def history_list(state: State, limit: int, as_json: bool) -> None:
    """The latest conversations."""
    from folio_orchestrator.ui.table import table

    async def body(history: Any) -> list[Any]:
        return list(await history.conversations(limit))

    conversations = _with_history(state, body)
    if as_json:
        echo_json(
            [
                {
                    **asdict(c),
                    "id": str(c.id),
                    "created_at": c.created_at.isoformat(),
                    "updated_at": c.updated_at.isoformat(),
                }
                for c in conversations
            ]
        )
        return
    rows = [
        [str(c.id)[:8], c.updated_at.strftime("%Y-%m-%d %H:%M"), c.messages, c.model or "-", c.title or ""]
        for c in conversations
    ]
    click.echo(table(["id", "updated", "messages", "model", "title"], rows, max_width={4: 60}))


@history_group.command("show")
@click.argument("conversation")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def history_show(state: State, conversation: str, as_json: bool) -> None:
    """One conversation's messages and tool calls."""
    from folio_orchestrator.llm import Message

    async def body(history: Any) -> dict[str, Any]:
        found = await history.find(conversation)
        messages = await history.messages(found.id)
        calls = await history.tool_calls(found.id)
        return {
            "id": str(found.id),
            "messages": [(m.role, m.content) for m in messages],
            "tool_calls": [asdict(c) for c in calls],
        }

    shown = _with_history(state, body)
    if as_json:
        echo_json(shown)
        return
    click.echo(f"conversation {shown['id']}")
    for role, content in shown["messages"]:
        message = Message.model_validate(content)
        if role == "tool":
            for result in message.results:
                click.echo(f"  [tool result{' (error)' if result.is_error else ''}] {result.content[:200]}")
            continue
        for call in message.tool_calls:
            click.echo(f"  [{role} calls {call.name}] {json.dumps(call.arguments, ensure_ascii=False)[:200]}")
        if message.text:
            click.echo(f"{role}: {message.text}")


@history_group.command("resume")
@click.argument("conversation")
@model_option
@click.pass_obj
def history_resume(state: State, conversation: str, model_spec: str | None) -> None:
    """Continue a conversation in the chat."""
    run(lambda: _chat(state, model_spec, conversation))


async def _print_usage(host_or_history: Any, *, as_json: bool, days: int | None = None) -> dict[str, Any]:
    from folio_orchestrator.ui.table import table

    history = getattr(host_or_history, "history", host_or_history)
    if history is None:
        click.echo("no usage recorded (no history)")
        return {}
    report: dict[str, Any] = {}
    for group in ("model", "server", "day"):
        rows = await history.usage(group, days=days)
        report[f"by_{group}"] = [asdict(r) for r in rows]
        if not as_json:
            click.echo(f"\nby {group}")
            click.echo(
                table(
                    [group, "requests", "input tokens", "output tokens", "cost $"],
                    [
                        [
                            r.key,
                            r.requests,
                            r.input_tokens,
                            r.output_tokens,
                            "-" if r.cost_usd is None else f"{r.cost_usd:.4f}",
                        ]
                        for r in rows
                    ],
                )
            )
    return report


@click.command("usage")
@click.option("--days", type=int, default=None, help="Only the last N days.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def usage_command(state: State, days: int | None, as_json: bool) -> None:
    """Model tokens and estimated cost, by model, by requesting server and by day."""

    async def body(history: Any) -> dict[str, Any]:
        return await _print_usage(history, as_json=as_json, days=days)

    report = _with_history(state, body)
    if as_json:
        echo_json(report)

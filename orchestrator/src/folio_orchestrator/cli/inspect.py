"""The fleet's nouns: ``servers``, ``tools``, ``call``, ``resources``, ``read``, ``prompts``, ``prompt``.

Each invocation starts the servers it needs, does its job and shuts them down (no daemon): a
command aimed at one server (``call``, ``prompt``, ``read --server``) starts only that one.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from folio_orchestrator.cli._context import EXIT_FAILED, EXIT_USAGE, State, echo_json, fail, run
from folio_orchestrator.errors import RoutingError
from folio_orchestrator.routing import Router

# The MCP SDK (and the ui package, which imports its types) load when a command runs, not for --help.
if TYPE_CHECKING:
    from folio_orchestrator.fleet import Fleet, ServerStatus

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
server_option = click.option("--server", "server", default=None, help="Only this server.")
timeout_option = click.option(
    "--timeout",
    type=float,
    default=None,
    help="Seconds before the request is cancelled [default: the server's].",
)


def _table(headers: list[str], rows: list[list[object]], max_width: dict[int, int]) -> str:
    from folio_orchestrator.ui.table import table

    return table(headers, rows, max_width=max_width)


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


def _servers_to_start(state: State, server: str | None) -> list[str] | None:
    if server is None:
        return None
    if server not in state.config.servers:
        raise RoutingError(
            f"no server named {server!r} in {state.config.path} (servers: {', '.join(state.config.servers)})"
        )
    return [server]


def _server_of(state: State, name: str) -> list[str] | None:
    """The one server an exposed name belongs to (start only it), or None (start every server)."""
    server = Router(list(state.config.servers)).server_of(name)
    return [server] if server is not None else None


def _report_unready(fleet: Fleet, names: list[str] | None) -> None:
    """Say on stderr which servers are not ready (their items are missing from a listing)."""
    for status in fleet.status():
        if names is not None and status.name not in names:
            continue
        if status.state not in ("ready", "disabled"):
            click.echo(
                f"folio: server {status.name!r} is {status.state.value}: {status.reason or ''}", err=True
            )


# --- servers -----------------------------------------------------------------------------------


def _compact_capabilities(names: list[str]) -> str:
    """``tools resources(subscribe) prompts …``: the table leaves out listChanged (see --json)."""
    base = [n for n in names if "." not in n]
    return " ".join(f"{n}(subscribe)" if f"{n}.subscribe" in names else n for n in base) or "-"


def _server_rows(statuses: list[ServerStatus]) -> list[list[object]]:
    return [
        [
            s.name,
            s.protocol_version or "-",
            s.state.value,
            s.pid or "-",
            s.restarts,
            s.tools,
            s.resources + s.templates,
            s.prompts,
            _compact_capabilities(s.capabilities),
        ]
        for s in statuses
    ]


@click.command("servers")
@json_option
@click.pass_obj
def servers_command(state: State, as_json: bool) -> None:
    """Start every enabled server and show how each one is doing."""

    async def main() -> list[ServerStatus]:
        async with state.fleet(None) as fleet:
            return fleet.status()

    statuses = run(main)
    if as_json:
        echo_json([s.as_json() for s in statuses])
        return
    headers = ["name", "era", "state", "pid", "restarts", "tools", "resources", "prompts", "capabilities"]
    click.echo(_table(headers, _server_rows(statuses), max_width={8: 70}))
    for s in statuses:
        if s.state in ("ready", "disabled") and not s.reason:
            continue
        if s.reason:
            click.echo(f"\n{s.name}: {s.reason}")
        if s.state != "ready" and s.stderr_tail:
            click.echo("\n".join(f"  | {line}" for line in s.stderr_tail[-5:]))


# --- tools -------------------------------------------------------------------------------------


@click.command("tools")
@server_option
@json_option
@click.pass_obj
def tools_command(state: State, server: str | None, as_json: bool) -> None:
    """List the tools of the fleet, by the names the fleet exposes (<server>__<tool>)."""
    from folio_orchestrator.ui.content import dump

    async def main() -> list[dict[str, Any]]:
        start = _servers_to_start(state, server)
        async with state.fleet(start) as fleet:
            _report_unready(fleet, start)
            return [
                {
                    "name": t.name,
                    "server": t.server,
                    "tool": t.tool.name,
                    "title": t.tool.title,
                    "description": t.tool.description,
                    "input_schema": t.tool.input_schema,
                    "output_schema": t.tool.output_schema,
                    "annotations": dump(t.tool.annotations) if t.tool.annotations else None,
                }
                for t in fleet.tools(server)
            ]

    tools = run(main)
    if as_json:
        echo_json(tools)
        return
    rows = [[t["name"], _first_line(t["description"])] for t in tools]
    click.echo(_table(["name", "description"], rows, max_width={1: 80}))


@click.command("call")
@click.argument("name")
@click.argument("arguments", default="{}", required=False)
@timeout_option
@json_option
@click.pass_obj
def call_command(state: State, name: str, arguments: str, timeout: float | None, as_json: bool) -> None:
    """Call the tool NAME with ARGUMENTS, a JSON object ('-' reads it from stdin).

    Structured results are printed as JSON; progress notifications draw a progress bar on
    stderr. Exits with 1 when the tool reports an error.
    """
    from folio_orchestrator.ui.content import dump, render_content
    from folio_orchestrator.ui.progress import ProgressBar

    raw = sys.stdin.read() if arguments == "-" else arguments
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"ARGUMENTS is not valid JSON: {exc.msg} at column {exc.colno}", EXIT_USAGE)
    if not isinstance(parsed, dict):
        fail('ARGUMENTS must be a JSON object, like \'{"query": "kafka"}\'', EXIT_USAGE)
    bar = ProgressBar(name)

    async def main() -> Any:
        async with state.fleet(_server_of(state, name)) as fleet:
            try:
                return await fleet.call_tool(name, parsed, timeout=timeout, progress=bar.update)
            finally:
                bar.close()

    result = run(main)
    if as_json:
        echo_json(dump(result))
    elif result.is_error:
        click.echo(f"folio: the tool reported an error:\n{render_content(result)}", err=True)
    else:
        click.echo(render_content(result))
    if result.is_error:
        sys.exit(EXIT_FAILED)


# --- resources ---------------------------------------------------------------------------------


@click.command("resources")
@server_option
@json_option
@click.pass_obj
def resources_command(state: State, server: str | None, as_json: bool) -> None:
    """List the resources and resource templates of the fleet, by server."""
    from folio_orchestrator.ui.content import dump

    async def main() -> dict[str, list[dict[str, Any]]]:
        start = _servers_to_start(state, server)
        async with state.fleet(start) as fleet:
            _report_unready(fleet, start)
            return {
                "resources": [{"server": n, **dump(r)} for n, r in fleet.resources(server)],
                "templates": [{"server": n, **dump(t)} for n, t in fleet.templates(server)],
            }

    found = run(main)
    if as_json:
        echo_json(found)
        return
    rows = [
        [r["server"], r["uri"], r.get("mimeType") or "", r.get("title") or r["name"]]
        for r in found["resources"]
    ]
    rows += [
        [
            t["server"],
            t["uriTemplate"],
            t.get("mimeType") or "",
            (t.get("title") or t["name"]) + " (template)",
        ]
        for t in found["templates"]
    ]
    click.echo(_table(["server", "uri", "mime", "name"], rows, max_width={3: 50}))


@click.command("read")
@click.argument("uri")
@server_option
@click.option("--follow", is_flag=True, help="Subscribe, and print the resource again each time it changes.")
@click.option("--count", type=int, default=None, help="With --follow: stop after this many updates.")
@timeout_option
@json_option
@click.pass_obj
def read_command(
    state: State,
    uri: str,
    server: str | None,
    follow: bool,
    count: int | None,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Read the resource URI (the server is found from the URI; --server to choose)."""
    from folio_orchestrator.ui.content import dump, render_resource

    def show(result: Any) -> None:
        if as_json:
            click.echo(json.dumps(dump(result), ensure_ascii=False))
        else:
            click.echo(render_resource(result))

    async def main() -> None:
        async with state.fleet(_servers_to_start(state, server)) as fleet:
            owner, result = await fleet.read_resource(uri, server=server, timeout=timeout)
            show(result)
            if not follow:
                return
            async with fleet.events() as events:
                await fleet.subscribe(uri, server=owner)
                click.echo(f"folio: following {uri} on {owner} (Ctrl-C to stop)", err=True)
                seen = 0
                async for event in events:
                    if event.kind == "resource_updated" and event.server == owner and event.uri == uri:
                        _, result = await fleet.read_resource(uri, server=owner, timeout=timeout)
                        if not as_json:
                            click.echo(f"--- updated: {uri}")
                        show(result)
                        seen += 1
                        if count is not None and seen >= count:
                            return

    run(main)


# --- prompts -----------------------------------------------------------------------------------


@click.command("prompts")
@server_option
@json_option
@click.pass_obj
def prompts_command(state: State, server: str | None, as_json: bool) -> None:
    """List the prompts of the fleet, by exposed name (<server>__<prompt>)."""
    from folio_orchestrator.ui.content import dump

    async def main() -> list[dict[str, Any]]:
        start = _servers_to_start(state, server)
        async with state.fleet(start) as fleet:
            _report_unready(fleet, start)
            return [
                {
                    "name": p.name,
                    "server": p.server,
                    "prompt": p.prompt.name,
                    "description": p.prompt.description,
                    "arguments": [dump(a) for a in p.prompt.arguments or []],
                }
                for p in fleet.prompts(server)
            ]

    prompts = run(main)
    if as_json:
        echo_json(prompts)
        return
    rows = [
        [
            p["name"],
            " ".join(a["name"] + ("" if a.get("required") else "?") for a in p["arguments"]),
            _first_line(p["description"]),
        ]
        for p in prompts
    ]
    click.echo(_table(["name", "arguments", "description"], rows, max_width={2: 70}))


@click.command("prompt")
@click.argument("name")
@click.argument("arguments", nargs=-1)
@timeout_option
@json_option
@click.pass_obj
def prompt_command(
    state: State, name: str, arguments: tuple[str, ...], timeout: float | None, as_json: bool
) -> None:
    """Render the prompt NAME with key=value ARGUMENTS."""
    from folio_orchestrator.ui.content import dump, render_prompt

    values: dict[str, str] = {}
    for item in arguments:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"prompt arguments are key=value, not {item!r}", EXIT_USAGE)
        values[key] = value

    async def main() -> Any:
        async with state.fleet(_server_of(state, name)) as fleet:
            return await fleet.get_prompt(name, values, timeout=timeout)

    result = run(main)
    if as_json:
        echo_json(dump(result))
    else:
        click.echo(render_prompt(result))

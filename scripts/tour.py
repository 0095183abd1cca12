"""A short tour of Folio's profile server, as an MCP client sees it (``make tour``).

Spawns the installed ``folio-profile`` command over stdio exactly as Claude Desktop would, on the
embedded database and the sample portfolio, and shows what a few calls answer.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from folio_core.settings import FolioSettings

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "folio-profile"
JOB = """\
Staff Platform Engineer — Payments

Requirements:
- 8+ years of software engineering, including 3+ years on internal developer platforms
- Deep experience operating Kubernetes in production
- Strong Go or Python
- Experience with Kafka or other event streaming systems
- You have led cross-team technical initiatives

Nice to have:
- PCI DSS experience
- Experience with Rust
"""


def heading(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}")


def wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    if result.is_error:
        text = "".join(getattr(block, "text", "") for block in result.content)
        raise SystemExit(f"{tool} failed: {text}")
    assert result.structured_content is not None
    return result.structured_content


async def tour() -> None:
    portfolio = Path(os.environ.get("FOLIO_PORTFOLIO_DIR", ROOT / "configs" / "portfolio")).resolve()
    env = {"FOLIO_PORTFOLIO_DIR": str(portfolio)}
    for name, value in os.environ.items():
        if name.startswith("FOLIO_") and name != "FOLIO_PORTFOLIO_DIR":
            env[name] = value
    server = StdioServerParameters(command=str(COMMAND), args=[], env=env)
    log_path = FolioSettings().data_dir / "logs" / "folio-profile.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)

    heading("Starting folio-profile over stdio (as Claude Desktop would)")
    print(f"    its log (stderr) goes to {log_path}")
    started = time.perf_counter()
    with log_path.open("a") as errlog:
        await _tour(Client(stdio_client(server, errlog=errlog)), started)

    heading("Use it from Claude Desktop")
    # The same name and settings as `folio config claude`: the client then sees this database.
    client_env = {"FOLIO_PORTFOLIO_DIR": str(portfolio), "FOLIO_DATA_DIR": str(FolioSettings().data_dir)}
    entry = {"mcpServers": {"profile": {"command": str(COMMAND), "env": client_env}}}
    print(textwrap.indent(json.dumps(entry, indent=2), "    "))
    print("\n    More in README.md. Run the tests with: make test")


async def _tour(session: Client, started: float) -> None:
    async with session as client:
        handshake = time.perf_counter() - started
        info = client.server_info
        print(
            f"    {info.name if info else '?'} {info.version if info else ''}, protocol {client.protocol_version}, "
            f"handshake in {handshake:.2f} s"
        )
        history = await call(client, "profile_history", {"limit": 3})
        print(
            f"    ready in {time.perf_counter() - started:.2f} s (database, migrations, portfolio import, model)"
        )
        tools = [t.name for t in (await client.list_tools()).tools]
        resources = [r.uri for r in (await client.list_resources()).resources]
        prompts = [p.name for p in (await client.list_prompts()).prompts]
        print(wrap(f"tools: {', '.join(tools)}"))
        print(wrap(f"resources: {', '.join(resources)}, profile://versions/{{n}}"))
        print(wrap(f"prompts: {', '.join(prompts)}"))

        heading("profile_history — the résumé is versioned and every change audited")
        for entry in history["entries"]:
            print(
                f"    v{entry['version']}  {entry['action']:<8} {entry['at'][:19]}  {entry['reason'] or ''}"
            )

        basics = (await call(client, "profile_get", {"section": "basics"}))["content"]
        heading(f"profile_get basics — {basics.get('name')}, {basics.get('label', '')}")
        print(wrap(basics.get("summary", "")))

        heading("profile_search — by meaning, not just words")
        for query in ("on-call and incident response", "teaching others", "container orchestration"):
            result = await call(client, "profile_search", {"query": query, "limit": 2})
            print(f"    “{query}”")
            for hit in result["hits"]:
                print(f"      {hit['score']:.2f}  {hit['path']:<28} {textwrap.shorten(hit['text'], 62)}")

        heading("profile_match_job — requirement by requirement, with evidence")
        fit = await call(client, "profile_match_job", {"description": JOB})
        for item in fit["requirements"]:
            req = item["requirement"]
            evidence = item["evidence"][0]["path"] if item["evidence"] else "—"
            print(
                f"    {item['verdict']:<7} {item['score']:.2f}  [{req['importance']}] "
                f"{textwrap.shorten(req['text'], 58):<60} {evidence}"
            )
        print(f"    overall {fit['overall_score']:.2f}; gaps: {'; '.join(fit['gaps']) or 'none'}")
        print("    (no narrative: this client has no LLM to sample; `folio chat` will provide one)")

        heading("profile://skills — a resource")
        skills = json.loads((await client.read_resource("profile://skills")).contents[0].text)  # type: ignore[union-attr]
        for skill in skills["skills"][:5]:
            print(
                f"    {skill['name']:<26} {skill.get('level') or '':<13} {skill['years']:>4.1f} y  "
                f"{', '.join(skill['keywords'][:4])}"
            )


if __name__ == "__main__":
    anyio.run(tour)

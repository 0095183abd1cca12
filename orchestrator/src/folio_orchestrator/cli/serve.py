"""``folio serve`` (the web chat, the HTTP API and the MCP gateway) and ``folio tokens``."""

from __future__ import annotations

import os
from typing import Any

import click

from folio_orchestrator.cli._context import EXIT_USAGE, State, echo_json, fail, run

ALLOWED_HOSTS_ENV = "FOLIO_SERVE_ALLOWED_HOSTS"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True, help="The port to listen on.")
@click.option(
    "--model",
    "model_spec",
    default=None,
    help="anthropic:<model>, openai:<model>, openai:<model>@<base-url>, or test [env FOLIO_MODEL].",
)
@click.option(
    "--audience",
    "audiences",
    type=click.Choice(["public", "owner"]),
    multiple=True,
    help="Serve these audiences (each runs its own fleet) [default: public and owner].",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help=f"A Host name clients use besides loopback (for /mcp) [env {ALLOWED_HOSTS_ENV}, comma-separated].",
)
@click.pass_obj
def serve_command(
    state: State,
    host: str,
    port: int,
    model_spec: str | None,
    audiences: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
) -> None:
    """Serve the chat page, the HTTP API (/api/v1) and the MCP gateway (/mcp) over HTTP."""
    import uvicorn

    from folio_orchestrator.chat import configured_model
    from folio_orchestrator.cli._context import quiet_sdk_deprecations
    from folio_orchestrator.llm import ModelConfigError
    from folio_orchestrator.web.app import ServeOptions, create_app
    from folio_orchestrator.web.server import uvicorn_config
    from folio_orchestrator.web.service import WebService

    quiet_sdk_deprecations()
    try:
        model = configured_model(model_spec)
    except ModelConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if model is None:
        click.echo(
            "folio serve: no language model is configured; the chat will answer 503 (set FOLIO_MODEL)",
            err=True,
        )
    hosts = [*allowed_hosts, *(h for h in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip())]
    from folio_orchestrator.web.limits import limits_from_env

    try:
        limits = limits_from_env(os.environ)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    chosen: Any = tuple(audiences) or ("public", "owner")
    service = WebService(state.config, state.settings, model, audiences=chosen, limits=limits)

    def started() -> None:
        where = f"[{host}]" if ":" in host else host
        click.echo(f"folio serve: listening on http://{where}:{port} ({', '.join(chosen)})", err=True)

    options = ServeOptions(allowed_hosts=tuple(hosts), secure_cookie=host not in ("127.0.0.1", "localhost"))
    app = create_app(service, options, on_started=started)
    config = uvicorn_config(app, host=host, port=port)
    server = uvicorn.Server(config)
    run(server.serve)


@click.group("tokens")
def tokens_group() -> None:
    """Bearer tokens for the owner's API, gateway and page: create, list, revoke."""


def _with_tokens(state: State, body: Any) -> Any:
    from folio_orchestrator.chat import _history
    from folio_orchestrator.web.tokens import TokenStore

    async def main() -> Any:
        async with _history(state.settings) as history:
            return await body(TokenStore(history.pool))

    return run(main)


@tokens_group.command("create")
@click.option("--name", required=True, help="What the token is for (shown by `folio tokens list`).")
@click.option("--audience", type=click.Choice(["owner", "public"]), default="owner", show_default=True)
@click.option("--expires", default="90d", show_default=True, help="Lifetime: 30m, 12h, 30d, 2w, or 'never'.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def tokens_create(state: State, name: str, audience: str, expires: str, as_json: bool) -> None:
    """Create a token; its secret is printed once and stored only as a hash."""
    from folio_orchestrator.web.tokens import TokenError, parse_duration

    try:
        lifetime = None if expires.strip().lower() == "never" else parse_duration(expires)
    except TokenError as exc:
        fail(str(exc), EXIT_USAGE)

    async def body(store: Any) -> Any:
        try:
            return await store.create(name, audience=audience, expires_in=lifetime)
        except TokenError as exc:
            fail(str(exc), EXIT_USAGE)

    token, secret = _with_tokens(state, body)
    if as_json:
        echo_json({**token.as_json(), "token": secret})
        return
    click.echo(secret)
    click.echo(
        f"token {token.id} ({token.audience}, expires {token.expires_at or 'never'}); shown only now",
        err=True,
    )


@tokens_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def tokens_list(state: State, as_json: bool) -> None:
    """Every token: id, name, audience, expiry, whether revoked (never the secret)."""
    from folio_orchestrator.ui.table import table

    async def body(store: Any) -> Any:
        return await store.list()

    tokens = _with_tokens(state, body)
    if as_json:
        echo_json([t.as_json() for t in tokens])
        return
    if not tokens:
        click.echo("no tokens yet: `folio tokens create --name NAME` makes one")
        return
    rows = [
        [
            str(t.id)[:8],
            t.name,
            t.audience,
            t.expires_at.strftime("%Y-%m-%d %H:%M") if t.expires_at else "never",
            "revoked" if t.revoked_at else "live",
            t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "-",
        ]
        for t in tokens
    ]
    click.echo(table(["id", "name", "audience", "expires", "state", "last used"], rows))


@tokens_group.command("revoke")
@click.argument("token_id")
@click.pass_obj
def tokens_revoke(state: State, token_id: str) -> None:
    """Revoke the token whose id starts with TOKEN_ID."""
    from folio_orchestrator.web.tokens import TokenError

    async def body(store: Any) -> Any:
        try:
            return await store.revoke(token_id)
        except TokenError as exc:
            fail(str(exc), EXIT_USAGE)

    token = _with_tokens(state, body)
    click.echo(f"revoked {token.id} ({token.name})")

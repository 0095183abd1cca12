"""Glue between the runtime, the catalogue, the sandbox, the result cache and the run records.

A run has a record from its start: live in this process (its output so far, for
``demo://runs/{id}`` subscribers) and a row in ``demo.runs``, written when it starts and when it
ends (the end is announced on the change feed, so other processes' subscribers hear of it).
Deterministic curated demos cache their results per demo digest (code, language, limits) and
inputs, in Redis when configured.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio
import structlog
from mcp.server.mcpserver.exceptions import ToolError

from folio_core.cache import Cache, CacheError
from folio_core.mcp import Runtime
from folio_demo.demos import Catalogue, Demo, canonical_inputs
from folio_demo.sandbox import Artefact, RunResult
from folio_demo.snippets import SnippetIndex
from folio_demo.uris import run_uri

if TYPE_CHECKING:
    from folio_core.db.pool import Pool

log = structlog.get_logger(__name__)

Status = Literal["running", "finished", "failed", "cancelled"]
KEEP_RUNS = 200
MAX_CONCURRENT_RUNS = max(1, os.cpu_count() or 1)
"""Runs beyond this wait for a free sandbox (a burst of requests cannot starve the machine)."""
CACHE_FORMAT = 1


@dataclass
class RunRecord:
    id: str
    kind: Literal["demo", "snippet"]
    demo: str | None
    language: str
    audience: str
    inputs: dict[str, Any] | None
    status: Status = "running"
    cached: bool = False
    started: float = field(default_factory=time.time)
    stage: str = "preparing"
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def uri(self) -> str:
        return run_uri(self.id)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uri": self.uri,
            "kind": self.kind,
            "demo": self.demo,
            "language": self.language,
            "status": self.status,
            "stage": self.stage,
            "cached": self.cached,
            "elapsed_seconds": round(time.time() - self.started, 3),
            "stdout": "".join(self.stdout) if self.result is None else self.result["stdout"],
            "stderr": "".join(self.stderr) if self.result is None else self.result["stderr"],
            "result": self.result,
            "error": self.error,
        }


def cache_key(demo: Demo, inputs: dict[str, Any]) -> str:
    digest = hashlib.sha256(f"{demo.digest}\0{canonical_inputs(inputs)}".encode()).hexdigest()
    return f"demo:run:{CACHE_FORMAT}:{demo.name}:{digest}"


def encode_result(result: RunResult) -> bytes:
    return json.dumps(
        {
            "summary": result.summary(),
            "artefacts": [
                {"name": a.name, "data": base64.b64encode(a.data).decode()} for a in result.artefacts
            ],
        }
    ).encode()


def decode_result(raw: bytes) -> tuple[dict[str, Any], list[Artefact]]:
    data = json.loads(raw)
    return data["summary"], [Artefact(a["name"], base64.b64decode(a["data"])) for a in data["artefacts"]]


class DemoService:
    STATE_KEY = "demo"

    def __init__(self, runtime: Runtime, catalogue: Catalogue) -> None:
        self.runtime = runtime
        self.catalogue = catalogue
        self.public = runtime.settings.is_public
        self.audience = runtime.settings.audience
        self.cache: Cache = runtime.cache  # Redis when configured; closed with the runtime
        self.runs: OrderedDict[str, RunRecord] = OrderedDict()
        self.snippets = SnippetIndex(catalogue.demos.values(), catalogue.sources)
        self.slots = anyio.Semaphore(MAX_CONCURRENT_RUNS)

    @classmethod
    def starter(cls, catalogue: Catalogue) -> Any:
        async def start(runtime: Runtime) -> None:
            from folio_demo.sandbox import tiers

            await anyio.to_thread.run_sync(tiers)  # probes the kernel once, off the event loop
            runtime.state[cls.STATE_KEY] = cls(runtime, catalogue)

        return start

    @classmethod
    def of(cls, runtime: Runtime) -> DemoService:
        service = runtime.state.get(cls.STATE_KEY)
        if not isinstance(service, DemoService):  # pragma: no cover - set by start()
            raise ToolError("the demo server is not initialised")
        return service

    @property
    def pool(self) -> Pool:
        return self.runtime.pool

    # --- the result cache -----------------------------------------------------------------------

    async def cached(
        self, demo: Demo, inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Artefact]] | None:
        if not demo.deterministic:
            return None
        try:
            raw = await self.cache.get(cache_key(demo, inputs))
        except CacheError as exc:
            log.warning("demo cache unavailable", error=str(exc))
            return None
        return decode_result(raw) if raw is not None else None

    async def remember(self, demo: Demo, inputs: dict[str, Any], result: RunResult) -> None:
        if not demo.deterministic or not result.ok:
            return
        try:
            await self.cache.set(cache_key(demo, inputs), encode_result(result), ttl=demo.cache_ttl_seconds)
        except CacheError as exc:
            log.warning("demo cache unavailable", error=str(exc))

    # --- run records ----------------------------------------------------------------------------

    def new_run(
        self, kind: Literal["demo", "snippet"], demo: str | None, language: str, inputs: dict[str, Any] | None
    ) -> RunRecord:
        record = RunRecord(uuid.uuid4().hex[:16], kind, demo, language, self.audience, inputs)
        self.runs[record.id] = record
        while len(self.runs) > KEEP_RUNS:
            self.runs.popitem(last=False)
        return record

    async def record_start(self, record: RunRecord) -> None:
        from psycopg.types.json import Jsonb

        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO demo.runs (id, kind, demo, language, audience, inputs, status, cached) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    record.id,
                    record.kind,
                    record.demo,
                    record.language,
                    record.audience,
                    Jsonb(record.inputs) if record.inputs is not None else None,
                    record.status,
                    record.cached,
                ),
            )

    async def record_end(self, record: RunRecord) -> None:
        from psycopg.types.json import Jsonb

        from folio_core.changefeed import notify

        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE demo.runs SET status = %s, result = %s, finished_at = now() WHERE id = %s",
                (
                    record.status,
                    Jsonb({"result": record.result, "error": record.error}),
                    record.id,
                ),
            )
            await notify(conn, record.uri)

    async def announce(self, record: RunRecord) -> None:
        """Tell this process's subscribers of the run's resource that it changed."""
        await self.runtime.notifier.deliver(record.uri)

    async def read_run(self, run_id: str) -> dict[str, Any] | None:
        """A run's view; a visitor's server shows only visitors' runs (the owner's output stays private)."""
        record = self.runs.get(run_id)
        if record is not None:
            return record.view() if record.audience == "public" or not self.public else None
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT id, kind, demo, language, status, cached, result, started_at, finished_at "
                    "FROM demo.runs WHERE id = %s AND (audience = 'public' OR NOT %s)",
                    (run_id, self.public),
                )
            ).fetchone()
        if row is None:
            return None
        started_at: Any
        finished_at: Any
        rid, kind, demo, language, status, cached, raw, started_at, finished_at = row
        stored: dict[str, Any] = raw if isinstance(raw, dict) else {}
        result = stored.get("result")
        return {
            "id": rid,
            "uri": run_uri(rid),
            "kind": kind,
            "demo": demo,
            "language": language,
            "status": status,
            "stage": "done" if status != "running" else "running elsewhere",
            "cached": cached,
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat() if finished_at else None,
            "stdout": result["stdout"] if result else "",
            "stderr": result["stderr"] if result else "",
            "result": result,
            "error": stored.get("error"),
        }

"""Scanning a repository into the ``projects`` schema: incremental, rewrite-aware, all or nothing.

A scan reads only the commits not stored yet (``git log <head> ^<stored head>``). When the stored
head is no longer an ancestor of HEAD (a force-push, a rewritten history), the repository's rows
are deleted and the whole history is read again. Each scan is one transaction under an advisory
lock: a process killed mid-scan (even with SIGKILL) leaves the previous, complete commit set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import anyio
import structlog

from folio_core.changefeed import notify_many
from folio_core.db.pool import Pool
from folio_projects.errors import GitError, NotARepositoryError
from folio_projects.gitcmd import head, is_ancestor, resolve_repository, run_git, stream_git
from folio_projects.languages import FileCount, count_head
from folio_projects.logparse import LOG_ARGS, ParsedCommit, parse_log
from folio_projects.portfolio import Portfolio, Repository
from folio_projects.uris import changed_uris

log = structlog.get_logger(__name__)

BATCH = 5_000
Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class ScanResult:
    repo: str
    head: str | None
    new_commits: int
    rewritten: bool
    changed: bool


def _rows(
    commits: list[ParsedCommit], repo: str, portfolio: Portfolio
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    crows: list[tuple[Any, ...]] = []
    frows: list[tuple[Any, ...]] = []
    utc = dt.UTC
    for c in commits:
        crows.append(
            (
                repo,
                c.sha,
                c.author,
                c.email,
                dt.datetime.fromtimestamp(c.timestamp, utc),
                c.tz_minutes,
                c.parents > 1,
                portfolio.is_bot(c.author, c.email),
                portfolio.is_reformat(c.sha),
                portfolio.is_owner(c.author, c.email),
                c.added,
                c.removed,
                c.subject,
            )
        )
        for seq, f in enumerate(c.files):
            frows.append((repo, c.sha, seq, f.path, f.old_path, f.added, f.removed))
    return crows, frows


def _batches(it: Iterator[ParsedCommit]) -> Generator[list[ParsedCommit], None, None]:
    while batch := list(islice(it, BATCH)):
        yield batch


async def scan_repository(
    pool: Pool,
    repo: Repository,
    portfolio: Portfolio,
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> ScanResult:
    """Bring the stored history of ``repo`` up to date with its HEAD."""
    path = await anyio.to_thread.run_sync(resolve_repository, repo.path, repo.name)
    try:
        return await _scan(pool, repo, portfolio, path, full=full, progress=progress)
    except GitError as exc:
        if not path.is_dir():
            raise NotARepositoryError(
                f"repository {repo.name!r} disappeared during the scan; nothing of this scan was stored"
            ) from exc
        raise


async def _scan(
    pool: Pool, repo: Repository, portfolio: Portfolio, path: Any, *, full: bool, progress: Progress | None
) -> ScanResult:
    tip = await anyio.to_thread.run_sync(head, path)
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('folio:projects:scan'), hashtext(%s))", (repo.name,)
        )
        await upsert_repository(conn, repo)
        row = await (
            await conn.execute("SELECT head FROM projects.repositories WHERE name = %s", (repo.name,))
        ).fetchone()
        stored = row["head"] if row else None
        if stored == tip and not full:
            return ScanResult(repo.name, tip, 0, False, False)
        rewritten = False
        exclude: list[str] = []
        if stored is not None and tip is not None and not full:
            if await anyio.to_thread.run_sync(is_ancestor, path, stored, tip):
                exclude = [f"^{stored}"]
            else:
                rewritten = True
        if full or rewritten or tip is None:
            await conn.execute("DELETE FROM projects.commits WHERE repo = %s", (repo.name,))
        # the commit count (for progress) and the files at HEAD are read beside the log stream
        known = await _known_files(conn, repo.name)
        total = 0
        total_known = anyio.Event()
        counted: list[FileCount] = []

        async def count_commits(at: str) -> None:
            nonlocal total
            out = await anyio.to_thread.run_sync(
                lambda: run_git(path, ["rev-list", "--count", "--end-of-options", at, *exclude, "--"])
            )
            total = int(out.strip() or 0)
            total_known.set()

        async def count_files(at: str) -> None:
            counted.extend(await anyio.to_thread.run_sync(count_head, path, at, known))

        done = 0
        async with anyio.create_task_group() as side:
            if tip is None:
                total_known.set()
            else:
                side.start_soon(count_commits, tip)
                side.start_soon(count_files, tip)
                stream = _batches(
                    parse_log(stream_git(path, [*LOG_ARGS, "--end-of-options", tip, *exclude, "--"]))
                )

                def parsed() -> tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]]] | None:
                    batch = next(stream, None)
                    return None if batch is None else (len(batch), *_rows(batch, repo.name, portfolio))

                # git and the parser (a worker thread) run one batch ahead of the COPY into PostgreSQL
                send, receive = anyio.create_memory_object_stream[
                    tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]]]
                ](1)

                async def produce() -> None:
                    async with send:
                        while item := await anyio.to_thread.run_sync(parsed):
                            await send.send(item)

                try:
                    async with anyio.create_task_group() as tg, receive:
                        tg.start_soon(produce)
                        async for n, crows, frows in receive:
                            async with conn.cursor().copy(
                                "COPY projects.commits (repo, sha, author, email, authored_at, tz_minutes, "
                                "is_merge, is_bot, is_reformat, is_owner, added, removed, subject) FROM STDIN"
                            ) as copy:
                                for r in crows:
                                    await copy.write_row(r)
                            async with conn.cursor().copy(
                                "COPY projects.file_changes (repo, sha, seq, path, old_path, added, removed) "
                                "FROM STDIN"
                            ) as copy:
                                for r in frows:
                                    await copy.write_row(r)
                            done += n
                            if progress is not None:
                                await total_known.wait()
                                await progress(done, max(total, done))
                finally:
                    stream.close()  # the producer has ended: the task group waited for it
        await _write_files(conn, repo.name, counted)
        if not path.is_dir():  # rolls the whole scan back: a vanished repository stores nothing new
            raise GitError(f"repository {repo.name!r} disappeared")
        await conn.execute(
            "UPDATE projects.repositories SET head = %s, scanned_at = now(), generation = generation + 1 WHERE name = %s",
            (tip, repo.name),
        )
        await notify_many(conn, changed_uris(repo.name))
    log.info("scanned", repo=repo.name, new_commits=done, rewritten=rewritten)
    return ScanResult(repo.name, tip, done, rewritten, True)


async def upsert_repository(conn: Any, repo: Repository) -> None:
    """Record ``repo`` and what projects.yaml says of it (description, tags, public)."""
    await conn.execute(
        "INSERT INTO projects.repositories (name, path, description, tags, public) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (name) DO UPDATE SET path = EXCLUDED.path, description = EXCLUDED.description, "
        "tags = EXCLUDED.tags, public = EXCLUDED.public",
        (repo.name, str(repo.path), repo.description, list(repo.tags), repo.public),
    )


async def _known_files(conn: Any, name: str) -> dict[str, FileCount]:
    """The stored counts of ``name``'s files by blob id (a file that did not change is not read again)."""
    rows = await (
        await conn.execute(
            "SELECT path, language, code, comment, blank, complexity, blob FROM projects.files WHERE repo = %s",
            (name,),
        )
    ).fetchall()
    return {r["blob"]: FileCount(**r) for r in rows}


async def _write_files(conn: Any, name: str, counted: list[FileCount]) -> None:
    await conn.execute("DELETE FROM projects.files WHERE repo = %s", (name,))
    async with conn.cursor().copy(
        "COPY projects.files (repo, path, language, code, comment, blank, complexity, blob) FROM STDIN"
    ) as copy:
        for f in counted:
            await copy.write_row((name, f.path, f.language, f.code, f.comment, f.blank, f.complexity, f.blob))

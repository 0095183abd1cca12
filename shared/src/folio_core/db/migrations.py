"""Ordered SQL migrations per package, applied under an advisory lock and recorded in a table.

A package keeps ``migrations/NNN_name.sql`` files next to its code. Each file runs in its own
transaction together with the row that records it, so a process killed half-way leaves either
the whole migration or none of it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from folio_core.db.pool import Connection

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^(?P<version>\d{3,})_(?P<name>[a-z0-9_]+)\.sql$")

_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS folio;
CREATE TABLE IF NOT EXISTS folio.migrations (
    package    text        NOT NULL,
    version    integer     NOT NULL,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (package, version)
);
"""


class MigrationError(RuntimeError):
    """A migration file is malformed, or an applied one was edited afterwards."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(source: Traversable) -> list[Migration]:
    """Read ``NNN_name.sql`` files from a directory (or package resource), in version order."""
    found: dict[int, Migration] = {}
    for entry in source.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name!r} must be named NNN_lowercase_name.sql")
        version = int(match["version"])
        if version in found:
            raise MigrationError(
                f"two migrations share version {version}: {found[version].name}, {entry.name}"
            )
        found[version] = Migration(version, match["name"], entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def package_migrations(package: str) -> list[Migration]:
    """The migrations shipped in ``<package>/migrations/``."""
    return load_migrations(resources.files(package).joinpath("migrations"))


async def apply_migrations(conn: Connection, package: str, migrations: list[Migration]) -> list[int]:
    """Apply the migrations of ``package`` not yet recorded; return the versions applied now.

    Safe to call from several processes at once: one applies, the others wait on the lock and
    then find nothing left to do.
    """
    import psycopg

    applied_now: list[int] = []
    lock_key = f"folio:migrate:{package}"
    await conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock_key,))
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('folio:migrate:bootstrap'))")
            await conn.execute(_BOOTSTRAP)
        rows = await (
            await conn.execute(
                "SELECT version, checksum FROM folio.migrations WHERE package = %s", (package,)
            )
        ).fetchall()
        done = {r["version"]: r["checksum"] for r in rows}
        for migration in migrations:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {package} {migration.version:03d}_{migration.name} was changed after it "
                        "was applied; add a new migration instead of editing an applied one"
                    )
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql.encode())
                    await conn.execute(
                        "INSERT INTO folio.migrations (package, version, name, checksum) VALUES (%s, %s, %s, %s)",
                        (package, migration.version, migration.name, migration.checksum),
                    )
            except psycopg.Error as exc:
                raise MigrationError(
                    f"migration {package} {migration.version:03d}_{migration.name} failed: {exc}"
                ) from exc
            applied_now.append(migration.version)
            log.info("migration applied", package=package, version=migration.version, name=migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (lock_key,))
    return applied_now

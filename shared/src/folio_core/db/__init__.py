"""PostgreSQL + pgvector: the embedded cluster, the pool, migrations.

The names are loaded on first use, so that importing one submodule (say, migrations) does not
load the database driver before a stdio server has answered its client's handshake.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from folio_core.db.embedded import EmbeddedDatabaseError, EmbeddedPostgres, embedded_postgres
    from folio_core.db.migrations import (
        Migration,
        MigrationError,
        apply_migrations,
        load_migrations,
        package_migrations,
    )
    from folio_core.db.pool import (
        Connection,
        DatabaseError,
        Pool,
        connect,
        ensure_pgvector,
        migrated_pool,
        open_pool,
        resolve_database_url,
    )

_EXPORTS = {
    "EmbeddedDatabaseError": "embedded",
    "EmbeddedPostgres": "embedded",
    "embedded_postgres": "embedded",
    "Migration": "migrations",
    "MigrationError": "migrations",
    "apply_migrations": "migrations",
    "load_migrations": "migrations",
    "package_migrations": "migrations",
    "Connection": "pool",
    "DatabaseError": "pool",
    "Pool": "pool",
    "connect": "pool",
    "ensure_pgvector": "pool",
    "migrated_pool": "pool",
    "open_pool": "pool",
    "resolve_database_url": "pool",
}

__all__ = [
    "Connection",
    "DatabaseError",
    "EmbeddedDatabaseError",
    "EmbeddedPostgres",
    "Migration",
    "MigrationError",
    "Pool",
    "apply_migrations",
    "connect",
    "embedded_postgres",
    "ensure_pgvector",
    "load_migrations",
    "migrated_pool",
    "open_pool",
    "package_migrations",
    "resolve_database_url",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'folio_core.db' has no attribute {name!r}")
    return getattr(importlib.import_module(f"folio_core.db.{module}"), name)

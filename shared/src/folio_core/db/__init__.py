"""PostgreSQL + pgvector: the embedded cluster, the pool, migrations."""

from folio_core.db.embedded import EmbeddedDatabaseError, EmbeddedPostgres, embedded_postgres
from folio_core.db.migrations import Migration, MigrationError, apply_migrations, load_migrations, package_migrations
from folio_core.db.pool import Connection, DatabaseError, Pool, connect, ensure_pgvector, open_pool, resolve_database_url

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
    "open_pool",
    "package_migrations",
    "resolve_database_url",
]

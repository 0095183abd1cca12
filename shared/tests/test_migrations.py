"""Ordered SQL migrations on the embedded PostgreSQL: order, records, idempotence, locking, failures."""

import hashlib
from pathlib import Path

import anyio
import pytest

from folio_core.db.migrations import MigrationError, apply_migrations, load_migrations, package_migrations
from folio_core.db.pool import Connection, connect

pytestmark = pytest.mark.anyio

FIRST = "CREATE SCHEMA shop;\nCREATE TABLE shop.items (id int PRIMARY KEY);\n"
SECOND = "ALTER TABLE shop.items ADD COLUMN name text NOT NULL DEFAULT '';\n"
TENTH = "INSERT INTO shop.items (id, name) VALUES (1, 'first item');\n"


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql, encoding="utf-8")
    return directory


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    # written out of order, with a file that is not a migration
    return write(
        tmp_path / "migrations",
        {
            "010_seed.sql": TENTH,
            "001_create_items.sql": FIRST,
            "002_add_name.sql": SECOND,
            "README.md": "notes",
        },
    )


async def records(conn: Connection, package: str) -> list[dict[str, object]]:
    cur = await conn.execute(
        "SELECT version, name, checksum FROM folio.migrations WHERE package = %s ORDER BY version", (package,)
    )
    return await cur.fetchall()


async def table_exists(conn: Connection, name: str) -> bool:
    row = await (await conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (name,))).fetchone()
    assert row is not None
    return bool(row["present"])


def test_load_in_version_order(shop: Path) -> None:
    migrations = load_migrations(shop)
    assert [(m.version, m.name) for m in migrations] == [(1, "create_items"), (2, "add_name"), (10, "seed")]
    assert migrations[0].sql == FIRST
    assert migrations[0].checksum == hashlib.sha256(FIRST.encode()).hexdigest()


async def test_applied_in_order_and_recorded(database_url: str, shop: Path) -> None:
    conn = await connect(database_url)
    try:
        assert await apply_migrations(conn, "shop", load_migrations(shop)) == [1, 2, 10]
        assert await records(conn, "shop") == [
            {"version": 1, "name": "create_items", "checksum": hashlib.sha256(FIRST.encode()).hexdigest()},
            {"version": 2, "name": "add_name", "checksum": hashlib.sha256(SECOND.encode()).hexdigest()},
            {"version": 10, "name": "seed", "checksum": hashlib.sha256(TENTH.encode()).hexdigest()},
        ]
        rows = await (await conn.execute("SELECT id, name FROM shop.items")).fetchall()
        assert rows == [{"id": 1, "name": "first item"}]  # 010 ran after 002 added the column
    finally:
        await conn.close()


async def test_idempotent_and_picks_up_new_files(database_url: str, shop: Path) -> None:
    conn = await connect(database_url)
    try:
        assert await apply_migrations(conn, "shop", load_migrations(shop)) == [1, 2, 10]
        assert await apply_migrations(conn, "shop", load_migrations(shop)) == []
        write(shop, {"011_more.sql": "INSERT INTO shop.items (id, name) VALUES (2, 'second');"})
        assert await apply_migrations(conn, "shop", load_migrations(shop)) == [11]
        assert await apply_migrations(conn, "shop", load_migrations(shop)) == []
        assert [r["version"] for r in await records(conn, "shop")] == [1, 2, 10, 11]
        count = await (await conn.execute("SELECT count(*) AS n FROM shop.items")).fetchone()
        assert count == {"n": 2}
    finally:
        await conn.close()


async def test_packages_are_independent(database_url: str, tmp_path: Path) -> None:
    alpha = write(tmp_path / "alpha", {"001_init.sql": "CREATE TABLE alpha (id int);"})
    beta = write(tmp_path / "beta", {"001_init.sql": "CREATE TABLE beta (id int);"})
    conn = await connect(database_url)
    try:
        assert await apply_migrations(conn, "alpha", load_migrations(alpha)) == [1]
        assert await apply_migrations(conn, "beta", load_migrations(beta)) == [1]
        assert [r["name"] for r in await records(conn, "beta")] == ["init"]
    finally:
        await conn.close()


async def test_concurrent_apply_applies_once(database_url: str, shop: Path, tmp_path: Path) -> None:
    other = write(tmp_path / "other", {"001_init.sql": "CREATE TABLE other_things (id int PRIMARY KEY);"})
    conns = [await connect(database_url) for _ in range(8)]
    results: dict[int, list[int]] = {}

    async def run(i: int, conn: Connection) -> None:
        package, source = ("shop", shop) if i % 2 == 0 else ("other", other)
        results[i] = await apply_migrations(conn, package, load_migrations(source))

    try:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for i, conn in enumerate(conns):  # both packages at once also races the bootstrap
                    tg.start_soon(run, i, conn)
        shop_results = sorted(results[i] for i in range(0, 8, 2))
        other_results = sorted(results[i] for i in range(1, 8, 2))
        assert shop_results == [[], [], [], [1, 2, 10]]
        assert other_results == [[], [], [], [1]]
        assert [r["version"] for r in await records(conns[0], "shop")] == [1, 2, 10]
        count = await (await conns[0].execute("SELECT count(*) AS n FROM shop.items")).fetchone()
        assert count == {"n": 1}
    finally:
        for conn in conns:
            await conn.close()


async def test_editing_an_applied_migration_is_refused(database_url: str, shop: Path) -> None:
    conn = await connect(database_url)
    try:
        await apply_migrations(conn, "shop", load_migrations(shop))
        write(shop, {"002_add_name.sql": SECOND + "-- a harmless-looking edit\n"})
        write(shop, {"020_later.sql": "CREATE TABLE shop.later (id int);"})
        with pytest.raises(MigrationError) as excinfo:
            await apply_migrations(conn, "shop", load_migrations(shop))
        assert str(excinfo.value) == (
            "migration shop 002_add_name was changed after it was applied; "
            "add a new migration instead of editing an applied one"
        )
        assert not await table_exists(conn, "shop.later")
        assert [r["version"] for r in await records(conn, "shop")] == [1, 2, 10]
    finally:
        await conn.close()


async def test_failing_migration_leaves_nothing_half_applied(database_url: str, tmp_path: Path) -> None:
    source = write(
        tmp_path / "m",
        {
            "001_ok.sql": "CREATE TABLE ok_table (id int);",
            "002_broken.sql": "CREATE TABLE half_table (id int);\nINSERT INTO half_table VALUES (1);\n"
            "SELECT 1/0;",
            "003_after.sql": "CREATE TABLE after_table (id int);",
        },
    )
    conn = await connect(database_url)
    other = await connect(database_url)
    try:
        with pytest.raises(MigrationError) as excinfo:
            await apply_migrations(conn, "pkg", load_migrations(source))
        message = str(excinfo.value)
        assert message.startswith("migration pkg 002_broken failed:")
        assert "division by zero" in message
        assert await table_exists(conn, "ok_table")
        assert not await table_exists(conn, "half_table")
        assert not await table_exists(conn, "after_table")
        assert [r["version"] for r in await records(conn, "pkg")] == [1]

        # the lock was released: another connection can go on once the file is fixed
        write(source, {"002_broken.sql": "CREATE TABLE half_table (id int);"})
        with anyio.fail_after(60):
            assert await apply_migrations(other, "pkg", load_migrations(source)) == [2, 3]
        assert [r["version"] for r in await records(other, "pkg")] == [1, 2, 3]
    finally:
        await conn.close()
        await other.close()


@pytest.mark.parametrize(
    "bad",
    ["1_init.sql", "001-init.sql", "001_Init.sql", "001_init table.sql", "init.sql", "001_.sql"],
)
def test_bad_file_names_rejected(tmp_path: Path, bad: str) -> None:
    source = write(tmp_path / "m", {"002_fine.sql": "SELECT 1;", bad: "SELECT 1;"})
    with pytest.raises(MigrationError) as excinfo:
        load_migrations(source)
    assert str(excinfo.value) == f"migration file {bad!r} must be named NNN_lowercase_name.sql"


def test_duplicate_versions_rejected(tmp_path: Path) -> None:
    source = write(tmp_path / "m", {"001_one.sql": "SELECT 1;", "0001_again.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match="two migrations share version 1") as excinfo:
        load_migrations(source)
    assert "0001_again.sql" in str(excinfo.value) or "001_one.sql" in str(excinfo.value)


def test_package_migrations_reads_the_package_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site" / "folio_testpkg"
    write(package, {"__init__.py": ""})
    write(package / "migrations", {"002_b.sql": "SELECT 2;", "001_a.sql": "SELECT 1;"})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert [(m.version, m.name, m.sql) for m in package_migrations("folio_testpkg")] == [
        (1, "a", "SELECT 1;"),
        (2, "b", "SELECT 2;"),
    ]

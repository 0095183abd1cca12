"""The embedded PostgreSQL shared by several OS processes through the pid handle file.

These tests use their own data directory (not the session cluster) and real child processes.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from folio_core.db.embedded import EmbeddedPostgres, embedded_postgres
from folio_core.db.pool import ensure_pgvector, resolve_database_url
from folio_core.settings import FolioSettings

CHILD = Path(__file__).parent / "helpers" / "embedded_child.py"
TIMEOUT = 30.0


@pytest.fixture(scope="module")
def module_data_dir() -> Iterator[Path]:
    # Outside pytest's basetemp: as root PostgreSQL runs as the 'pgserver' user, which must be able
    # to traverse the parents (pytest makes /tmp/pytest-of-root private when a session starts).
    path = Path(tempfile.mkdtemp(prefix="folio-embedded-test-"))
    yield path
    EmbeddedPostgres(path).stop()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def data_dir(module_data_dir: Path) -> Iterator[Path]:
    """The module's data directory (initialised once), with the cluster stopped before and after."""
    EmbeddedPostgres(module_data_dir).stop()
    yield module_data_dir
    EmbeddedPostgres(module_data_dir).stop()


class Child:
    """A child process holding the cluster; see helpers/embedded_child.py."""

    def __init__(self, data_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.info = self.read()
        self.pid: int = self.info["pid"]
        self.url: str = self.info["url"]

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=TIMEOUT)
            pytest.fail(f"child {self.proc.pid} said nothing; stderr:\n{err}")
        return dict(json.loads(line))

    def command(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def query(self) -> int:
        self.command("query")
        return int(self.read()["answer"])

    def exit(self) -> None:
        self.command("exit")
        _, err = self.proc.communicate(timeout=TIMEOUT)
        assert self.proc.returncode == 0, err

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=TIMEOUT)
        assert self.proc.returncode == -signal.SIGKILL


@pytest.fixture
def spawn() -> Iterator[Any]:
    children: list[Child] = []

    def start(data_dir: Path) -> Child:
        child = Child(data_dir)
        children.append(child)
        return child

    yield start
    for child in children:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.communicate(timeout=TIMEOUT)


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pg16" / "postmaster.pid").read_text().splitlines()[0])


def assert_gone(pid: int) -> None:
    """The process has exited (a zombie that nobody reaped yet counts as exited)."""
    try:
        proc = psutil.Process(pid)
        try:
            proc.wait(timeout=10)
        except psutil.TimeoutExpired:
            assert proc.status() == psutil.STATUS_ZOMBIE, f"process {pid} is still running"
    except psutil.NoSuchProcess:
        pass


def can_connect(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def test_shared_by_two_processes_and_stopped_by_the_last(data_dir: Path, spawn: Any) -> None:
    cluster = EmbeddedPostgres(data_dir)
    first = spawn(data_dir)
    assert first.info["answer"] == 42
    server = postmaster_pid(data_dir)
    second = spawn(data_dir)
    assert second.info["answer"] == 42
    assert second.url == first.url
    assert postmaster_pid(data_dir) == server  # joined, not a second server
    assert cluster.handles() == sorted([first.pid, second.pid])

    first.exit()
    assert cluster.is_running()
    assert cluster.handles() == [second.pid]
    assert second.query() == 42
    assert can_connect(second.url)

    second.exit()
    assert_gone(server)
    assert not cluster.is_running()
    assert cluster.handles() == []
    assert not can_connect(second.url)


def test_killed_process_is_pruned_when_another_releases(data_dir: Path, spawn: Any) -> None:
    cluster = EmbeddedPostgres(data_dir)
    doomed = spawn(data_dir)
    survivor = spawn(data_dir)
    server = postmaster_pid(data_dir)
    doomed.kill()  # no atexit: its pid stays in the handle file

    on_disk = json.loads((data_dir / "pg.handles.json").read_text())
    assert sorted(on_disk) == sorted([doomed.pid, survivor.pid])
    assert cluster.handles() == [survivor.pid]  # dead pids are not counted
    assert cluster.is_running()
    assert survivor.query() == 42

    survivor.exit()  # the last live holder: stops the cluster despite the stale handle
    assert_gone(server)
    assert not cluster.is_running()
    assert json.loads((data_dir / "pg.handles.json").read_text()) == []


def test_killed_last_holder_does_not_keep_the_cluster_forever(data_dir: Path, spawn: Any) -> None:
    cluster = EmbeddedPostgres(data_dir)
    doomed = spawn(data_dir)
    server = postmaster_pid(data_dir)
    doomed.kill()
    assert cluster.is_running()  # nobody was left to stop it...

    later = spawn(data_dir)  # ...until the next Folio process comes and goes
    assert postmaster_pid(data_dir) == server
    assert cluster.handles() == [later.pid]
    later.exit()
    assert_gone(server)
    assert not cluster.is_running()


def test_restart_in_the_same_process(data_dir: Path) -> None:
    cluster = EmbeddedPostgres(data_dir)
    url = cluster.start()
    assert cluster.start() == url  # idempotent
    assert can_connect(url)
    assert cluster.handles() == [os.getpid()]
    cluster.release()
    assert not cluster.is_running()
    assert cluster.handles() == []

    url = cluster.start()  # the process started it, released it, and needs it again
    try:
        assert can_connect(url)
        assert cluster.is_running()
    finally:
        cluster.release()
    assert not cluster.is_running()


def test_one_handle_per_directory(data_dir: Path) -> None:
    assert embedded_postgres(data_dir) is embedded_postgres(data_dir / "pg16" / "..")
    assert embedded_postgres(data_dir).data_dir == data_dir.resolve()


@pytest.mark.anyio
async def test_resolve_database_url_starts_the_embedded_cluster(data_dir: Path) -> None:
    settings = FolioSettings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    url = await resolve_database_url(settings)
    cluster = embedded_postgres(data_dir)
    try:
        assert cluster.is_running()
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        try:
            await ensure_pgvector(conn)  # the embedded server ships pgvector
            row = await (await conn.execute("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector")).fetchone()
            assert row == (1.0,)
        finally:
            await conn.close()
    finally:
        cluster.release()
    assert not cluster.is_running()

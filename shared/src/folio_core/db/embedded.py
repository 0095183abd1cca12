"""The embedded PostgreSQL 16 + pgvector, from the ``pgserver`` package, in Folio's data directory.

Several Folio processes (say, the profile server started by Claude Desktop and the same server
started by VS Code) share one PostgreSQL cluster. Each process registers its pid in a handle file
under an exclusive file lock; the process that removes the last live handle stops the cluster.
Handles of processes that died without cleaning up (kill -9) are pruned whenever the file is
touched, so a crashed client never keeps the cluster alive for ever, nor stops it under others.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

PG_DIRNAME = "pg16"
_LOCK_NAME = "pg.lock"
_HANDLES_NAME = "pg.handles.json"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded PostgreSQL could not be provided."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return status != "Z"
    return True


def _pgserver() -> Any:
    if sys.version_info >= (3, 13):
        raise EmbeddedDatabaseError(
            "the embedded PostgreSQL (pgserver) has wheels for Python 3.11 and 3.12 only; "
            "use Python 3.11/3.12 or set FOLIO_DATABASE_URL to a PostgreSQL server with pgvector"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pgserver warns about XDG_RUNTIME_DIR on headless machines
            import pgserver
    except ImportError as exc:  # pragma: no cover - pgserver is a dependency of folio-core
        raise EmbeddedDatabaseError(
            "the 'pgserver' package is missing; install folio-core with its dependencies "
            "or set FOLIO_DATABASE_URL to a PostgreSQL server with pgvector"
        ) from exc
    return pgserver


class EmbeddedPostgres:
    """A handle on the shared embedded cluster. ``start()`` returns a connection URL."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / PG_DIRNAME
        self._lock_path = data_dir / _LOCK_NAME
        self._handles_path = data_dir / _HANDLES_NAME
        self._url: str | None = None
        self._mutex = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read_handles(self) -> list[int]:
        try:
            pids = json.loads(self._handles_path.read_text())
        except (FileNotFoundError, ValueError):
            return []
        return [p for p in pids if isinstance(p, int) and _pid_alive(p)]

    def _write_handles(self, pids: list[int]) -> None:
        tmp = self._handles_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(set(pids))))
        tmp.replace(self._handles_path)

    def handles(self) -> list[int]:
        """Live processes currently holding the cluster."""
        with self._locked():
            return self._read_handles()

    def start(self) -> str:
        """Start the cluster if needed, register this process, and return its URL."""
        with self._mutex:
            if self._url is not None:
                return self._url
            pgserver = _pgserver()
            with self._locked():
                try:
                    server = pgserver.get_server(self.pgdata, cleanup_mode=None)
                    if not self.is_running():
                        # pgserver caches one server object per pgdata and process: after this process
                        # (or anyone) stopped the cluster, get_server() returns the stale object as is.
                        server.ensure_postgres_running()
                except Exception as exc:
                    log_file = self.pgdata / "log"
                    tail = log_file.read_text()[-2000:] if log_file.exists() else ""
                    raise EmbeddedDatabaseError(
                        f"could not start the embedded PostgreSQL in {self.pgdata}: {exc}\n{tail}"
                    ) from exc
                pids = self._read_handles()
                pids.append(os.getpid())
                self._write_handles(pids)
                self._url = str(server.get_uri())
            atexit.register(self.release)
            log.debug("embedded postgres ready", pgdata=str(self.pgdata), handles=len(pids))
            return self._url

    def release(self) -> None:
        """Unregister this process; stop the cluster if no other live process holds it."""
        with self._mutex:
            if self._url is None:
                return
            self._url = None
            with contextlib.suppress(Exception):
                atexit.unregister(self.release)
            with self._locked():
                pids = [p for p in self._read_handles() if p != os.getpid()]
                self._write_handles(pids)
                if pids:
                    return
                self._stop_locked()

    def stop(self) -> None:
        """Stop the cluster now, whoever holds it (used by tests and ``make clean``)."""
        with self._mutex, self._locked():
            self._url = None
            self._write_handles([])
            self._stop_locked()

    def _stop_locked(self) -> None:
        if not (self.pgdata / "postmaster.pid").exists():
            return
        pgserver = _pgserver()
        pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
        cmd = [str(pg_ctl), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"]
        # As root, pgserver runs PostgreSQL as its own 'pgserver' user; pg_ctl must run as that user too.
        user = self.pgdata.owner() if os.geteuid() == 0 else None
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30, user=user, check=False)
        if result.returncode != 0 and "Is server running?" not in result.stderr:
            log.warning("embedded postgres did not stop cleanly", stderr=result.stderr.strip()[-500:])
        else:
            log.debug("embedded postgres stopped", pgdata=str(self.pgdata))

    def is_running(self) -> bool:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return False
        return _pid_alive(pid)


_instances: dict[Path, EmbeddedPostgres] = {}
_instances_lock = threading.Lock()


def embedded_postgres(data_dir: Path) -> EmbeddedPostgres:
    """The process-wide handle for ``data_dir`` (one per directory)."""
    key = data_dir.expanduser().resolve()
    with _instances_lock:
        if key not in _instances:
            _instances[key] = EmbeddedPostgres(key)
        return _instances[key]

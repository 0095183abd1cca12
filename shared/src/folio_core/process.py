"""What every Folio command does first: read the settings, send logs to stderr, exit cleanly.

A stdio server is usually stopped with SIGTERM (after its client closed stdin and waited). The
default handler would end the process without running ``atexit`` hooks, and one of them lets go
of the embedded PostgreSQL (the last process to leave stops it); exiting through ``SystemExit``
runs them.
"""

from __future__ import annotations

import signal
from typing import NoReturn

from folio_core.logging import configure_logging
from folio_core.settings import FolioSettings


def _terminate(signum: int, _frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def start_process() -> FolioSettings:
    """Settings from the environment, logging configured, SIGTERM exiting through the interpreter."""
    settings = FolioSettings()
    configure_logging(settings)
    signal.signal(signal.SIGTERM, _terminate)
    return settings

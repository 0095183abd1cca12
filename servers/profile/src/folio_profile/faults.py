"""Fault injection for durability tests: ``FOLIO_FAULT_PAUSE=<stage>`` stops a write at a stage.

The import and write path calls :func:`pause_point` at each stage below. When the variable names
that stage, the process logs ``paused for fault injection`` (with ``stage`` and ``pid``) to stderr
and waits forever, so a test can kill it at exactly that point, on any machine, and then check that
nothing partial was committed. Unset (always, outside tests) it does nothing.

``start``        an import is about to read its file (the database and migrations are ready)
``embedding``    the first batch of a new version's search chunks is embedded, the rest is not
``transaction``  inside the write transaction: the version row is inserted, its chunks are not
``commit``       inside the write transaction: every row is written, the commit has not happened
"""

from __future__ import annotations

import os
from typing import Final, Literal

import anyio
import structlog

__all__ = ["ENV_VAR", "STAGES", "Stage", "pause_point"]

ENV_VAR: Final = "FOLIO_FAULT_PAUSE"
Stage = Literal["start", "embedding", "transaction", "commit"]
STAGES: Final[tuple[Stage, ...]] = ("start", "embedding", "transaction", "commit")

log = structlog.get_logger(__name__)


async def pause_point(stage: Stage) -> None:
    """Wait forever here when ``FOLIO_FAULT_PAUSE`` names ``stage``; otherwise return at once."""
    if os.environ.get(ENV_VAR) != stage:
        return
    log.warning("paused for fault injection", stage=stage, pid=os.getpid())
    await anyio.sleep_forever()

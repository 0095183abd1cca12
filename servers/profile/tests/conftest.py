from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from folio_core.settings import FolioSettings
from folio_core.testing import SAMPLE_PORTFOLIO


@pytest.fixture
def portfolio(tmp_path: Path) -> Path:
    """A private copy of the sample portfolio (tests may edit it)."""
    target = tmp_path / "portfolio"
    shutil.copytree(SAMPLE_PORTFOLIO, target)
    return target


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path, portfolio: Path) -> Callable[..., FolioSettings]:
    def make(**overrides: Any) -> FolioSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "portfolio_dir": portfolio,
        }
        values.update(overrides)
        return FolioSettings(**values)

    return make


@pytest.fixture
def sample_resume() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLE_PORTFOLIO / "resume.json").read_text())
    return data

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from folio_core.settings import FolioSettings
from folio_core.testing import SAMPLE_PORTFOLIO


@pytest.fixture
def portfolio_dir(tmp_path: Path) -> Path:
    """A copy of the sample portfolio's documents (tests edit it freely)."""
    folder = tmp_path / "portfolio"
    folder.mkdir()
    shutil.copytree(SAMPLE_PORTFOLIO / "docs", folder / "docs", symlinks=True)
    return folder


@pytest.fixture
def docs_dir(portfolio_dir: Path) -> Path:
    return portfolio_dir / "docs"


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path, portfolio_dir: Path) -> Callable[..., FolioSettings]:
    def make(**overrides: Any) -> FolioSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "portfolio_dir": portfolio_dir,
        }
        values.update(overrides)
        return FolioSettings(_env_file=None, **values)

    return make

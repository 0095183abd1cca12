from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from folio_core.settings import FolioSettings


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., FolioSettings]:
    def make(**overrides: Any) -> FolioSettings:
        values: dict[str, Any] = {"database_url": database_url, "data_dir": tmp_path / "data"}
        values.update(overrides)
        return FolioSettings(**values)

    return make

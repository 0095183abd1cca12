"""FolioSettings: defaults, FOLIO_* environment variables, .env, validation, secrets."""

from pathlib import Path

import platformdirs
import pytest
from pydantic import ValidationError

from folio_core.settings import FolioSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No FOLIO_* variable from the machine, and a working directory without a .env file."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("FOLIO_"):
            monkeypatch.delenv(name)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


def test_defaults() -> None:
    settings = FolioSettings()
    assert settings.data_dir == Path(platformdirs.user_data_dir("folio", appauthor=False)).resolve()
    assert settings.data_dir.is_absolute()
    assert settings.audience == "owner"
    assert settings.is_public is False
    assert settings.embedder == "local"
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.log_level == "info"
    assert settings.log_format == "auto"
    assert settings.portfolio_dir == (Path.cwd() / "configs" / "portfolio").resolve()
    assert settings.resume_path == settings.portfolio_dir / "resume.json"


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FOLIO_AUDIENCE", "public")
    monkeypatch.setenv("FOLIO_EMBEDDER", "openai:text-embedding-3-small")
    monkeypatch.setenv("FOLIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FOLIO_DATABASE_URL", "postgresql://u:pw@db.example/folio")
    monkeypatch.setenv("FOLIO_REDIS_URL", "redis://cache.example:6379/0")
    monkeypatch.setenv("folio_log_level", "DEBUG")  # names are case-insensitive, levels too
    settings = FolioSettings()
    assert settings.audience == "public"
    assert settings.is_public is True
    assert settings.embedder == "openai:text-embedding-3-small"
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == "postgresql://u:pw@db.example/folio"
    assert settings.redis_url is not None
    assert settings.redis_url.get_secret_value() == "redis://cache.example:6379/0"
    assert settings.log_level == "debug"


def test_home_and_relative_paths_become_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FOLIO_DATA_DIR", "~/folio-data")
    monkeypatch.setenv("FOLIO_PORTFOLIO_DIR", "my-portfolio")
    settings = FolioSettings()
    assert settings.data_dir == (tmp_path / "home" / "folio-data").resolve()
    assert settings.portfolio_dir == (Path.cwd() / "my-portfolio").resolve()


def test_dotenv_file_in_working_directory(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text(
        "FOLIO_AUDIENCE=public\nFOLIO_REDIS_URL=redis://127.0.0.1:6379/3\nFOLIO_LOG_FORMAT=json\n"
        "UNRELATED_SETTING=ignored\n",
        encoding="utf-8",
    )
    settings = FolioSettings()
    assert settings.audience == "public"
    assert settings.redis_url is not None
    assert settings.redis_url.get_secret_value() == "redis://127.0.0.1:6379/3"
    assert settings.log_format == "json"

    # A real environment variable wins over the .env file.
    monkeypatch.setenv("FOLIO_AUDIENCE", "owner")
    assert FolioSettings().audience == "owner"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("audience", "visitor", "'owner' or 'public'"),
        ("embedder", "foo", "must be 'local' or 'openai:<model>'"),
        ("embedder", "openai:", "must be 'local' or 'openai:<model>'"),
        ("log_level", "verbose", "'debug', 'info', 'warning' or 'error'"),
        ("log_format", "xml", "'auto', 'json' or 'console'"),
    ],
)
def test_bad_values_rejected_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str, expected: str
) -> None:
    with pytest.raises(ValidationError) as from_kwargs:
        FolioSettings(**{field: value})
    monkeypatch.setenv(f"FOLIO_{field.upper()}", value)
    with pytest.raises(ValidationError) as from_env:
        FolioSettings()
    for excinfo in (from_kwargs, from_env):
        errors = excinfo.value.errors()
        assert [e["loc"] for e in errors] == [(field,)]
        message = str(excinfo.value)
        assert field in message
        assert expected in message


def test_bad_value_in_dotenv_rejected(clean_env: Path) -> None:
    (clean_env / ".env").write_text("FOLIO_AUDIENCE=visitor\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="audience"):
        FolioSettings()


def test_secrets_not_shown() -> None:
    settings = FolioSettings(
        database_url="postgresql://folio:db-s3cret@db.example/folio",
        redis_url="redis://:redis-s3cret@cache.example:6379/0",
    )
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump())):
        assert "db-s3cret" not in shown
        assert "redis-s3cret" not in shown
    assert "database_url=SecretStr('**********')" in repr(settings)
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == "postgresql://folio:db-s3cret@db.example/folio"


def test_frozen() -> None:
    settings = FolioSettings()
    with pytest.raises(ValidationError, match="frozen"):
        settings.audience = "public"  # type: ignore[misc]

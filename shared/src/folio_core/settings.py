"""Folio's settings: one class, read from ``FOLIO_*`` environment variables and ``.env``.

Build it once in ``main()`` and pass it down; nothing else in Folio reads the environment.

A plain pydantic model fills itself from the environment (pydantic-settings would do the same and
add a tenth of a second to every server's start-up). Precedence: keyword arguments, then
``FOLIO_<NAME>`` environment variables (names are case-insensitive; empty values count as
unset), then the lines of a ``.env`` file in the working directory, then the defaults.
``FolioSettings(_env_file=None)`` skips the ``.env`` file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Audience = Literal["owner", "public"]
LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]

ENV_PREFIX = "FOLIO_"
ENV_FILE = Path(".env")


def _default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("folio", appauthor=False))


def _default_portfolio_dir() -> Path:
    return Path.cwd() / "configs" / "portfolio"


def _folio_variables(items: Any, fields: set[str]) -> dict[str, str]:
    """``FOLIO_<field>`` entries (any case) of ``items``, keyed by field name; empty ones left out."""
    found: dict[str, str] = {}
    for key, value in items:
        if not isinstance(key, str) or not key.upper().startswith(ENV_PREFIX) or not value:
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in fields:
            found[name] = value
    return found


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path, encoding="utf-8").items() if v is not None}


class FolioSettings(BaseModel):
    """Every setting Folio reads. Environment variables are ``FOLIO_<NAME>`` (case-insensitive)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL (the server needs pgvector). Unset: an embedded PostgreSQL 16 + pgvector "
        "in the data directory, shared by every Folio process on the machine.",
    )
    redis_url: SecretStr | None = Field(
        default=None, description="Redis URL for the shared cache. Unset: an in-process cache."
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where Folio keeps its embedded database and other state.",
    )
    portfolio_dir: Path = Field(
        default_factory=_default_portfolio_dir,
        description="The owner's portfolio files (resume.json, docs/ …).",
    )
    audience: Audience = Field(
        default="owner",
        description="owner: every tool. public: read-only tools and public data only.",
    )
    embedder: str = Field(
        default="local",
        description="'local' (all-MiniLM-L6-v2, offline) or 'openai:<model>' (e.g. openai:text-embedding-3-small).",
    )
    openai_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible embeddings API (for openai:<model>)."
    )
    docs_roots: str | None = Field(
        default=None,
        description="More document folders for folio-resources, separated by ':' (each served under its "
        "folder name); the portfolio's docs/ folder is always served.",
    )
    log_level: LogLevel = Field(default="info", description="debug, info, warning or error.")
    log_format: LogFormat = Field(
        default="auto", description="json, console, or auto (JSON when stderr is not a terminal)."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = dict(data)
        env_file = given.pop("_env_file", ENV_FILE)
        fields = set(cls.model_fields)
        merged: dict[str, Any] = {}
        if env_file is not None:
            merged.update(_folio_variables(_dotenv(Path(env_file)).items(), fields))
        merged.update(_folio_variables(os.environ.items(), fields))
        merged.update(given)
        return merged

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("embedder")
    @classmethod
    def _check_embedder(cls, value: str) -> str:
        if value != "local" and not (value.startswith("openai:") and len(value) > len("openai:")):
            raise ValueError("must be 'local' or 'openai:<model>', e.g. openai:text-embedding-3-small")
        return value

    @field_validator("data_dir", "portfolio_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def is_public(self) -> bool:
        return self.audience == "public"

    @property
    def resume_path(self) -> Path:
        return self.portfolio_dir / "resume.json"


def env_number(name: str, default: float) -> float:
    """A number from the environment variable ``name``; ``default`` when it is unset or malformed
    (a malformed value is logged, never fatal: these tune a server, they do not configure it)."""
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        import structlog

        structlog.get_logger(__name__).warning("ignoring a malformed setting", name=name)
        return default

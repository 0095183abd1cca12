"""Folio's settings: one class, read from ``FOLIO_*`` environment variables and ``.env``.

Build it once in ``main()`` and pass it down; nothing else in Folio reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Audience = Literal["owner", "public"]
LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("folio", appauthor=False))


def _default_portfolio_dir() -> Path:
    return Path.cwd() / "configs" / "portfolio"


class FolioSettings(BaseSettings):
    """Every setting Folio reads. Environment variables are ``FOLIO_<NAME>`` (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_prefix="FOLIO_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

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
    log_level: LogLevel = Field(default="info", description="debug, info, warning or error.")
    log_format: LogFormat = Field(
        default="auto", description="json, console, or auto (JSON when stderr is not a terminal)."
    )

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

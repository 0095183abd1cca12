"""The owner's repositories, identities and bot patterns, read from ``projects.yaml`` (or ``.json``).

A repository's ``path`` is relative to the portfolio directory or absolute; ``generated:<name>``
is a small repository the sample portfolio builds deterministically under the data directory.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from folio_projects.errors import InvalidInputError, UnknownRepositoryError

DEFAULT_BOTS = (
    "[bot]",
    "dependabot",
    "renovate",
    "github-actions",
    "greenkeeper",
    "snyk-bot",
    "pre-commit-ci",
)
GENERATED = "generated:"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Repository:
    name: str
    path: Path
    description: str = ""
    tags: tuple[str, ...] = ()
    public: bool = False
    generated: str | None = None


@dataclass(frozen=True)
class Portfolio:
    repositories: tuple[Repository, ...] = ()
    names: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    bots: tuple[str, ...] = DEFAULT_BOTS
    reformat: frozenset[str] = frozenset()
    problems: tuple[str, ...] = field(default=())

    def visible(self, public: bool) -> tuple[Repository, ...]:
        return tuple(r for r in self.repositories if r.public or not public)

    def get(self, name: str, public: bool) -> Repository:
        for repo in self.visible(public):
            if repo.name == name:
                return repo
        known = ", ".join(r.name for r in self.visible(public)) or "none configured"
        raise UnknownRepositoryError(
            f"there is no repository {name[:80]!r}; call projects_list (known: {known})"
        )

    def is_bot(self, name: str, email: str) -> bool:
        who = f"{name} {email}".lower()
        return any(p in who for p in self.bots)

    def is_owner(self, name: str, email: str) -> bool:
        return name.lower() in self.names or email.lower() in self.emails

    def is_reformat(self, sha: str) -> bool:
        return any(sha.startswith(prefix) for prefix in self.reformat)


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{what} must be a list of strings")
    return value


def parse_portfolio(data: Any, base: Path, data_dir: Path) -> Portfolio:
    if not isinstance(data, dict):
        raise InvalidInputError("projects.yaml must be a mapping with a 'repositories' list")
    identities = data.get("identities") or {}
    if not isinstance(identities, dict):
        raise InvalidInputError("identities must be a mapping with 'names' and 'emails' lists")
    repos: list[Repository] = []
    for entry in data.get("repositories") or []:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("path"), str)
        ):
            raise InvalidInputError("each repository needs a 'name' and a 'path' (strings)")
        name = entry["name"]
        if not _NAME.match(name):
            raise InvalidInputError(f"repository name {name!r}: letters, digits, '.', '_' and '-' only")
        raw = entry["path"]
        generated = raw[len(GENERATED) :] if raw.startswith(GENERATED) else None
        path = data_dir / "projects" / "generated" / generated if generated else (base / raw).resolve()
        repos.append(
            Repository(
                name=name,
                path=path,
                description=str(entry.get("description") or ""),
                tags=tuple(_strings(entry.get("tags"), f"{name}: tags")),
                public=bool(entry.get("public", False)),
                generated=generated,
            )
        )
    bots = data.get("bots")
    return Portfolio(
        repositories=tuple(repos),
        names=frozenset(n.lower() for n in _strings(identities.get("names"), "identities.names")),
        emails=frozenset(e.lower() for e in _strings(identities.get("emails"), "identities.emails")),
        bots=tuple(b.lower() for b in _strings(bots, "bots")) if bots is not None else DEFAULT_BOTS,
        reformat=frozenset(_strings(data.get("reformat_commits"), "reformat_commits")),
    )


def load_portfolio(portfolio_dir: Path, data_dir: Path) -> Portfolio:
    """The portfolio's repositories; an empty portfolio when there is no file."""
    for name in ("projects.yaml", "projects.yml", "projects.json"):
        path = portfolio_dir / name
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if name.endswith(".json"):
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
            return parse_portfolio(data, portfolio_dir, data_dir)
    return Portfolio()

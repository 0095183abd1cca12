"""Structured results of the profile tools (they become the tools' output schemas)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from folio_core.mcp import HowDecided
from folio_profile.models import Change, SearchHit

if TYPE_CHECKING:
    from folio_profile.store import AuditEntry, WriteOutcome


class SectionResult(BaseModel):
    version: int = Field(description="The résumé version this content comes from.")
    section: str | None = Field(description="The section returned, or null for the whole résumé.")
    content: Any = Field(description="The JSON Resume content.")


class SearchResults(BaseModel):
    query: str
    version: int = Field(description="The résumé version searched.")
    hits: list[SearchHit] = Field(description="Best first.")


class HistoryEntry(BaseModel):
    version: int
    previous_version: int | None
    action: str = Field(description="import, update or rollback.")
    at: str = Field(description="When, ISO 8601 UTC.")
    client: str | None = Field(description="The MCP client that made the change, when known.")
    reason: str | None
    changes: int = Field(description="How many values changed.")

    @classmethod
    def from_audit(cls, entry: AuditEntry, *, private: bool = True) -> HistoryEntry:
        """An entry for the owner (``private``), or without client and reason for the public."""
        return cls(
            version=entry.version,
            previous_version=entry.previous_version,
            action=entry.action,
            at=entry.at.isoformat(),
            client=entry.client if private else None,
            reason=entry.reason if private else None,
            changes=entry.changes,
        )


class HistoryResult(BaseModel):
    current_version: int | None
    entries: list[HistoryEntry] = Field(description="Newest first.")


class WriteResult(BaseModel):
    version: int = Field(description="The current version after this call.")
    previous_version: int | None
    created: bool = Field(description="False when the change left the résumé as it was.")
    changes: list[Change]
    confirmed_by: HowDecided = Field(
        description="not-needed (nothing lost), argument (confirm: true) or elicitation (the user was asked)."
    )

    @classmethod
    def of(cls, outcome: WriteOutcome, *, confirmed_by: HowDecided) -> WriteResult:
        return cls(
            version=outcome.version,
            previous_version=outcome.previous_version,
            created=outcome.created,
            changes=outcome.changes,
            confirmed_by=confirmed_by,
        )

"""Bearer tokens of ``folio serve``: created, listed and revoked with ``folio tokens``.

A token is shown once, when it is created; the database keeps only its SHA-256 hash, its
audience (``owner`` or ``public``) and its expiry. A revoked or expired token is refused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from folio_core.db import Pool

TOKEN_PREFIX = "folio_"
Audience = Literal["owner", "public"]
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class TokenError(ValueError):
    """A token operation that cannot be done (unknown id, malformed expiry)."""


@dataclass(frozen=True)
class ApiToken:
    id: uuid.UUID
    name: str
    audience: Audience
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "name": self.name,
            "audience": self.audience,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w`` → a timedelta; :class:`TokenError` otherwise."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise TokenError(f"{text!r} is not a duration: use a positive number and m, h, d or w (e.g. 30d)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_token(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX) and 20 <= len(secret) <= 200


def _token(row: dict[str, object]) -> ApiToken:
    return ApiToken(
        id=uuid.UUID(str(row["id"])),
        name=str(row["name"]),
        audience="owner" if row["audience"] == "owner" else "public",
        created_at=row["created_at"],  # type: ignore[arg-type]
        expires_at=row["expires_at"],  # type: ignore[arg-type]
        revoked_at=row["revoked_at"],  # type: ignore[arg-type]
        last_used_at=row["last_used_at"],  # type: ignore[arg-type]
    )


class TokenStore:
    """The ``host.api_tokens`` table."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def create(
        self, name: str, *, audience: Audience = "owner", expires_in: timedelta | None = None
    ) -> tuple[ApiToken, str]:
        """A new token: (its record, the secret, which is never stored)."""
        if not name.strip():
            raise TokenError("a token needs a name (what it is for), e.g. --name laptop")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    """INSERT INTO host.api_tokens (name, token_hash, audience, expires_at)
                       VALUES (%s, %s, %s, CASE WHEN %s::interval IS NULL THEN NULL ELSE now() + %s::interval END)
                       RETURNING *""",
                    (name.strip()[:100], hash_token(secret), audience, expires_in, expires_in),
                )
            ).fetchone()
        assert row is not None
        return _token(row), secret

    async def list(self) -> list[ApiToken]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute("SELECT * FROM host.api_tokens ORDER BY created_at")).fetchall()
        return [_token(r) for r in rows]

    async def revoke(self, prefix: str) -> ApiToken:
        """Revoke the token whose id starts with ``prefix`` (as ``folio tokens list`` shows it)."""
        text = prefix.strip().lower()
        if not text or any(ch not in "0123456789abcdef-" for ch in text):
            raise TokenError(f"{prefix!r} is not a token id; `folio tokens list` shows them")
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT * FROM host.api_tokens WHERE id::text LIKE %s LIMIT 2", (text + "%",)
                )
            ).fetchall()
            if not rows:
                raise TokenError(f"no token id starts with {prefix!r}; `folio tokens list` shows them")
            if len(rows) > 1:
                raise TokenError(f"{prefix!r} matches several tokens; give more of the id")
            row = await (
                await conn.execute(
                    "UPDATE host.api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = %s RETURNING *",
                    (rows[0]["id"],),
                )
            ).fetchone()
        assert row is not None
        return _token(row)

    async def verify(self, secret: str) -> ApiToken | None:
        """The live token with this secret (not revoked, not expired), or None."""
        if not looks_like_token(secret):
            return None
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    """UPDATE host.api_tokens SET last_used_at = now()
                       WHERE token_hash = %s AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
                       RETURNING *""",
                    (hash_token(secret),),
                )
            ).fetchone()
        return _token(row) if row is not None else None

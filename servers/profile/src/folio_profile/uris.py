"""The profile server's resource URIs (also the payloads of its change-feed events)."""

from __future__ import annotations

RESUME_JSON = "profile://resume.json"
RESUME_MD = "profile://resume.md"
SKILLS = "profile://skills"
VERSION_TEMPLATE = "profile://versions/{n}"
FEED_PREFIXES = ("profile://",)


def version_uri(version: int) -> str:
    return VERSION_TEMPLATE.format(n=version)

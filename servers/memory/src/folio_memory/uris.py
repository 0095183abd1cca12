"""The memory server's resource URIs (also the payloads of its change-feed events)."""

from __future__ import annotations

RECENT = "memory://recent"
STATS = "memory://stats"
GRAPH = "memory://graph"
MEMORY_TEMPLATE = "memory://memories/{id}"
FEED_PREFIXES = ("memory://",)


def memory_uri(memory_id: int) -> str:
    return MEMORY_TEMPLATE.format(id=memory_id)

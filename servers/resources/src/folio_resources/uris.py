"""The resources server's change-feed URIs (no heavy imports: the MCP layer loads this at start)."""

from __future__ import annotations

LIST_CHANGED = "docs://?list"
"""The change-feed event for 'the list of documents changed' (no document has this URI)."""
FEED_PREFIXES = ("docs://",)


def list_changed_uri(public: bool) -> str:
    """The list-changed event, saying whether a public caller may notice it."""
    return f"{LIST_CHANGED}={'public' if public else 'private'}"

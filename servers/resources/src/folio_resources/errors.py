"""The resources server's domain errors; each message is written for the model reading it."""

from __future__ import annotations

NOT_FOUND = "no readable document at {path}; call docs_list to see the documents"
"""The one refusal for a path outside the roots, excluded, private, missing or a link."""


class DocsError(Exception):
    """A problem the caller can fix; the message says how."""


class NotFoundError(DocsError):
    """The path is not a document this caller may read (the reason is never told)."""

    def __init__(self, path: str) -> None:
        super().__init__(NOT_FOUND.format(path=shown(path)))


class ExtractionError(DocsError):
    """The file cannot be read as the format its name or bytes say."""


class TooLargeError(DocsError):
    pass


class NotTextError(DocsError):
    pass


def shown(path: str, limit: int = 120) -> str:
    """A client-sent path as it may appear in a message: quoted, printable, shortened."""
    text = repr(path[:limit] + ("…" if len(path) > limit else ""))
    return text

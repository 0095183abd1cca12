"""Checks of untrusted input shared by every Folio server (resource ids, tool arguments).

One rule each, so every server refuses the same bad input with the same kind of message.
"""

from __future__ import annotations

import re

_ASCII_ID = re.compile(r"[1-9][0-9]{0,17}")


def parse_positive_id(text: str) -> int | None:
    """A positive whole number written in ASCII digits, or ``None``.

    ``str.isdigit()`` accepts superscripts (``²``) that ``int()`` rejects, and ``int()`` reads
    other scripts' digits (``٣٤`` is 34): neither is an id anyone wrote on purpose.
    """
    if _ASCII_ID.fullmatch(text) is None:
        return None
    return int(text)


__all__ = ["parse_positive_id"]

"""The profile server's domain errors; each message is written for the person or model reading it."""

from __future__ import annotations

from collections.abc import Sequence


class NoProfileError(LookupError):
    """No résumé has been imported yet."""


class VersionNotFoundError(LookupError):
    def __init__(self, version: int, existing: Sequence[int]) -> None:
        self.version = version
        self.existing = list(existing)
        super().__init__(f"there is no version {version}; existing versions: {_ranges(self.existing)}")


class ConcurrentWriteError(RuntimeError):
    """Another writer kept changing the profile while this write was being prepared."""


def _ranges(values: Sequence[int]) -> str:
    if not values:
        return "none"
    out: list[str] = []
    start = prev = values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(out)

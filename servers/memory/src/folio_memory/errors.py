"""The memory server's domain errors; each message tells the model what to do instead."""

from __future__ import annotations


class MemoryError_(Exception):
    """Base of the memory server's domain errors."""


class InvalidInputError(MemoryError_, ValueError):
    """An argument is out of range; the message names the valid range."""


class MemoryNotFoundError(MemoryError_, LookupError):
    def __init__(self, memory_id: int) -> None:
        self.memory_id = memory_id
        super().__init__(
            f"there is no memory with id {memory_id} (it never existed or was forgotten); "
            "call memory_recall to find the memory you mean and use its id"
        )


class AlreadySupersededError(MemoryError_):
    def __init__(self, memory_id: int, by: int | None) -> None:
        later = f"by memory {by}" if by is not None else "already"
        super().__init__(
            f"memory {memory_id} is no longer current: it was superseded {later}; "
            f"update the current version{f' ({by})' if by is not None else ''} instead"
        )


class EntityNotFoundError(MemoryError_, LookupError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"Entity with name {name} not found; create it with create_entities first")

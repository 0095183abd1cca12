"""The projects server's domain errors; each message is written for the model reading it."""

from __future__ import annotations


class ProjectsError(Exception):
    """A problem the caller can fix; the message says how."""


class UnknownRepositoryError(ProjectsError):
    pass


class NotARepositoryError(ProjectsError):
    pass


class InvalidInputError(ProjectsError):
    pass


class GitError(ProjectsError):
    pass

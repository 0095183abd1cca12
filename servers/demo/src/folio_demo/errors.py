"""The demo server's domain errors; each message is written for the model reading it."""

from __future__ import annotations


class DemoError(Exception):
    """A problem the caller can fix; the message says how."""


class UnknownDemoError(DemoError):
    pass


class InvalidInputsError(DemoError):
    pass


class DemoConfigError(DemoError):
    """A demo folder of the portfolio is malformed (the owner fixes it)."""


class NotAllowedError(DemoError):
    """The audience may not do this."""

"""MCP helpers every Folio server reuses."""

from folio_core.mcp.interact import (
    ConfirmForm,
    Decision,
    HowDecided,
    can_elicit,
    can_sample,
    client_label,
    confirmation,
    require_confirmation,
    sample_text,
    text_sample,
)
from folio_core.mcp.notify import ResourceNotifier
from folio_core.mcp.server import READ_ONLY, FolioServer, Runtime, runtime_of, write_annotations

__all__ = [
    "READ_ONLY",
    "ConfirmForm",
    "Decision",
    "FolioServer",
    "HowDecided",
    "ResourceNotifier",
    "Runtime",
    "can_elicit",
    "can_sample",
    "client_label",
    "confirmation",
    "require_confirmation",
    "runtime_of",
    "sample_text",
    "text_sample",
    "write_annotations",
]

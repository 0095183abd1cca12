"""Folio's shared foundation: settings, logging, database, change feed, cache, embeddings, MCP helpers."""

from folio_core.settings import FolioSettings

__version__ = "0.1.0"
__all__ = ["FolioSettings", "__version__"]

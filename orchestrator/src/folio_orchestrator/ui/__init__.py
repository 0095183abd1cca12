"""Terminal output: tables, progress bars, and MCP content rendered as text."""

from folio_orchestrator.ui.content import render_content, render_prompt, render_resource
from folio_orchestrator.ui.progress import ProgressBar
from folio_orchestrator.ui.table import table

__all__ = ["ProgressBar", "render_content", "render_prompt", "render_resource", "table"]

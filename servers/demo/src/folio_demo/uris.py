"""The demo server's resource URIs."""

from __future__ import annotations

CATALOGUE = "demo://catalogue"
SOURCE_TEMPLATE = "demo://{name}/source"
RUN_TEMPLATE = "demo://runs/{run_id}"
FEED_PREFIXES = ("demo://",)


def run_uri(run_id: str) -> str:
    return RUN_TEMPLATE.format(run_id=run_id)

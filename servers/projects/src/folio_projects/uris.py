"""The projects server's resource URIs."""

from __future__ import annotations

PORTFOLIO = "projects://portfolio"
REPORT_TEMPLATE = "projects://{repo}/report.md"
STATS_TEMPLATE = "projects://{repo}/stats.json"
FEED_PREFIXES = ("projects://",)


def changed_uris(repo: str) -> list[str]:
    return [PORTFOLIO, REPORT_TEMPLATE.format(repo=repo), STATS_TEMPLATE.format(repo=repo)]

"""profile_match_job cites the projects server's scans (read from the shared database), per audience."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from folio_core.settings import FolioSettings
from folio_core.testing import SAMPLE_PORTFOLIO
from folio_profile.server import build_server as build_profile
from folio_projects.server import build_server as build_projects

from .conftest import git

pytestmark = pytest.mark.anyio

JOB = """Senior Platform Engineer
Requirements:
- 3+ years of Rust in production
- Python for tooling and automation
- Go services experience
"""


def owner_commits(repo: Path, *paths: str) -> int:
    out = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "rev-list",
            "--no-merges",
            "--author=ines.halvorsen@example.com",
            "HEAD",
            "--",
            *paths,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(out.split())


def by_term(fit: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for item in fit["requirements"]:
        for shown in item["project_evidence"]:
            found.setdefault(shown["term"], []).append(shown)
    return found


async def match(settings: FolioSettings) -> dict[str, Any]:
    async with Client(build_profile(settings).mcp) as c:
        result = await c.call_tool("profile_match_job", {"description": JOB})
        assert not result.is_error
        assert result.structured_content is not None
        return result.structured_content


async def test_job_fit_cites_the_owners_commits_next_to_the_resume(
    make_settings: Callable[..., FolioSettings], portfolio_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(SAMPLE_PORTFOLIO / "resume.json", portfolio_dir / "resume.json")
    work = portfolio_dir / "work"
    (work / "tool.py").write_text("import sys\n\nprint(sys.argv)\n")
    git(work, "add", "tool.py")
    git(work, "commit", "-qm", "Add a Python tool", when=1_720_000_000)
    owner = make_settings()
    before = by_term(await match(owner))
    assert before == {}  # nothing scanned yet: the résumé alone

    async with Client(build_projects(owner).mcp) as c:
        listed = await c.call_tool("projects_list", {})  # scans every readable repository
        assert not listed.is_error

    demo = tmp_path / "data" / "projects" / "generated" / "analytics-demo"
    fit = await match(owner)
    shown = by_term(fit)
    rust = {e["repo"]: e for e in shown["rust"]}
    assert set(rust) == {"analytics-demo"}
    assert rust["analytics-demo"]["commits"] == owner_commits(demo, "*.rs") == 2
    assert rust["analytics-demo"]["lines_of_code"] > 0
    assert rust["analytics-demo"]["first_commit"] <= rust["analytics-demo"]["last_commit"]
    python = {e["repo"]: e["commits"] for e in shown["python"]}
    assert python["work"] == owner_commits(work, "*.py") == 2
    assert python["analytics-demo"] == owner_commits(demo, "*.py")
    assert "go" not in shown  # the Go command was written by someone else
    rust_item = next(i for i in fit["requirements"] if "Rust" in i["requirement"]["text"])
    assert "Projects: 2 commit(s) on rust in analytics-demo" in rust_item["rationale"]

    visitor = by_term(await match(make_settings(audience="public")))
    assert {e["repo"] for e in visitor["python"]} == {
        "analytics-demo"
    }  # the private working copy is not shown
    assert visitor["rust"] == shown["rust"]


async def test_the_query_layer_answers_from_a_real_scan(
    make_settings: Callable[..., FolioSettings], tmp_path: Path
) -> None:
    from folio_query.server import build_server as build_query

    owner = make_settings()
    async with Client(build_projects(owner).mcp) as c:
        assert not (await c.call_tool("projects_list", {})).is_error
    demo = tmp_path / "data" / "projects" / "generated" / "analytics-demo"
    sql = (
        "SELECT f.language, count(DISTINCT c.sha) AS commits FROM project_commits c "
        "JOIN project_file_changes f ON f.repo = c.repo AND f.sha = c.sha "
        "WHERE c.repo = 'analytics-demo' AND c.is_owner AND NOT c.is_merge AND f.language IS NOT NULL "
        "GROUP BY 1 ORDER BY 1"
    )
    async with Client(build_query(owner).mcp) as q:
        result = await q.call_tool("query_sql", {"sql": sql})
        assert not result.is_error and result.structured_content is not None
        rows = {language: n for language, n in result.structured_content["rows"]}
        repos = await q.call_tool(
            "query_sql", {"sql": "SELECT name, public FROM project_repositories ORDER BY 1"}
        )
        assert repos.structured_content is not None
    assert rows["Rust"] == owner_commits(demo, "*.rs") and rows["Python"] == owner_commits(demo, "*.py")
    assert "Go" not in rows  # written by someone else
    assert repos.structured_content["rows"] == [["analytics-demo", True], ["gone", False], ["work", False]]
    async with Client(build_query(make_settings(audience="public")).mcp) as q:
        visible = await q.call_tool("query_sql", {"sql": "SELECT name FROM project_repositories"})
        assert visible.structured_content is not None and visible.structured_content["rows"] == [
            ["analytics-demo"]
        ]

"""A stand-in for the profile server in the web page's tests: the sample résumé as
``profile://resume.json`` and a short ``profile://resume.md``, without a database."""

import json

from mcp.server import MCPServer

from folio_core.testing import SAMPLE_PORTFOLIO

mcp = MCPServer("profile-standin", version="0.0.1")
RESUME = json.loads((SAMPLE_PORTFOLIO / "resume.json").read_text(encoding="utf-8"))


@mcp.resource("profile://resume.json", mime_type="application/json")
def resume_json() -> str:
    """The résumé (JSON Resume)."""
    return json.dumps(RESUME)


@mcp.resource("profile://resume.md", mime_type="text/markdown")
def resume_md() -> str:
    """The résumé as Markdown."""
    basics = RESUME["basics"]
    lines = [f"# {basics['name']}", "", basics.get("label", ""), "", "## Work"]
    lines += [f"- **{w.get('position', '')}**, {w.get('name', '')}" for w in RESUME.get("work", [])]
    return "\n".join(lines)


if __name__ == "__main__":
    mcp.run()

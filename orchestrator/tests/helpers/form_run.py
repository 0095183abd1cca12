"""Run one real terminal form, then print its outcome as one JSON line on stdout (for pexpect tests).

Usage: python form_run.py REQUEST.json   where the file holds {"server", "message", "schema"}.
The form itself is drawn on stderr by the real prompt_toolkit FormIO.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from folio_orchestrator.forms import run_form


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    outcome = asyncio.run(run_form(request["message"], request["schema"], server=request["server"]))
    print("OUTCOME " + json.dumps({"action": outcome.action, "content": outcome.content}), flush=True)


if __name__ == "__main__":
    main()

"""The escape corpus through the MCP layer: ``demo_run_snippet`` with each known escape, checked on
what came back, on the host afterwards, and on the server still answering.

The corpus draws on the published escapes of code-running MCP servers and sandboxes: Pyodide's
``js`` module and its persistent virtual filesystem, Deno permission bypasses (symlinks through
``/proc``, child processes), SSRF to localhost services and the cloud metadata address, secrets in
the environment, and the classic resource bombs. The containment probe runs first, through the
same tool, and no destructive payload runs unless it passed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from folio_core.settings import FolioSettings
from folio_core.testing import tool_text
from folio_demo import sandbox as sb
from folio_demo.server import build_server

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sb.tiers()["namespace"] is not None, reason="namespace tier unavailable"),
]

PIDNS = "import os\nprint(os.readlink('/proc/self/ns/pid'), flush=True)\n"


async def snippet(c: Client, code: str) -> dict[str, Any]:
    result = await c.call_tool("demo_run_snippet", {"code": code, "confirm": True})
    assert not result.is_error, tool_text(result)
    assert result.structured_content is not None
    return result.structured_content


async def contained(c: Client, probe: tuple[str, Callable[[dict[str, object]], list[str]]]) -> None:
    """The probe, through the same tool and limits as the payload; fail before the payload if not contained."""
    code, check = probe
    problems = check(json.loads((await snippet(c, code))["stdout"]))
    if problems:
        pytest.fail("NOT CONTAINED, destructive payload not run: " + "; ".join(problems))


# (label, code, what must hold of the result's stdout/stderr, whether it is destructive)
CORPUS: list[tuple[str, str, Callable[[dict[str, Any]], bool], bool]] = [
    (
        "host files",
        "for p in ['/etc/shadow', '/etc/passwd', '/root/.bash_history', '/proc/1/root/etc/passwd']:\n"
        "    try: print(open(p).read()[:30])\n    except OSError as e: print(type(e).__name__)",
        lambda r: "root:" not in r["stdout"] and r["stdout"].count("Error") == 4,
        False,
    ),
    (
        "environment secrets",
        "import os\nprint(dict(os.environ))\nprint(open('/proc/self/environ', 'rb').read())",
        lambda r: "hunter2" not in r["stdout"] and "FOLIO" not in r["stdout"],
        False,
    ),
    (
        "localhost redis, postgres and the metadata service",
        "import socket\nfor h, p in [('127.0.0.1', 6379), ('127.0.0.1', 5432), ('169.254.169.254', 80), ('::1', 6379)]:\n"
        "    fam = socket.AF_INET6 if ':' in h else socket.AF_INET\n"
        "    try:\n        s = socket.socket(fam); s.settimeout(1); s.connect((h, p)); print('CONNECTED', h)\n"
        "    except OSError as e: print('refused', h)",
        lambda r: "CONNECTED" not in r["stdout"] and r["stdout"].count("refused") == 4,
        False,
    ),
    (
        "urllib to the metadata service",
        "import urllib.request\ntry:\n    print(urllib.request.urlopen('http://169.254.169.254/latest/meta-data/', timeout=2).read())\n"
        "except Exception as e:\n    print('failed', type(e).__name__)",
        lambda r: r["stdout"].startswith("failed"),
        False,
    ),
    (
        "subprocess and a shell",
        "import subprocess\nprint(subprocess.run(['sh', '-c', 'cat /etc/passwd; ls /home; env'], capture_output=True, text=True))",
        lambda r: "root:" not in r["stdout"] and "FOLIO" not in r["stdout"],
        False,
    ),
    (
        "ctypes: mount, setuid, ptrace of PID 1",
        "import ctypes\nlibc = ctypes.CDLL(None)\nprint(libc.setuid(0), libc.mount(b'x', b'/usr', None, 32, None), libc.ptrace(16, 1, 0, 0))",
        lambda r: r["stdout"].strip() == "-1 -1 -1",
        False,
    ),
    (
        "Pyodide js module and a persistent filesystem",
        "import os\ntry:\n    import js\n    print('js')\nexcept ImportError:\n    print('no js')\n"
        "print(os.path.exists('/work/persisted'))\nopen('/work/persisted', 'w').write('x')",
        lambda r: r["stdout"] == "no js\nFalse\n",
        False,
    ),
    (
        "symlinks through /proc (a Deno-style bypass)",
        "import os\nos.symlink('/proc/1/root', '/work/r')\n"
        "for p in ['/work/r/etc/passwd', '/proc/1/cwd/x', '/proc/self/root/../../etc/passwd']:\n"
        "    try: print(open(p).read()[:9])\n    except OSError as e: print(type(e).__name__)",
        lambda r: "root:" not in r["stdout"] and r["stdout"].count("Error") == 3,
        False,
    ),
    (
        "writing outside the working directory",
        "for p in ['/usr/x', '/opt/site-packages/x', '/x', '/dev/x']:\n"
        "    try: open(p, 'w').write('x'); print('WROTE', p)\n    except OSError as e: print(type(e).__name__)",
        lambda r: "WROTE" not in r["stdout"] and not Path("/usr/x").exists(),
        False,
    ),
    (
        "a daemonised child",
        PIDNS
        + "import time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(300)\n    os._exit(0)\nprint('left')",
        lambda r: r["exit_code"] == 0 and "left" in r["stdout"],
        False,
    ),
    (
        "a fork bomb",
        PIDNS + "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        lambda r: r["killed"] in ("wall_clock", "cpu_time"),
        True,
    ),
    (
        "a memory bomb",
        "x = []\nwhile True:\n    x.append(bytearray(64 * 1024 * 1024))",
        lambda r: "MemoryError" in r["stderr"] and r["exit_code"] == 1,
        True,
    ),
    (
        "memory spread over many processes",
        "import os, time\nfor _ in range(8):\n    if os.fork() == 0:\n        block = b'x' * (60 * 1024 * 1024)\n"
        "        time.sleep(60)\ntime.sleep(60)",
        lambda r: r["killed"] == "memory_limit",
        True,
    ),
    (
        "an output bomb",
        "while True:\n    print('A' * 4096)",
        lambda r: r["stdout_truncated"] and r["killed"] == "output_limit",
        True,
    ),
    (
        "an infinite loop",
        "while True:\n    pass",
        lambda r: r["killed"] in ("cpu_time", "wall_clock"),  # whichever comes first on a loaded machine
        True,
    ),
    (
        "signals to the parent and to everyone",
        PIDNS + "import signal\nfor t in (os.getppid(), 1):\n    try: os.kill(t, 9); print('SIGNALLED')\n"
        "    except OSError: pass\nos.kill(-1, 9)",
        lambda r: "SIGNALLED" not in r["stdout"],
        True,
    ),
]


@pytest.mark.parametrize(("label", "code", "holds", "destructive"), CORPUS, ids=[c[0] for c in CORPUS])
async def test_the_escape_corpus_through_demo_run_snippet(
    make_settings: Callable[..., FolioSettings],
    leftovers: Callable[[str], list[int]],
    probe: tuple[str, Callable[[dict[str, object]], list[str]]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    label: str,
    code: str,
    holds: Callable[[dict[str, Any]], bool],
    destructive: bool,
) -> None:
    monkeypatch.setenv("FOLIO_DATABASE_URL", "postgresql://folio:hunter2@127.0.0.1/folio")
    portfolio = tmp_path / "portfolio"
    (portfolio / "demos").mkdir(parents=True)
    (portfolio / "demos" / "settings.yaml").write_text(
        "snippet_limits: {cpu_seconds: 2, wall_seconds: 4, memory_mb: 256, processes: 16, output_bytes: 8192}\n"
    )
    async with Client(build_server(make_settings(portfolio_dir=portfolio)).mcp, mode="legacy") as c:
        if destructive:
            await contained(c, probe)
        result = await snippet(c, code)
        assert result["tier"] == "namespace"
        assert holds(result), f"{label}: {json.dumps(result)[:1500]}"
        if code.startswith(PIDNS):
            assert leftovers(result["stdout"].split()[0]) == [], f"{label}: something outlived the call"
        after = await snippet(c, "print('still serving')")
    assert after["stdout"] == "still serving\n"
    assert os.getpid() > 0  # this process (the server's) is alive to assert it

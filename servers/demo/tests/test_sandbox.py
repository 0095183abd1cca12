"""The sandbox per tier: plain runs, limits, and an escape corpus built from the known escapes.

Every destructive payload (fork bomb, memory bomb, signals to everyone) runs only after the
containment probe, in the same sandbox configuration, proved that the code sees its own PID
namespace, no network interface but ``lo`` and none of the host's files.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from folio_demo import sandbox as sb

pytestmark = pytest.mark.anyio

FAST = sb.Limits(cpu_seconds=2, wall_seconds=4, memory_mb=256, processes=16, output_bytes=4096)
NAMESPACE = sb.tiers()["namespace"]
needs_namespace = pytest.mark.skipif(NAMESPACE is not None, reason=f"namespace tier: {NAMESPACE}")
needs_interpreter = pytest.mark.skipif(
    sb.tiers()["interpreter"] is not None, reason=f"interpreter tier: {sb.tiers()['interpreter']}"
)


async def ns(code: str, limits: sb.Limits = FAST, **kw: Any) -> sb.RunResult:
    return await sb.run(code, kw.pop("language", "python"), limits, tier="namespace", **kw)


# --- the namespace tier: ordinary runs --------------------------------------------------------


@needs_namespace
async def test_namespace_print_one_round_trip() -> None:
    result = await ns("print(1)")
    assert result.ok and result.stdout == "1\n" and result.stderr == ""
    assert result.tier == "namespace" and result.limits == FAST and result.duration_ms > 0


@needs_namespace
async def test_namespace_code_sees_its_own_pid_namespace_no_network_and_no_host_files(prove: Any) -> None:
    seen = await prove(FAST)
    assert seen["ppid"] == 1 and seen["interfaces"] == ["lo"]


@needs_namespace
async def test_namespace_in_a_user_namespace_the_code_has_no_capabilities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The path Folio takes when it is not root, forced here (a harmless probe only)."""
    monkeypatch.setattr(sb, "_use_user_namespace", lambda: True)
    code = (
        "import os\nstatus = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
        "print(status['CapEff'].strip(), status['CapBnd'].strip(), status['NoNewPrivs'].strip())\n"
        "print(os.readlink('/proc/self/ns/user'), sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
        "print(os.path.exists('/etc/passwd'))"
    )
    result = await ns(code)
    assert result.ok, result.stderr
    caps, userns, rest = result.stdout.split("\n", 2)
    assert caps == "0000000000000000 0000000000000000 1"
    assert userns.split()[0] != str(Path("/proc/self/ns/user").readlink()) and userns.endswith("[1, 2]")
    assert rest == "False\n"


@needs_namespace
async def test_namespace_inputs_files_exit_status_and_streamed_output() -> None:
    pieces: list[tuple[str, str]] = []

    async def on_output(stream: str, text: str) -> None:
        pieces.append((stream, text))

    code = (
        "import sys, helper\nprint(helper.double(inputs['n']))\nprint('warn', file=sys.stderr)\n"
        "print(open('inputs.json').read())\nsys.exit(3)"
    )
    result = await ns(
        code, files={"helper.py": "def double(x):\n    return 2 * x\n"}, inputs={"n": 21}, on_output=on_output
    )
    assert result.exit_code == 3 and not result.ok
    assert result.stdout.splitlines() == ["42", '{"n": 21}'] and result.stderr == "warn\n"
    assert "".join(t for s, t in pieces if s == "stdout") == result.stdout


@needs_namespace
async def test_namespace_multibyte_output_split_across_reads_arrives_whole() -> None:
    result = await ns("print('€' * 30000)", sb.Limits(output_bytes=128 * 1024))
    assert result.ok and result.stdout == "€" * 30000 + "\n"


@needs_namespace
async def test_namespace_png_written_by_the_code_comes_back_as_an_artefact() -> None:
    code = (
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.savefig('chart.png')\n"
        "open('fake.png', 'w').write('not a png')\n"
    )
    result = await ns(code, sb.Limits(wall_seconds=30, cpu_seconds=20))
    assert result.ok, result.stderr
    assert [a.name for a in result.artefacts] == ["chart.png"]
    assert result.artefacts[0].data.startswith(b"\x89PNG\r\n\x1a\n")


@needs_namespace
async def test_namespace_images_are_capped_per_file_and_in_total() -> None:
    code = """
import os, struct, zlib
def png(w, h):
    raw = b"".join(b"\\x00" + os.urandom(w * 3) for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")
for i in range(3):
    open(f"big{i}.png", "wb").write(png(1100, 1200))  # about 3.9 MB each
open("huge.png", "wb").write(png(1400, 1200))  # about 5 MB: over the per-file cap
"""
    result = await ns(code, sb.Limits(wall_seconds=30, cpu_seconds=20, file_size_mb=8))
    assert result.ok, result.stderr
    assert [a.name for a in result.artefacts] == ["big0.png", "big1.png"]


@needs_namespace
async def test_namespace_javascript_runs_when_node_is_present() -> None:
    if sb._layout().node is None:
        pytest.skip("Node.js is not installed")
    result = await ns(
        "console.log(JSON.stringify({sum: [1, 2, 3].reduce((a, b) => a + b)}))", language="javascript"
    )
    assert result.ok, result.stderr
    assert json.loads(result.stdout) == {"sum": 6}


# --- the namespace tier: the escape corpus ----------------------------------------------------


@needs_namespace
async def test_escape_host_files_and_a_planted_secret_are_not_visible(tmp_path: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42")
    code = f"""
import os
for path in ["/etc/shadow", "/etc/passwd", {str(secret)!r}, "/proc/1/root/etc/passwd", "/.old/etc/passwd"]:
    try:
        print(path, open(path).read()[:40])
    except OSError as exc:
        print(path, type(exc).__name__)
"""
    result = await ns(code)
    assert "TOPSECRET" not in result.stdout and "root:" not in result.stdout
    assert result.stdout.count("Error") == 5, result.stdout


@needs_namespace
async def test_escape_environment_secrets_do_not_reach_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLIO_DATABASE_URL", "postgresql://folio:hunter2@db/folio")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    code = (
        "import os\nprint(dict(os.environ))\n"
        "for p in ('/proc/self/environ', '/proc/1/environ'):\n"
        "    try: print(open(p, 'rb').read())\n    except OSError as e: print(p, type(e).__name__)\n"
    )
    result = await ns(code)
    assert "hunter2" not in result.stdout and "sk-ant" not in result.stdout
    assert "FOLIO" not in result.stdout and "PermissionError" in result.stdout


@needs_namespace
async def test_escape_other_processes_under_proc_are_out_of_sight() -> None:
    code = (
        "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
        "for p in ('/proc/1/cmdline', '/proc/1/fd', '/proc/1/mem'):\n"
        "    try: print(p, len(os.listdir(p)) if p.endswith('fd') else open(p,'rb').read(64))\n"
        "    except OSError as e: print(p, type(e).__name__)\n"
    )
    result = await ns(code)
    lines = result.stdout.splitlines()
    assert json.loads(lines[0]) == [1, 2]
    assert "/proc/1/fd PermissionError" in lines and "/proc/1/mem PermissionError" in lines
    assert str(os.getpid()) not in lines[0]


@needs_namespace
async def test_escape_no_socket_reaches_localhost_redis_imds_or_dns() -> None:
    code = """
import socket
targets = [("127.0.0.1", 6379), ("169.254.169.254", 80), ("::1", 6379), ("8.8.8.8", 53), ("10.0.0.1", 80)]
for host, port in targets:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        s = socket.socket(family, socket.SOCK_STREAM); s.settimeout(1); s.connect((host, port))
        print(host, "CONNECTED")
    except OSError as exc:
        print(host, "refused", exc.errno)
try:
    socket.getaddrinfo("example.com", 80); print("dns RESOLVED")
except OSError:
    print("dns failed")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b"x", ("8.8.8.8", 53)); print("udp SENT")
except OSError:
    print("udp failed")
try:
    socket.socket(socket.AF_UNIX).connect("/var/run/postgresql/.s.PGSQL.5432"); print("unix CONNECTED")
except OSError:
    print("unix failed")
"""
    result = await ns(code)
    assert result.ok, result.stderr
    assert (
        "CONNECTED" not in result.stdout and "RESOLVED" not in result.stdout and "SENT" not in result.stdout
    )
    assert result.stdout.count("refused") == 5


@needs_namespace
async def test_escape_subprocesses_run_contained(leftovers: Callable[[str], list[int]]) -> None:
    code = (
        "import subprocess, os\nprint(os.readlink('/proc/self/ns/pid'))\n"
        "print(subprocess.run(['/bin/sh', '-c', 'id -u; ls /; cat /etc/passwd 2>&1; echo done'],"
        " capture_output=True, text=True).stdout)"
    )
    result = await ns(code)
    assert result.ok, result.stderr
    pidns, rest = result.stdout.split("\n", 1)
    uid = int(rest.split("\n", 1)[0])
    assert uid in sb.SANDBOX_UIDS if os.geteuid() == 0 else uid == 0
    assert "root:" not in rest and "done" in rest and "home" not in rest
    assert leftovers(pidns) == []


@needs_namespace
async def test_escape_ctypes_cannot_mount_setuid_or_remount_the_runtime_writable() -> None:
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("setuid", libc.setuid(0))
print("mount", libc.mount(b"none", b"/usr", None, 32 | 4096, None))
print("unshare", libc.unshare(0x10000000 | 0x00020000))  # a user + mount namespace of its own
print("remount", libc.mount(None, b"/usr", None, 32 | 4096, None))
for path in ("/usr/folio-escape", "/opt/site-packages/folio-escape", "/folio-escape"):
    try:
        open(path, "w").write("x"); print(path, "WROTE")
    except OSError as exc:
        print(path, type(exc).__name__)
print("work", open("/work/ok.txt", "w").write("fine"))
"""
    result = await ns(code)
    assert result.ok, result.stderr
    lines = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines())
    assert lines["setuid"] == "-1" and lines["mount"] == "-1"
    assert "WROTE" not in result.stdout and lines["work"] == "4"
    assert not Path("/usr/folio-escape").exists()


@needs_namespace
async def test_escape_state_does_not_persist_between_runs() -> None:
    first = await ns("open('/work/state', 'w').write('1'); open('/tmp/state', 'w').write('1'); print('ok')")
    assert first.ok
    second = await ns("import os; print(os.path.exists('/work/state'), os.path.exists('/tmp/state'))")
    assert second.stdout == "False False\n"


@needs_namespace
async def test_escape_pyodide_js_module_and_deno_style_symlink_tricks_fail() -> None:
    code = """
import os
try:
    import js; print("js IMPORTED")
except ImportError:
    print("no js")
os.symlink("/proc/1/root", "/work/hostroot")
for path in ["/work/hostroot/etc/passwd", "/proc/self/root/../../etc/passwd", "/proc/1/cwd"]:
    try:
        print(path, os.listdir(path) if path.endswith("cwd") else open(path).read()[:20])
    except OSError as exc:
        print(path, type(exc).__name__)
"""
    result = await ns(code)
    assert result.ok, result.stderr
    assert "IMPORTED" not in result.stdout and "root:" not in result.stdout
    assert result.stdout.count("Error") == 3


@needs_namespace
async def test_escape_a_daemonised_child_does_not_outlive_the_call(
    leftovers: Callable[[str], list[int]], tmp_path: Any
) -> None:
    code = """
import os, time
print(os.readlink("/proc/self/ns/pid"), flush=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(120)
    os._exit(0)
print("parent done")
"""
    result = await ns(code)
    assert result.ok and "parent done" in result.stdout
    assert result.killed is None  # the parent's exit ended the run, not the clock
    assert leftovers(result.stdout.split()[0]) == []


@needs_namespace
async def test_escape_a_fork_bomb_does_not_starve_a_run_beside_it(prove: Any) -> None:
    if os.geteuid() != 0:
        pytest.skip("per-run uids need Folio to run as root")
    await prove(FAST)
    bombing = anyio.Event()

    async def on_output(stream: str, text: str) -> None:
        bombing.set()

    bomb = "import os\nprint('bombing', flush=True)\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    threads = (
        "import os, threading\nts = [threading.Thread(target=lambda: None) for _ in range(12)]\n"
        "[t.start() for t in ts]\n[t.join() for t in ts]\nprint(os.getuid())"
    )
    beside: list[sb.RunResult] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: ns(bomb, on_output=on_output))
        with anyio.fail_after(30):
            await bombing.wait()
        beside.append(await ns(threads))
    assert beside[0].ok, beside[0].stderr
    assert int(beside[0].stdout) in sb.SANDBOX_UIDS and sb._uids_in_use == set()


@needs_namespace
async def test_escape_a_fork_bomb_is_capped_and_everything_is_reaped(
    prove: Any, leftovers: Callable[[str], list[int]]
) -> None:
    await prove(FAST)
    code = """
import os
print(os.readlink("/proc/self/ns/pid"), flush=True)
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
    result = await ns(code)
    assert result.killed in ("wall_clock", "cpu_time")
    assert leftovers(result.stdout.split()[0]) == []
    assert (await ns("print('still serving')")).stdout == "still serving\n"


@needs_namespace
async def test_escape_memory_bombs_hit_the_address_space_limit(prove: Any) -> None:
    await prove(FAST)
    result = await ns("x = bytearray(8 * 1024**3)")
    assert result.exit_code == 1 and "MemoryError" in result.stderr
    result = await ns("chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024**2))")
    assert result.exit_code == 1 and "MemoryError" in result.stderr


@needs_namespace
async def test_escape_memory_spread_over_processes_hits_the_runs_total(prove: Any) -> None:
    await prove(FAST)
    code = """
import os, time
for _ in range(8):
    if os.fork() == 0:
        block = b"x" * (120 * 1024 * 1024)  # each child under the address-space limit
        time.sleep(60)
time.sleep(60)
"""
    result = await ns(code, sb.Limits(cpu_seconds=10, wall_seconds=30, memory_mb=256, processes=16))
    assert result.killed == "memory_limit"


@needs_namespace
async def test_escape_an_output_bomb_is_truncated_and_stopped() -> None:
    result = await ns("while True:\n    print('x' * 1000)")
    assert result.stdout_truncated and len(result.stdout) == FAST.output_bytes
    assert result.killed == "output_limit"


@needs_namespace
async def test_escape_an_infinite_loop_is_stopped_by_the_cpu_limit() -> None:
    result = await ns("while True:\n    pass", sb.Limits(cpu_seconds=1, wall_seconds=20))
    assert result.killed == "cpu_time" and not result.ok


@needs_namespace
async def test_escape_a_sleeping_loop_is_stopped_by_the_wall_clock() -> None:
    result = await ns("import time\nwhile True:\n    time.sleep(1)", sb.Limits(cpu_seconds=5, wall_seconds=1))
    assert result.killed == "wall_clock" and result.exit_code is None


@needs_namespace
async def test_escape_signals_to_the_parent_and_to_everyone_reach_nothing_outside(
    prove: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await prove(FAST)
    monkeypatch.setattr(sb, "_allocate_uid", lambda: 65534)  # the same uid as the host sentinel below
    sentinel = subprocess.Popen(  # noqa: ASYNC220 (a host process to prove kill -1 misses)
        ["sleep", "60"],
        user=65534 if os.geteuid() == 0 else None,
    )
    try:
        code = """
import os, signal
for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL); print(target, "SIGNALLED")
    except OSError as exc:
        print(target, type(exc).__name__)
os.kill(-1, signal.SIGKILL)
print("after kill -1")
"""
        result = await ns(code)
        assert "SIGNALLED" not in result.stdout
        assert sentinel.poll() is None, "a host process of the same user was killed"
        assert (await ns("print('alive')")).stdout == "alive\n"
    finally:
        sentinel.kill()
        sentinel.wait()


@needs_namespace
async def test_escape_a_big_file_hits_the_file_size_limit() -> None:
    limits = sb.Limits(file_size_mb=1, tmpfs_mb=8, wall_seconds=5)
    result = await ns("open('/work/big', 'wb').write(b'x' * (2 * 1024 * 1024))", limits)
    assert not result.ok  # SIGXFSZ or an OSError, never a 2 MB file


@needs_namespace
async def test_escape_node_child_process_fetch_and_env_are_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    if sb._layout().node is None:
        pytest.skip("Node.js is not installed")
    monkeypatch.setenv("FOLIO_REDIS_URL", "redis://:hunter2@127.0.0.1:6379")
    code = """
const cp = require('child_process');
console.log('env', JSON.stringify(process.env));
try { console.log('passwd', cp.execSync('cat /etc/passwd 2>&1 || true').toString().slice(0, 40)); } catch (e) { console.log('exec', e.code); }
const net = require('net');
const s = net.connect(6379, '127.0.0.1');
s.on('connect', () => { console.log('CONNECTED'); process.exit(0); });
s.on('error', (e) => { console.log('refused', e.code); });
"""
    result = await ns(code, sb.Limits(wall_seconds=10), language="javascript")
    assert "hunter2" not in result.stdout and "CONNECTED" not in result.stdout
    assert "root:" not in result.stdout and "refused" in result.stdout


@needs_namespace
async def test_cancelling_a_run_kills_it(leftovers: Callable[[str], list[int]]) -> None:
    got_line = anyio.Event()
    pidns: list[str] = []

    async def on_output(stream: str, text: str) -> None:
        pidns.append(text.split()[0])
        got_line.set()

    code = "import os, time\nprint(os.readlink('/proc/self/ns/pid'), flush=True)\ntime.sleep(60)"
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: ns(code, sb.Limits(wall_seconds=60), on_output=on_output))
        with anyio.fail_after(30):
            await got_line.wait()
        tg.cancel_scope.cancel()
    assert leftovers(pidns[0]) == []


# --- the interpreter tier -----------------------------------------------------------------------


async def it(code: str, limits: sb.Limits = FAST, **kw: Any) -> sb.RunResult:
    return await sb.run(code, "python", limits, tier="interpreter", **kw)


@needs_interpreter
async def test_interpreter_print_and_inputs() -> None:
    result = await it("print(inputs['a'] + inputs['b'])", inputs={"a": 2, "b": 3})
    assert result.ok and result.stdout == "5\n" and result.tier == "interpreter"


@needs_interpreter
@pytest.mark.parametrize(
    "code",
    [
        "import os\nprint(os.environ)",
        "open('/etc/passwd').read()",
        "import socket",
        "import subprocess",
        "import ctypes",
        "import js",
    ],
)
async def test_interpreter_offers_no_environment_files_sockets_subprocess_or_ctypes(code: str) -> None:
    result = await it(code)
    assert result.exit_code == 1 and result.stdout == ""
    assert any(name in result.stderr for name in ("ModuleNotFoundError", "PermissionError", "not supported"))


@needs_interpreter
async def test_interpreter_limits_stop_loops_and_memory_bombs() -> None:
    loop = await it("while True:\n    pass", sb.Limits(cpu_seconds=1, wall_seconds=5))
    assert loop.killed == "cpu_time" and "TimeoutError" in loop.stderr
    bomb = await it("x = [0] * 10**9")
    assert bomb.exit_code == 1 and "MemoryError" in bomb.stderr


@needs_interpreter
async def test_interpreter_output_is_capped() -> None:
    result = await it("for i in range(10000):\n    print('y' * 100)")
    assert result.stdout_truncated and len(result.stdout) == FAST.output_bytes


@needs_interpreter
async def test_interpreter_cancelling_a_run_ends_its_worker() -> None:
    def monty_children() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    mine = (
                        int(fields[1]) == os.getpid() and fields[0] != "Z"
                    )  # zombies are dead, awaiting reaping
                    if mine and (entry / "comm").read_text().strip() == "monty":
                        found.append(int(entry.name))
                except (OSError, IndexError):
                    continue
        return found

    printed = anyio.Event()

    async def on_output(stream: str, text: str) -> None:
        printed.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: it(
                "print('spinning')\nwhile True:\n    pass",
                sb.Limits(cpu_seconds=60, wall_seconds=60),
                on_output=on_output,
            )
        )
        with anyio.fail_after(30):
            await printed.wait()
        assert monty_children(), "the run should have a worker while it runs"
        tg.cancel_scope.cancel()
    assert monty_children() == []


async def test_javascript_is_refused_by_the_interpreter_tier() -> None:
    with pytest.raises(sb.SandboxUnavailable, match="Python only"):
        await sb.run("console.log(1)", "javascript", tier="interpreter")


# --- choosing a tier ---------------------------------------------------------------------------


async def test_with_no_tier_available_nothing_runs_and_the_refusal_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sb, "_namespace_problem", lambda: "the kernel refused new namespaces")
    monkeypatch.setattr(sb, "_interpreter_problem", lambda: "pydantic-monty is not installed")
    with pytest.raises(sb.SandboxUnavailable, match=r"nothing ran.*kernel refused.*pydantic-monty"):
        await sb.run("print(1)")


async def test_without_namespaces_python_falls_back_to_the_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if sb.tiers()["interpreter"] is not None:
        pytest.skip("interpreter tier unavailable")
    monkeypatch.setattr(sb, "_namespace_problem", lambda: "not Linux")
    result = await sb.run("print(40 + 2)", limits=FAST)
    assert result.tier == "interpreter" and result.stdout == "42\n"


@pytest.mark.parametrize(
    ("code", "language", "message"),
    [
        ("", "python", "empty"),
        ("   \n", "python", "empty"),
        ("x = 1\n" * 200_000, "python", "larger than"),
        ("print(1)", "ruby", "unknown language"),
    ],
)
async def test_bad_code_or_language_runs_nothing(code: str, language: Any, message: str) -> None:
    with pytest.raises(sb.SandboxError, match=message):
        await sb.run(code, language)


def test_limits_within_a_ceiling_keep_the_tighter_value() -> None:
    asked = sb.Limits(cpu_seconds=60, wall_seconds=1, memory_mb=4096)
    assert asked.within(sb.VISITOR_LIMITS) == sb.Limits(
        cpu_seconds=sb.VISITOR_LIMITS.cpu_seconds,
        wall_seconds=1,
        memory_mb=sb.VISITOR_LIMITS.memory_mb,
        processes=sb.VISITOR_LIMITS.processes,
        open_files=sb.VISITOR_LIMITS.open_files,
        file_size_mb=sb.VISITOR_LIMITS.file_size_mb,
        output_bytes=sb.VISITOR_LIMITS.output_bytes,
        tmpfs_mb=sb.VISITOR_LIMITS.tmpfs_mb,
    )

"""Running untrusted code: a layered sandbox, chosen per platform and named in every result.

Tiers, strongest first:

``namespace``
    Linux with ``unshare``: a child process in fresh mount, PID, network, IPC and UTS namespaces
    (a user namespace too when Folio is not started as root). Its root is a tmpfs holding only
    the OS and language runtimes, read-only; ``/work`` (the code's files) and ``/tmp`` are the
    only writable places, both size-capped. No network interface is up; the host's processes
    and files are out of sight. The code runs without capabilities (as an unprivileged uid of
    its own per run when Folio runs as root), with ``no_new_privs``, under CPU, address-space, process, open-file and
    file-size limits, with an empty environment. The wall clock is enforced twice: inside (the
    namespace's first process kills everything) and outside (the whole process group is killed,
    and the namespace dies with its first process). See :mod:`folio_demo._nsinit`.
``interpreter``
    pydantic-monty, a Python interpreter written in Rust that runs in its own worker process,
    with a heap limit and an execution-time limit; it has no filesystem, network, environment,
    subprocess or ctypes to offer. Python only; one file, no images. See :mod:`folio_demo.interpreter`.
``none``
    Neither is available: :func:`run` raises :class:`SandboxUnavailable`; nothing runs.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import anyio
import structlog
from anyio.streams.buffered import BufferedByteReceiveStream

log = structlog.get_logger(__name__)

Language = Literal["python", "javascript"]
Tier = Literal["namespace", "interpreter"]
LANGUAGES: tuple[Language, ...] = ("python", "javascript")
Killed = Literal["wall_clock", "cpu_time", "memory_limit", "output_limit", "cancelled"]
OutputCallback = Callable[[str, str], Awaitable[None]]

INIT_SCRIPT = Path(__file__).with_name("_nsinit.py")
MAX_CODE_BYTES = 256 * 1024
_SIGXCPU = 24
_GRACE_SECONDS = 2.0
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # the last message carries the images, base64-encoded


class SandboxError(Exception):
    """The sandbox could not run the code (not a failure of the code itself)."""


class SandboxUnavailable(SandboxError):
    """No tier can run this language here."""


@dataclass(frozen=True)
class Limits:
    """What one run may use. Every field has a ceiling; :meth:`within` keeps the tighter value."""

    cpu_seconds: float = 5.0
    wall_seconds: float = 10.0
    memory_mb: int = 512
    processes: int = 16  # threads count too; with memory_mb it bounds a run's total memory
    open_files: int = 64
    file_size_mb: int = 16
    output_bytes: int = 64 * 1024
    tmpfs_mb: int = 64

    def within(self, ceiling: Limits) -> Limits:
        """These limits, none above ``ceiling``'s."""
        return Limits(**{f.name: min(getattr(self, f.name), getattr(ceiling, f.name)) for f in fields(self)})

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


OWNER_LIMITS = Limits()
VISITOR_LIMITS = Limits(
    cpu_seconds=2.0, wall_seconds=5.0, memory_mb=256, processes=12, output_bytes=16 * 1024, tmpfs_mb=16
)


@dataclass(frozen=True)
class Artefact:
    name: str
    data: bytes
    mime_type: str = "image/png"


@dataclass
class RunResult:
    """The outcome of one run. ``killed`` says why the sandbox stopped the code, if it did."""

    tier: Tier
    language: Language
    limits: Limits
    exit_code: int | None
    signal: int | None
    killed: Killed | None
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    duration_ms: float
    cpu_seconds: float | None = None
    artefacts: list[Artefact] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.killed is None

    def summary(self) -> dict[str, Any]:
        """Everything but the artefacts' bytes (their names and sizes instead)."""
        return {
            "tier": self.tier,
            "language": self.language,
            "limits": self.limits.as_dict(),
            "network": "off",
            "exit_code": self.exit_code,
            "signal": self.signal,
            "killed": self.killed,
            "ok": self.ok,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "stdout_truncated": self.stdout_truncated,
            "stderr_truncated": self.stderr_truncated,
            "duration_ms": round(self.duration_ms, 2),
            "cpu_seconds": self.cpu_seconds,
            "artefacts": [
                {"name": a.name, "bytes": len(a.data), "mime_type": a.mime_type} for a in self.artefacts
            ],
        }


# --- what the namespace tier mounts -------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    python: str  # the interpreter, at the same path inside
    binds: list[tuple[str, str]]  # (host path, path inside), read-only
    links: dict[str, str]  # symlinks at the root (/lib -> usr/lib)
    libraries: str | None  # the site-packages path inside
    node: str | None


LIBRARIES_INSIDE = "/opt/site-packages"


@functools.cache
def _layout() -> _Layout:
    binds: list[tuple[str, str]] = [("/usr", "/usr")]
    links: dict[str, str] = {}
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        path = Path(top)
        if path.is_symlink():
            links[top] = str(path.readlink())
        elif path.is_dir():
            binds.append((top, top))
    base = str(Path(sys.base_prefix).resolve())
    if not base.startswith("/usr/") and base != "/usr":
        binds.append((base, base))
    python = str(Path(sys.base_prefix, "bin", f"python{sys.version_info.major}.{sys.version_info.minor}"))
    if not Path(python).exists():
        python = str(Path(sys._base_executable).resolve())  # type: ignore[attr-defined]
    site = sysconfig.get_paths()["purelib"]
    libraries = None
    if Path(site).is_dir() and Path(site).resolve() != Path(base):
        binds.append((str(Path(site).resolve()), LIBRARIES_INSIDE))
        libraries = LIBRARIES_INSIDE
    node = shutil.which("node")
    node_inside = None
    if node is not None:
        real = str(Path(node).resolve())
        if real.startswith("/usr/"):
            node_inside = real
    return _Layout(python=python, binds=binds, links=links, libraries=libraries, node=node_inside)


_BOOT = """\
import json, runpy, sys
sys.path[:0] = {paths!r}
sys.argv = ["main.py"]
try:
    with open("/work/inputs.json", encoding="utf-8") as f:
        inputs = json.load(f)
except FileNotFoundError:
    inputs = {{}}
runpy.run_path("/work/{entry}", init_globals={{"inputs": inputs}}, run_name="__main__")
"""

_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/work",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/matplotlib",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "SOURCE_DATE_EPOCH": "0",
}


def _rlimits(limits: Limits, language: Language) -> dict[str, tuple[int, int]]:
    memory = limits.memory_mb * 1024 * 1024
    if language == "javascript":
        memory += (
            8 * 1024 * 1024 * 1024
        )  # V8 reserves address space it never touches; the heap is capped by flag
    cpu = max(1, int(limits.cpu_seconds + 0.999))
    return {
        "RLIMIT_CPU": (cpu, cpu + 1),
        "RLIMIT_AS": (memory, memory),
        "RLIMIT_NPROC": (limits.processes, limits.processes),
        "RLIMIT_NOFILE": (limits.open_files, limits.open_files),
        "RLIMIT_FSIZE": (limits.file_size_mb * 1024 * 1024, limits.file_size_mb * 1024 * 1024),
        "RLIMIT_CORE": (0, 0),
    }


def _argv(layout: _Layout, language: Language, limits: Limits, entry: str, libraries: bool) -> list[str]:
    if language == "python":
        paths = ["/work"] + ([layout.libraries] if libraries and layout.libraries else [])
        return [layout.python, "-I", "-S", "-c", _BOOT.format(paths=paths, entry=entry)]
    if layout.node is None:
        raise SandboxUnavailable("JavaScript needs Node.js, which is not installed here; use python")
    return [layout.node, f"--max-old-space-size={max(16, limits.memory_mb // 2)}", f"/work/{entry}"]


# --- tier detection -----------------------------------------------------------------------------


def _use_user_namespace() -> bool:
    """Without root, the namespaces need a user namespace (the code is its root, without capabilities)."""
    return os.geteuid() != 0


def _unshare_argv() -> list[str]:
    base = [
        "unshare",
        "--mount",
        "--pid",
        "--fork",
        "--net",
        "--ipc",
        "--uts",
        "--kill-child",
        "--propagation",
        "private",
    ]
    if _use_user_namespace():
        base[1:1] = ["--user", "--map-root-user"]
    return base


@functools.cache
def _namespace_problem() -> str | None:
    """Why the namespace tier cannot run here, or None when it can (probed once per process)."""
    if platform.system() != "Linux":
        return f"namespaces are Linux-only (this is {platform.system()})"
    if shutil.which("unshare") is None:
        return "the unshare command (util-linux) is not installed"
    try:
        done = subprocess.run(
            [*_unshare_argv(), sys.executable, "-I", "-S", "-c", "pass"],
            capture_output=True,
            timeout=20,
            env={},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if done.returncode != 0:
        return f"the kernel refused new namespaces: {done.stderr.decode(errors='replace').strip()[:200]}"
    return None


@functools.cache
def _interpreter_problem() -> str | None:
    try:
        import pydantic_monty  # noqa: F401
    except ImportError:
        return "pydantic-monty is not installed"
    return None


def tiers() -> dict[str, str | None]:
    """Each tier and why it is unavailable (None: available)."""
    return {"namespace": _namespace_problem(), "interpreter": _interpreter_problem()}


def choose_tier(language: Language, wanted: Tier | None = None) -> Tier:
    """The strongest available tier for ``language`` (or ``wanted``, if it is available)."""
    available = tiers()
    order: list[Tier] = [wanted] if wanted is not None else ["namespace", "interpreter"]
    reasons = []
    for tier in order:
        problem = available[tier]
        if problem is None and tier == "interpreter" and language != "python":
            problem = "the interpreter tier runs Python only"
        if problem is None:
            return tier
        reasons.append(f"{tier}: {problem}")
    raise SandboxUnavailable("no sandbox can run this code here, so nothing ran (" + "; ".join(reasons) + ")")


# --- running ------------------------------------------------------------------------------------


def check_code(code: str) -> None:
    if not code.strip():
        raise SandboxError("the code is empty; send the code to run")
    if len(code.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
        raise SandboxError(f"the code is larger than {MAX_CODE_BYTES // 1024} KiB; send a shorter program")


async def run(
    code: str,
    language: Language = "python",
    limits: Limits = OWNER_LIMITS,
    *,
    files: Mapping[str, str] | None = None,
    inputs: Any = None,
    tier: Tier | None = None,
    on_output: OutputCallback | None = None,
    libraries: bool = True,
) -> RunResult:
    """Run ``code`` in the strongest sandbox available and return what happened.

    ``files`` are written beside the code in the working directory; ``inputs`` (JSON) is
    ``inputs.json`` there and, in Python, the global ``inputs``. ``on_output(stream, text)`` is
    awaited for each piece of output as it arrives. Cancelling the caller kills the run.
    """
    if language not in LANGUAGES:
        raise SandboxError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    check_code(code)
    chosen = choose_tier(language, tier)
    if chosen == "interpreter" and files:
        raise SandboxUnavailable(
            "this program has several files, which only the namespace sandbox can run, and it is "
            f"unavailable here ({tiers()['namespace']}); nothing ran"
        )
    if chosen == "namespace":
        tmp_files: dict[str, str] = {}
        sources = [code, *(files or {}).values()]
        if language == "python" and libraries and any("matplotlib" in text for text in sources):
            tmp_files = await _matplotlib_cache()
        return await _run_namespace(
            code, language, limits, files or {}, inputs, on_output, libraries, tmp_files
        )
    from folio_demo.interpreter import run_interpreter

    return await run_interpreter(code, limits, inputs, on_output)


class Output:
    """A run's stdout and stderr, capped, passed on to ``on_output`` as they arrive."""

    def __init__(self, cap: int, on_output: OutputCallback | None) -> None:
        self.cap = cap
        self.on_output = on_output
        self.parts: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.size: dict[str, int] = {"stdout": 0, "stderr": 0}

    async def add(self, stream: str, text: str) -> None:
        room = self.cap - self.size[stream]
        if room <= 0:
            return
        piece = text[:room]
        self.parts[stream].append(piece)
        self.size[stream] += len(piece)
        if self.on_output is not None and piece:
            await self.on_output(stream, piece)

    def text(self, stream: str) -> str:
        return "".join(self.parts[stream])


_MATPLOTLIB_PROBE = """\
import pathlib, matplotlib, matplotlib.font_manager as fm
fontlist = pathlib.Path(matplotlib.get_cachedir(), f"fontlist-v{fm.FontManager.__version__}.json")
print(fontlist.name)
print(fontlist.read_text())
"""
_matplotlib_files: dict[str, str] | None = None
_matplotlib_lock: anyio.Lock | None = None


async def _matplotlib_cache() -> dict[str, str]:
    """matplotlib's font list as built inside the sandbox (paths as the code sees them), made once per
    process and handed to every run that uses matplotlib: building it costs seconds a run."""
    global _matplotlib_files, _matplotlib_lock
    if _matplotlib_lock is None:
        _matplotlib_lock = anyio.Lock()
    async with _matplotlib_lock:
        if _matplotlib_files is None:
            result = await _run_namespace(
                _MATPLOTLIB_PROBE,
                "python",
                Limits(cpu_seconds=30, wall_seconds=60, memory_mb=1024, output_bytes=8 * 1024 * 1024),
                {},
                None,
                None,
                True,
                {},
            )
            name, _, body = result.stdout.partition("\n")
            good = result.ok and name.startswith("fontlist-") and body.lstrip().startswith("{")
            _matplotlib_files = {f"matplotlib/{name}": body} if good else {}
            if not good:
                log.warning("matplotlib font cache not built", stderr=result.stderr[-300:])
    return _matplotlib_files


# When Folio runs as root, each run's code gets a uid of its own from this range (no account uses
# them), so process limits are per run: one run's fork bomb cannot starve another's threads.
SANDBOX_UIDS = range(1_000_000, 1_065_536)
_uids_in_use: set[int] = set()


def _allocate_uid() -> int:
    import random

    while True:
        uid = random.choice(SANDBOX_UIDS)
        if uid not in _uids_in_use:
            _uids_in_use.add(uid)
            return uid


def _release_uid(uid: int) -> None:
    _uids_in_use.discard(uid)


def _kill_namespace(process: anyio.abc.Process) -> None:
    """SIGKILL the namespace's first process (its exit takes every other process of the namespace
    with it, and ``unshare`` reaps it), then the process group of ``unshare`` itself."""
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(child), signal.SIGKILL)


def _kill_group(process: anyio.abc.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _reap(process: anyio.abc.Process) -> None:
    """Kill what is left of a run and wait until the namespace is gone (shielded from cancellation)."""
    with anyio.CancelScope(shield=True):
        if process.returncode is None:
            _kill_namespace(process)
            with anyio.move_on_after(5):
                await process.wait()
        _kill_group(process)
        await process.wait()


async def _run_namespace(
    code: str,
    language: Language,
    limits: Limits,
    files: Mapping[str, str],
    inputs: Any,
    on_output: OutputCallback | None,
    libraries: bool,
    tmp_files: Mapping[str, str],
) -> RunResult:
    layout = _layout()
    entry = "main.py" if language == "python" else "main.js"
    written = {**files, entry: code}
    if inputs is not None:
        written["inputs.json"] = json.dumps(inputs)
    for name in written:
        if name.startswith("/") or ".." in Path(name).parts or not name:
            raise SandboxError(f"file name {name!r} must be relative, inside the working directory")
    request = {
        "tmp_files": tmp_files,
        "binds": layout.binds,
        "links": layout.links,
        "tmpfs_mb": limits.tmpfs_mb,
        "files": written,
        "argv": _argv(layout, language, limits, entry, libraries),
        "env": _ENV,
        "rlimits": _rlimits(limits, language),
        "drop_to_unprivileged": not _use_user_namespace(),
        "output_bytes": limits.output_bytes,
        "wall_seconds": limits.wall_seconds,
        "memory_bytes": limits.memory_mb * 1024 * 1024,  # all the run's processes together
    }
    output = Output(limits.output_bytes, on_output)
    uid = _allocate_uid()
    try:
        return await _run_as(request, uid, language, limits, output)
    finally:
        _release_uid(uid)


async def _run_as(
    request: dict[str, Any], uid: int, language: Language, limits: Limits, output: Output
) -> RunResult:
    request = {**request, "uid": uid}
    done: dict[str, Any] | None = None
    failure: str | None = None
    killed: Killed | None = None
    started = time.perf_counter()
    process = await anyio.open_process(
        [*_unshare_argv(), sys.executable, "-I", "-S", str(INIT_SCRIPT)],
        env={},
        start_new_session=True,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        await process.stdin.send(json.dumps(request).encode())
        await process.stdin.aclose()
        lines = BufferedByteReceiveStream(process.stdout)
        with anyio.move_on_after(limits.wall_seconds + _GRACE_SECONDS) as scope:
            while True:
                try:
                    line = await lines.receive_until(b"\n", _MAX_MESSAGE_BYTES)
                except (anyio.EndOfStream, anyio.IncompleteRead):
                    break
                message = json.loads(line)
                kind = message["type"]
                if kind == "output":
                    await output.add(message["stream"], message["data"])
                elif kind == "done":
                    done = message
                elif kind == "error":
                    failure = f"{message['stage']}: {message['error']}"
        if scope.cancelled_caught:
            killed = "wall_clock"
    finally:
        await _reap(process)
        with anyio.CancelScope(shield=True):
            stderr = b""
            if process.stderr is not None:
                with anyio.move_on_after(1):
                    stderr = b"".join([chunk async for chunk in process.stderr])
            await process.aclose()
    duration = (time.perf_counter() - started) * 1000
    if failure is not None or (done is None and killed is None):
        detail = (
            failure or stderr.decode(errors="replace").strip()[-500:] or f"exit status {process.returncode}"
        )
        raise SandboxError(f"the sandbox could not start: {detail}")
    exit_code = signal_number = None
    artefacts: list[Artefact] = []
    cpu = None
    out_bytes = err_bytes = 0
    if done is not None:
        exit_code, signal_number = done["exit_code"], done["signal"]
        cpu = done["cpu_seconds"]
        out_bytes, err_bytes = done["stdout_bytes"], done["stderr_bytes"]
        artefacts = [Artefact(a["name"], base64.b64decode(a["data"])) for a in done["artefacts"]]
        if done["killed"] is not None:
            killed = done["killed"]
        elif signal_number == _SIGXCPU or (
            signal_number == signal.SIGKILL and cpu is not None and cpu >= 0.9 * limits.cpu_seconds
        ):
            killed = "cpu_time"
    return RunResult(
        tier="namespace",
        language=language,
        limits=limits,
        exit_code=exit_code,
        signal=signal_number,
        killed=killed,
        stdout=output.text("stdout"),
        stderr=output.text("stderr"),
        stdout_truncated=out_bytes > limits.output_bytes,
        stderr_truncated=err_bytes > limits.output_bytes,
        duration_ms=duration,
        cpu_seconds=cpu,
        artefacts=artefacts,
    )


__all__ = [
    "LANGUAGES",
    "OWNER_LIMITS",
    "VISITOR_LIMITS",
    "Artefact",
    "Language",
    "Limits",
    "RunResult",
    "SandboxError",
    "SandboxUnavailable",
    "Tier",
    "check_code",
    "choose_tier",
    "run",
    "tiers",
]

"""The first process of a namespace sandbox (PID 1 of a fresh PID namespace). Standard library only.

Started by :mod:`folio_demo.sandbox` as ``python -I -S _nsinit.py`` inside ``unshare``'s new mount,
PID, network, IPC and UTS namespaces. It reads one JSON request on stdin, then:

1. builds a minimal root on a tmpfs: the OS runtime (``/usr`` and the ``/lib`` links), the Python
   runtime and, when asked, the libraries, all bind-mounted read-only; a fresh ``/proc`` (this
   namespace's processes only) with ``/proc/sys`` read-only; ``/dev`` with four character devices;
   size-capped tmpfs ``/work`` (the code's files and working directory) and ``/tmp``;
2. ``pivot_root``s into it and detaches the old root, so no other host file is reachable;
3. forks the code's process: resource limits, no capabilities (an unprivileged uid of its own when
   started as the real root; an empty bounding set inside a user namespace), ``no_new_privs``, an empty
   environment but for a few harmless variables;
4. relays its stdout and stderr as JSON lines on its own stdout (capped), enforces the wall clock,
   and when the code's process ends (or the clock runs out) kills everything left in the
   namespace, reaps it, reads the PNG files the code wrote in ``/work`` and reports the outcome
   as the last JSON line.

Nothing the code starts can outlive this process: when PID 1 of a namespace exits, the kernel
kills every other process in it.
"""

from __future__ import annotations

import codecs
import ctypes
import json
import os
import select
import signal
import stat
import sys
import time

TYPE_CHECKING = False  # typing costs milliseconds to import; annotations are never evaluated here
if TYPE_CHECKING:
    from typing import Any, NoReturn

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}
# The new root is a tmpfs mounted (in this namespace only) over one of these host directories: the
# first that exists and holds none of the bind-mounted sources.
ROOT_CANDIDATES = ("/srv", "/media", "/mnt", "/opt", "/home")
ROOT = "/srv"
MAX_ARTEFACTS = 8
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MEMORY_CHECK_SECONDS = 0.1  # how often the namespace's total resident memory is summed
MAX_ARTEFACT_BYTES = 4 * 1024 * 1024
MAX_ARTEFACTS_TOTAL = 8 * 1024 * 1024  # what one tool result carries at most
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def emit(message: dict[str, Any]) -> None:
    sys.stdout.buffer.write(json.dumps(message).encode() + b"\n")
    sys.stdout.buffer.flush()


def fail(stage: str, error: object) -> NoReturn:
    emit({"type": "error", "stage": stage, "error": str(error)})
    sys.exit(70)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(
    source: str | None, target: str, fstype: str | None = None, flags: int = 0, data: str | None = None
) -> None:
    _check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def bind_readonly(source: str, target: str) -> None:
    # not recursive: a mount below the source stays out of sight instead of staying writable
    mount(source, target, None, MS_BIND)
    mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def choose_root(sources: list[str]) -> str:
    for candidate in ROOT_CANDIDATES:
        if os.path.isdir(candidate) and not os.path.islink(candidate):
            if not any(s == candidate or s.startswith(candidate + "/") for s in sources):
                return candidate
    raise OSError("no directory to mount the sandbox root on")


def build_root(request: dict[str, Any]) -> None:
    global ROOT
    ROOT = choose_root([source for source, _ in request["binds"]])
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here propagates to the host
    mount("sandbox", ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for link, target in request["links"].items():
        os.symlink(target, ROOT + link)
    for source, target in request["binds"]:
        path = ROOT + target
        os.makedirs(path, exist_ok=True)
        bind_readonly(source, path)
    size = request["tmpfs_mb"]
    for name in ("/work", "/tmp"):
        os.makedirs(ROOT + name)
        mount("sandbox", ROOT + name, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=0700")
    os.makedirs(ROOT + "/dev")
    mount("sandbox", ROOT + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for device in ("null", "zero", "random", "urandom"):
        with open(ROOT + "/dev/" + device, "w"):
            pass
        mount("/dev/" + device, ROOT + "/dev/" + device, None, MS_BIND)
    os.symlink("/proc/self/fd", ROOT + "/dev/fd")
    os.makedirs(ROOT + "/proc")
    mount("proc", ROOT + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for masked in ("sys", "sysrq-trigger"):
        path = ROOT + "/proc/" + masked
        if os.path.exists(path):
            bind_readonly(path, path)
    os.makedirs(ROOT + "/.old")
    mount(None, ROOT, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    # the code's files, written before the switch (the work directory belongs to the code's user)
    uid = request["uid"] if request["drop_to_unprivileged"] else 0
    written = [("/work/" + name, text) for name, text in request["files"].items()]
    written += [("/tmp/" + name, text) for name, text in request.get("tmp_files", {}).items()]
    for inside, text in written:
        path = ROOT + inside
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    for top in ("/work", "/tmp"):
        for folder, dirs, files in os.walk(ROOT + top):
            for entry in [folder, *(os.path.join(folder, f) for f in dirs + files)]:
                os.chown(entry, uid, uid)
    machine = os.uname().machine
    if machine not in PIVOT_ROOT:
        raise OSError(f"pivot_root: unsupported machine {machine}")
    _check(libc.syscall(PIVOT_ROOT[machine], ROOT.encode(), (ROOT + "/.old").encode()), "pivot_root")
    os.chdir("/")
    _check(libc.umount2(b"/.old", MNT_DETACH), "umount old root")


def drop_privileges(request: dict[str, Any]) -> None:
    limits = request["rlimits"]
    import resource

    for name, value in limits.items():
        soft, hard = value
        resource.setrlimit(getattr(resource, name), (soft, hard))
    if request["drop_to_unprivileged"]:
        os.setgroups([])
        os.setgid(request["uid"])
        os.setuid(request["uid"])
    else:
        for cap in range(64):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
                break  # EINVAL: past the last capability this kernel knows
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def start_code(request: dict[str, Any]) -> tuple[int, int, int]:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.closerange(3, 65536)
            os.chdir("/work")
            drop_privileges(request)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.execve(request["argv"][0], request["argv"], request["env"])
        except BaseException as exc:
            os.write(2, f"sandbox: could not start the code: {exc}\n".encode())
        os._exit(127)
    os.close(out_w)
    os.close(err_w)
    return pid, out_r, err_r


def resident_bytes() -> int:
    """The resident memory of every process of this namespace but this one (its /proc shows no other)."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit() and entry != "1":
            try:
                with open(f"/proc/{entry}/statm") as handle:
                    total += int(handle.read().split()[1]) * PAGE_SIZE
            except (OSError, ValueError, IndexError):
                continue  # it ended meanwhile
    return total


def kill_everything() -> None:
    try:
        os.kill(-1, signal.SIGKILL)  # every process of this PID namespace but this one
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def relay(
    request: dict[str, Any], pid: int, out_r: int, err_r: int
) -> tuple[int | None, str | None, dict[str, int]]:
    cap = request["output_bytes"]
    bomb = cap * 16
    wall = request["wall_seconds"]
    deadline = time.monotonic() + wall
    streams = {out_r: "stdout", err_r: "stderr"}
    sent = {"stdout": 0, "stderr": 0}
    seen = {"stdout": 0, "stderr": 0}
    decoders = {name: codecs.getincrementaldecoder("utf-8")("replace") for name in sent}
    status = None
    reason = None
    memory_cap = request["memory_bytes"]
    next_memory_check = 0.0
    # readable once the code's process has exited (Linux 5.3+): select wakes for the exit itself,
    # even after both pipes closed
    try:
        exited = [os.pidfd_open(pid)]
    except (AttributeError, OSError):  # older kernels: poll for the exit every few milliseconds
        exited = []
    while status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            reason = "wall_clock"
            break
        wait = MEMORY_CHECK_SECONDS if exited or streams else 0.005
        ready, _, _ = select.select([*streams, *exited], [], [], min(left, wait))
        for fd in ready:
            if fd in exited:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                del streams[fd]
                continue
            name = streams[fd]
            seen[name] += len(chunk)
            room = cap - sent[name]
            if room > 0:
                part = chunk[:room]
                sent[name] += len(part)
                emit({"type": "output", "stream": name, "data": decoders[name].decode(part)})
            if seen[name] > bomb:
                reason = "output_limit"
        if reason is None and time.monotonic() >= next_memory_check:
            next_memory_check = time.monotonic() + MEMORY_CHECK_SECONDS
            if resident_bytes() > memory_cap:
                reason = "memory_limit"
        if reason is not None:
            break
        while True:  # reap the code's process and any orphan handed to this init
            try:
                done, code = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                done, code = 0, None
            if done == 0:
                break
            if done == pid:
                status = code
    kill_everything()
    for fd in list(streams):  # what is still buffered in the pipes
        while sent[streams[fd]] < cap:
            ready, _, _ = select.select([fd], [], [], 0)
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            name = streams[fd]
            seen[name] += len(chunk)
            part = chunk[: cap - sent[name]]
            sent[name] += len(part)
            emit({"type": "output", "stream": name, "data": decoders[name].decode(part)})
    for name, decoder in decoders.items():
        tail = decoder.decode(b"", final=True)
        if tail:
            emit({"type": "output", "stream": name, "data": tail})
    return status, reason, seen


def collect_artefacts() -> list[dict[str, str]]:
    import base64

    found: list[dict[str, str]] = []
    total = 0
    for name in sorted(os.listdir("/work")):
        if not name.lower().endswith(".png") or len(found) >= MAX_ARTEFACTS:
            continue
        try:
            fd = os.open("/work/" + name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ARTEFACT_BYTES:
                continue
            data = os.read(fd, MAX_ARTEFACT_BYTES + 1)
        finally:
            os.close(fd)
        fits = len(data) <= MAX_ARTEFACT_BYTES and total + len(data) <= MAX_ARTEFACTS_TOTAL
        if data.startswith(PNG_MAGIC) and fits:
            total += len(data)
            found.append({"name": name, "data": base64.b64encode(data).decode()})
    return found


def main() -> None:
    started = time.monotonic()
    try:
        request = json.loads(sys.stdin.buffer.read())
    except ValueError as exc:
        fail("request", exc)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    try:
        build_root(request)
    except OSError as exc:
        fail("root", exc)
    emit({"type": "started", "setup_ms": round((time.monotonic() - started) * 1000, 2)})
    pid, out_r, err_r = start_code(request)
    status, reason, seen = relay(request, pid, out_r, err_r)
    exit_code = signal_number = None
    if status is not None:
        if os.WIFEXITED(status):
            exit_code = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            signal_number = os.WTERMSIG(status)
    usage = __import__("resource").getrusage(__import__("resource").RUSAGE_CHILDREN)
    emit(
        {
            "type": "done",
            "exit_code": exit_code,
            "signal": signal_number,
            "killed": reason,
            "stdout_bytes": seen["stdout"],
            "stderr_bytes": seen["stderr"],
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "max_rss_kb": usage.ru_maxrss,
            "artefacts": collect_artefacts(),
        }
    )


if __name__ == "__main__":
    main()

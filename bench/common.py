"""What bench/bench.py, bench/bench_load.py and bench/bench_logind.py share.

/proc and cgroup helpers, the test user's processes, machine facts (with the
build time and sha256 of the binary under test), the fork storm, pidfd
watching, and the main skeleton: SIGTERM/SIGHUP run the normal cleanup,
setup/run/teardown, the report with its notes, the JSON file.

Standard library only, plus tests/harness.py of this project.  The scripts
put tests/ on sys.path before they import this module; it does so too, so
that it can be imported on its own.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Type

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if os.path.join(ROOT, "tests") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness as h  # noqa: E402

# The fork storm of bench.py and bench_logind.py.  ALWAYS with the ulimit
# guard: without it the storm is only bounded by pid_max and takes the
# machine down.  bash, because dash's `ulimit` has no -u.  `|| exit 99` makes
# a failed guard end the session instead of storming unbounded.
STORM_CAP = 2000
STORM_SCRIPT = (f"ulimit -u {STORM_CAP} || exit 99; trap '' HUP TERM; "
                "storm() { while :; do storm & done; }; storm 2>/dev/null")


class BenchError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Files, /proc (harness.py has the session-level helpers)
# ---------------------------------------------------------------------------

def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def write(path: str, value: str) -> None:
    """One write(2) of value (what cgroup and /proc/sys files want)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def loadavg() -> str:
    try:
        return " ".join(read("/proc/loadavg").split()[:3])
    except OSError:
        return "?"


def nprocs() -> int:
    return sum(1 for n in os.listdir("/proc") if n.isdigit())


def stat_fields(pid: int) -> Optional[List[str]]:
    """/proc/PID/stat fields after the comm: [state, ppid, pgrp, session, tty_nr, ...]."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    r = data.rfind(")")
    return data[r + 2:].split() if r >= 0 else None


def posix_sid(pid: int) -> Optional[int]:
    f = stat_fields(pid)
    return int(f[3]) if f else None


def proc_cgroup(pid: int) -> Optional[str]:
    """The cgroup v2 path of pid (the "0::" line of /proc/PID/cgroup)."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].rstrip("\n")
    except OSError:
        return None
    return None


def user_pids(uid: int, include_zombies: bool = True) -> List[int]:
    """Every process owned by uid (owner of /proc/PID), zombies included
    unless asked otherwise."""
    out = []
    for n in os.listdir("/proc"):
        if not n.isdigit():
            continue
        try:
            if os.stat(f"/proc/{n}").st_uid != uid:
                continue
        except OSError:
            continue
        if include_zombies or h.proc_alive(int(n)):
            out.append(int(n))
    return out


def kill_user(uid: int, gid: int) -> None:
    """kill(-1, SIGKILL) as the test user: one syscall that walks the task list
    under its lock, so no fork can outrun it (the classic fork-bomb cure)."""
    for _ in range(5):
        if not user_pids(uid, include_zombies=False):
            return
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# cgroups
# ---------------------------------------------------------------------------

def mounts():
    """(mount point, fs type, super options) of each line of /proc/self/mountinfo."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, sep, right = line.partition(" - ")
            if sep:
                r = right.split()
                yield left.split()[4], r[0], r[2] if len(r) > 2 else ""


def cgroup2_mount() -> str:
    for point, fstype, _ in mounts():
        if fstype == "cgroup2":
            return point
    raise BenchError("no cgroup2 mount in /proc/self/mountinfo (needed for cgroup.kill)")


def cg_populated(d: str) -> bool:
    """Whether cgroup d holds a live process; False once it is gone."""
    try:
        return "populated 1" in read(os.path.join(d, "cgroup.events"))
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENODEV):
            return False
        raise


def cg_procs(d: str) -> List[int]:
    """PIDs (this host's numbers) in cgroup d; [] if d is gone."""
    try:
        return [int(x) for x in read(os.path.join(d, "cgroup.procs")).split()]
    except FileNotFoundError:
        return []
    except OSError as e:
        if e.errno == errno.ENODEV:
            return []
        raise


def _try_rmdir(d: str) -> bool:
    try:
        os.rmdir(d)
        return True
    except FileNotFoundError:
        return True
    except OSError as e:
        if e.errno == errno.EBUSY:
            return False
        raise


def cg_remove(d: str, timeout: float = 10.0, v1: bool = False) -> None:
    """Kill whatever is left in cgroup d, and its children, and remove it
    (bounded: warnings, no exception, after timeout).  A cgroup v2 is emptied
    with cgroup.kill and waited for until cgroup.events says populated 0.
    With v1, d may also be a cgroup v1 directory: after the cgroup.kill (if
    there is one), what cgroup.procs lists is SIGKILLed until it lists
    nothing."""
    if not os.path.isdir(d):
        return
    for sub in sorted((e.path for e in os.scandir(d) if e.is_dir()), reverse=True):
        cg_remove(sub, timeout, v1)
    try:
        if v1:
            if os.path.exists(os.path.join(d, "cgroup.kill")) and cg_populated(d):
                write(os.path.join(d, "cgroup.kill"), "1")
            h.kill_until_gone(lambda: cg_procs(d), timeout, f"cgroup {d}")
        elif cg_populated(d):
            write(os.path.join(d, "cgroup.kill"), "1")
            h.wait_until(lambda: not cg_populated(d), timeout, interval=0.01, what=f"{d} to empty")
    except (OSError, TimeoutError) as e:
        log(f"warning: emptying {d}: {e}")
    try:
        h.wait_until(lambda: _try_rmdir(d), timeout, interval=0.05, what=f"rmdir {d}")
    except TimeoutError as e:
        log(f"warning: {e}")


def cg_remove_prefixed(mount: str, prefix: str, timeout: float = 10.0, v1: bool = False) -> None:
    """For --cleanup: cg_remove every cgroup directly below mount whose name
    starts with prefix (what a run killed with SIGKILL left)."""
    for e in os.scandir(mount):
        if e.is_dir() and e.name.startswith(prefix):
            cg_remove(e.path, timeout, v1)


# ---------------------------------------------------------------------------
# Watching processes die: pidfds in an epoll set
# ---------------------------------------------------------------------------

class Watch:
    """pidfds of a session's processes.  A pidfd turns readable the moment its
    process exits (zombie or not), so exit times are exact to the poll
    granularity, whatever a /proc scan of 10,000 entries would cost."""

    def __init__(self, belongs: Callable[[int], bool]):
        self.belongs = belongs
        self.ep = select.epoll()
        self.by_fd: Dict[int, int] = {}
        self.by_pid: Dict[int, int] = {}

    def add(self, pids) -> int:
        added = 0
        for pid in pids:
            if pid in self.by_pid:
                continue
            try:
                fd = os.pidfd_open(pid)
            except ProcessLookupError:
                continue
            # The pidfd pins whatever holds the pid now: make sure it is
            # still a process of the session (pid reuse).
            if not self.belongs(pid):
                os.close(fd)
                continue
            self.ep.register(fd, select.EPOLLIN)
            self.by_fd[fd] = pid
            self.by_pid[pid] = fd
            added += 1
        return added

    def __len__(self):
        return len(self.by_fd)

    def exited(self, fd: int) -> None:
        pid = self.by_fd.pop(fd)
        del self.by_pid[pid]
        self.ep.unregister(fd)
        os.close(fd)

    def close(self) -> None:
        for fd in list(self.by_fd):
            try:
                self.ep.unregister(fd)
            except OSError:
                pass
            os.close(fd)
        self.by_fd.clear()
        self.by_pid.clear()
        self.ep.close()


def raise_nofile(need: int) -> None:
    """At least need open files (one pidfd per watched process).  root may
    lack CAP_SYS_RESOURCE: then only the soft limit can go up, to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(need, hard)))
    except (ValueError, OSError):
        if hard < need:
            raise BenchError(f"need {need} open files (one pidfd per process), "
                             f"hard limit is {hard}") from None
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


# ---------------------------------------------------------------------------
# Setup: private copies, compiling the helpers
# ---------------------------------------------------------------------------

def private_copy(src: str, dst: str, mode: Optional[int] = None) -> str:
    """Copy the binary src to dst and return dst.  The benchmarks run such
    private copies: a rebuild of build/ during the run (ninja in another
    shell) must not change what is being measured."""
    shutil.copy2(src, dst)
    if mode is not None:
        os.chmod(dst, mode)
    return dst


def compile_c(src: str, out: str, *flags: str) -> None:
    """$CC (cc) -O2 [flags] -Wall -o out src."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    if not cc:
        raise BenchError(f"no C compiler (cc) to build bench/{os.path.basename(src)}")
    h.run([cc, "-O2", *flags, "-Wall", "-o", out, src], timeout=120)


# ---------------------------------------------------------------------------
# Machine facts and the report
# ---------------------------------------------------------------------------

def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def built_time(path: str) -> str:
    """The mtime of a binary, as its build time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.stat(path).st_mtime))


def machine_facts(logoff: Optional[str] = None,
                  versions: Sequence[Tuple[str, List[str]]] = ()) -> Dict:
    """CPUs, kernel, OS, memory, load, processes, the tree's HEAD
    ("logoff_commit"); with logoff, that binary's "logoff_sha256" (16 hex
    digits) and "logoff_built"; for each (key, argv) of versions, the first
    line argv prints (e.g. ("pkill", ["pkill", "-V"]))."""
    facts = {"nproc": os.cpu_count(), "kernel": platform.release(),
             "os": "", "loadavg": loadavg(), "host_processes": nprocs()}
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    facts["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            facts["mem_total"] = f.readline().split(None, 1)[1].strip()
    except OSError:
        pass
    try:
        facts["logoff_commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                                capture_output=True, text=True,
                                                timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    if logoff:
        try:
            facts["logoff_sha256"] = sha256_file(logoff)[:16]
            facts["logoff_built"] = built_time(logoff)
        except OSError:
            pass
    for key, argv in versions:
        try:
            facts[key] = subprocess.run(argv, capture_output=True, text=True,
                                        timeout=10).stdout.strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            pass
    return facts


def machine_line(facts: Dict, extra: str = "") -> str:
    return (f"machine: nproc={facts['nproc']} kernel={facts['kernel']} os={facts.get('os')} "
            f"mem={facts.get('mem_total')} load={facts['loadavg']} processes={facts['host_processes']}"
            f"{extra}")


def logoff_line(path: str, facts: Dict) -> str:
    """The binary under test: where, built when, sha256, the tree's HEAD."""
    return (f"logoff: {path} built {facts.get('logoff_built', '?')} sha256 "
            f"{facts.get('logoff_sha256', '?')[:16]}..., tree HEAD {facts.get('logoff_commit', '?')}")


def med(xs):
    """Median of the values that are not None; None if there are none."""
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, w=0, p=3) -> str:
    """v with p decimals, right-aligned in w columns; "-" (also aligned) for None."""
    return f"{v:{w}.{p}f}" if v is not None else f"{'-':>{w}}"


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def raise_on_signals() -> None:
    """SIGTERM and SIGHUP unwind through the finally blocks like Ctrl-C does,
    so they run the normal cleanup."""
    def _raise(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGHUP, _raise)


def run_bench(b, prog: str, errors: Tuple[Type[BaseException], ...] = (BenchError,),
              ready: Optional[Callable[[], None]] = None) -> Tuple[int, float]:
    """b.setup(), ready() if given, b.run(); b.teardown() always.  Returns
    (exit status: 0, 130 when interrupted, 1 on one of errors; seconds taken)."""
    rc = 0
    t = time.monotonic()
    try:
        b.setup()
        if ready is not None:
            ready()
        b.run()
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        rc = 130
    except errors as e:
        log(f"{prog}: {e}")
        rc = 1
    finally:
        b.teardown()
    return rc, round(time.monotonic() - t, 1)


def print_report(text: str, notes: Iterable[str]) -> None:
    print(text)
    notes = list(notes)
    if notes:
        print("\nnotes:")
        for n in notes:
            print(f"  - {n}")


def save_json(path: Optional[str], data: Dict) -> None:
    if path:
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
        print(f"raw results: {path}")

"""Fixtures for logoff's load tests: a session of 100,000 processes, a fork
storm held at a PID namespace's pid_max, and 1,000 sessions at once.

Run as root by Debian's /usr/bin/python3 with pytest, against a build named
by LOGOFF_BUILD (default: build-ci next to tests/)::

    LOGOFF_BUILD=$PWD/build-load /usr/bin/python3 -m pytest -p no:cacheprovider -q -s tests/load

Nothing is mocked: sessions come from tests/mksession (a fresh audit session
id, a root leader, the command as the user).  What a test needs and does not
find makes it fail, never skip.  Whatever a test changes on the host is put
back in a ``finally``, also when the test fails: kernel.pid_max, the test
user, the temporary directory, every process it made.

Two facts of this machine shape the fixtures:

* root has no CAP_SYS_RESOURCE here (it is not in the bounding set), so it
  cannot raise a hard RLIMIT_NPROC (96,365 on 24 GB) and a user cannot fork
  100,000 processes the ordinary way.  The fork check in kernel/fork.c lets
  a process with CAP_SYS_ADMIN past RLIMIT_NPROC, so the session runs a copy
  of bench/spawn.c that carries the file capability cap_sys_admin+ep: its
  processes are the test user's (real and effective uid, /proc owner,
  dumpable) and only that capability differs from an ordinary login's.  The
  copy lies in a directory only root and the test user's group can enter.
* the fork storm is bounded by a PID namespace of its own whose pid_max is
  small (per-namespace pid_max, kernel 6.14+); the host's stays as it is.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

import pytest

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))
import harness as H  # noqa: E402

BUILD = Path(os.environ.get("LOGOFF_BUILD", ROOT / "build-ci"))
LOGOFF = str(BUILD / "logoff")
MKSESSION = str(BUILD / "tests" / "mksession")
SPAWN_C = ROOT / "bench" / "spawn.c"

#: Not the integration tests' lotest1/lotest2: their fixtures kill every
#: process of those users.
LOAD_USER = "loload"
PID_MAX_PATH = "/proc/sys/kernel/pid_max"
BIG_PID_MAX = 4194304
CAP_SYS_ADMIN = 21
TOOLS = ("cc", "setcap", "getcap", "unshare", "nsenter", "setpriv", "bash", "sh")


def pytest_configure(config):
    # What a test needs and cannot have makes it fail loudly: no quiet skips.
    if os.geteuid() != 0:
        raise pytest.UsageError("the load tests create real login sessions and need root")
    for path in (LOGOFF, MKSESSION):
        if not os.access(path, os.X_OK):
            raise pytest.UsageError(f"{path} is not built (set LOGOFF_BUILD to the meson build directory)")
    missing = [t for t in TOOLS if not shutil.which(t, path="/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                                           "/usr/bin:/sbin:/bin")]
    if missing:
        raise pytest.UsageError(f"the load tests need {', '.join(missing)}")
    if not SPAWN_C.is_file():
        raise pytest.UsageError(f"{SPAWN_C} is missing")


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def log(msg: str) -> None:
    """A line for `pytest -s` (and the captured output of a failed test)."""
    print(f"[load] {msg}", flush=True)


def host_tasks() -> int:
    """Threads on the host right now (/proc/loadavg): a cheap progress meter
    where a /proc scan of 100,000 entries takes seconds."""
    with open("/proc/loadavg") as f:
        return int(f.read().split()[3].split("/")[1])


def meminfo() -> Dict[str, int]:
    """/proc/meminfo in kB."""
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = int(v.split()[0])
    return out


def mem_delta(before: Dict[str, int], after: Dict[str, int]) -> str:
    """What a session costs the kernel, from two meminfo snapshots."""
    mb = lambda k: (after[k] - before[k]) / 1024  # noqa: E731
    return (f"MemAvailable {-mb('MemAvailable'):+.0f} MB used (PageTables {mb('PageTables'):+.0f}, "
            f"KernelStack {mb('KernelStack'):+.0f}, Slab {mb('Slab'):+.0f} MB)")


def sessionid_map(sids: Set[int]) -> Dict[int, List[int]]:
    """One /proc walk: the live (non-zombie) pids of each audit session in sids."""
    out: Dict[int, List[int]] = {s: [] for s in sids}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        sid = H.proc_sessionid(name)
        if sid in out and H.proc_alive(int(name)):
            out[sid].append(int(name))
    for pids in out.values():
        pids.sort()
    return out


def user_pids(uid: int) -> List[int]:
    """Every process of uid, zombies included (owner of /proc/PID)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid == uid:
                out.append(int(name))
        except OSError:
            pass
    return out


@dataclasses.dataclass
class Run:
    """One run of logoff: exit status, output, wall time, max RSS."""
    argv: List[str]
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    maxrss_kb: int

    def __str__(self):
        return (f"`{' '.join(self.argv[1:])}`: exit {self.returncode}, {self.wall_s:.2f} s wall, "
                f"max RSS {self.maxrss_kb} kB")

    def details(self) -> str:
        out = self.stdout.strip()
        err = self.stderr.strip()
        if len(out) > 4000:
            out = out[:2000] + "\n...\n" + out[-2000:]
        return f"{self}\nstdout:\n{out}\nstderr:\n{err[-2000:]}"


#: bench/load-helper.c's `rusage FILE CMD...` runs CMD and writes its
#: ru_maxrss (kB) to FILE.  A direct child of pytest would report at least
#: pytest's own RSS: the kernel keeps the high-water mark from before exec.
LOAD_HELPER_C = ROOT / "bench" / "load-helper.c"
_rusage: Optional[str] = None


@pytest.fixture(scope="session", autouse=True)
def rusage_helper():
    global _rusage
    d = tempfile.mkdtemp(prefix="logoff-load-rusage-")
    try:
        H.run(["cc", "-O2", "-static", "-Wall", "-o", os.path.join(d, "rusage"), str(LOAD_HELPER_C)], timeout=120)
        _rusage = os.path.join(d, "rusage")
        yield _rusage
    finally:
        _rusage = None
        shutil.rmtree(d, ignore_errors=True)


def run_logoff(*args, timeout: float = 300) -> Run:
    """Runs the built logoff as root (LC_ALL=C), timed, with its max RSS."""
    assert _rusage, "the rusage helper is not built"
    argv = [LOGOFF, *map(str, args)]
    env = dict(os.environ, LC_ALL="C")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(prefix="logoff-load-rss-") as rss:
        t0 = time.monotonic()
        p = subprocess.Popen([_rusage, "rusage", rss.name, *argv], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             env=env)
        deadline = t0 + timeout
        while True:
            pid, status, _ = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                raise TimeoutError(f"{' '.join(argv)} still running after {timeout:g} s")
            time.sleep(0.005)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        with open(rss.name) as f:
            maxrss = int(f.read() or -1)
        return Run(argv, p.returncode, out.read().decode(errors="replace"),
                   err.read().decode(errors="replace"), wall, maxrss)


def list_json() -> Tuple[Run, Dict]:
    """`logoff --list --json`: the run and its sessions by ID (numbers for
    audit sessions, to compare with mksession's sids)."""
    r = run_logoff("--list", "--json")
    assert r.returncode == 0, r.details()
    out = {}
    for s in json.loads(r.stdout)["sessions"]:
        assert isinstance(s["id"], str), s
        out[int(s["id"]) if s["id"].isdigit() else s["id"]] = s
    return r, out


def table_rows(text: str) -> List[Dict]:
    """Rows of the query-session table as dicts, keyed by the header."""
    lines = text.splitlines()
    header = lines[0]
    assert re.match(r"^ SESSIONNAME\s+USERNAME\s+ID  STATE   TYPE        DEVICE$", header), header
    cols = {name: header.index(name) for name in ("USERNAME", "ID", "STATE", "TYPE", "DEVICE")}
    rows = []
    for line in lines[1:]:
        rows.append({
            "current": line[0] == ">",
            "user": line[cols["USERNAME"]:line.index(" ", cols["USERNAME"])].strip(),
            "id": (lambda i: int(i) if i.isdigit() else i)(line[:cols["ID"] + 2].split()[-1]),
            "state": line[cols["STATE"]:cols["TYPE"]].strip(),
        })
    return rows


# ---------------------------------------------------------------------------
# Host state
# ---------------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def host_ready():
    H.ensure_utmp()
    if not os.path.exists(H.WTMP_PATH):
        Path(H.WTMP_PATH).touch(mode=0o664)
    # The build tree must be reachable by the unprivileged test user.
    p = BUILD
    while p != p.parent:
        assert os.stat(p).st_mode & 0o001, f"{p} is not searchable by other users"
        p = p.parent
    with open(PID_MAX_PATH) as f:
        pid_max = f.read().strip()
    yield
    # Each fixture restores what it changed; check that it did.
    with open(PID_MAX_PATH) as f:
        assert f.read().strip() == pid_max, "kernel.pid_max was not restored"


@pytest.fixture(scope="session")
def user():
    u = H.create_user(LOAD_USER)
    try:
        # A uid freed by an earlier suite's user may be ours now, with what
        # that user left still exiting: give it a little while.
        try:
            H.wait_until(lambda: not user_pids(u.uid), 30, interval=0.5, what=f"user {u.name}'s uid to be free")
        except Exception:
            pytest.fail(f"user {u.name} already has processes: {user_pids(u.uid)[:20]} "
                        f"(left by an interrupted run?)")
        yield u
    finally:
        for pid in user_pids(u.uid):
            sid = H.proc_sessionid(pid)
            if sid and sid != H.UNSET_SESSIONID and sid != H.proc_sessionid("self"):
                try:
                    H.kill_session(sid, timeout=60)
                except Exception as e:           # noqa: BLE001 - keep cleaning up
                    log(f"cleanup: session {sid}: {e}")
        try:
            wait_no_user_processes(u, 60)
        finally:
            if u.created:
                u.remove()


def wait_no_user_processes(u, timeout: float) -> None:
    """Until the user has no process left, zombies included: the next test
    must not pay for the last one's leftovers (PID 1 reaps slowly here)."""
    H.wait_until(lambda: not user_pids(u.uid), timeout, interval=0.2,
                 what=f"every process of {u.name} (zombies too) to be reaped")


@pytest.fixture
def big_pid_space():
    """kernel.pid_max raised to 4,194,304 for the test, put back after."""
    with open(PID_MAX_PATH) as f:
        old = f.read().strip()
    try:
        with open(PID_MAX_PATH, "w") as f:
            f.write(str(BIG_PID_MAX))
        yield BIG_PID_MAX
    finally:
        with open(PID_MAX_PATH, "w") as f:
            f.write(old)


@pytest.fixture(scope="session")
def spawn_bin(user):
    """bench/spawn.c built statically (less page-table memory and faster
    forks at 100,000 processes), as cap_sys_admin+ep so that the test user
    may go past RLIMIT_NPROC (see the module docstring).  The directory is
    root:<user's group> 0750: no other user can run it."""
    d = tempfile.mkdtemp(prefix="logoff-load-")
    try:
        os.chown(d, 0, user.gid)
        os.chmod(d, 0o750)
        path = os.path.join(d, "spawn")
        H.run(["cc", "-O2", "-static", "-Wall", "-o", path, str(SPAWN_C)], timeout=120)
        os.chown(path, 0, user.gid)
        os.chmod(path, 0o750)
        H.run(["setcap", "cap_sys_admin+ep", path])
        caps = H.run(["getcap", path]).stdout
        assert "cap_sys_admin" in caps, f"setcap did not take: {caps!r}"
        yield path
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------

class Session:
    """A session made by tests/mksession."""

    def __init__(self, line: str):
        fields = dict(kv.split("=", 1) for kv in line.split())
        self.sid = int(fields["sid"])
        self.leader = int(fields["leader"])
        self.pid = int(fields["pid"])
        self.tty = None if fields["tty"] == "-" else fields["tty"]

    def pids(self) -> List[int]:
        return H.session_pids(self.sid)

    def __repr__(self):
        return f"<session {self.sid} leader={self.leader} pid={self.pid}>"


def end_sessions(sessions: Iterable[Session], timeout: float = 60) -> None:
    """SIGKILL every process of these sessions, many at once: one /proc walk
    per pass instead of one per session; then mark their utmp entries dead
    (SIGKILL leaves the leader no time to)."""
    sessions = list(sessions)
    sids = {s.sid for s in sessions}
    own = H.proc_sessionid("self")
    assert own not in sids and H.UNSET_SESSIONID not in sids, "refusing to kill our own session"
    me = os.getpid()

    def sweep():
        left = [p for pids in sessionid_map(sids).values() for p in pids if p != me]
        for pid in left:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        return not left

    H.wait_until(sweep, timeout, interval=0.05, what=f"the processes of {len(sids)} sessions to die")
    leaders = {s.leader for s in sessions}
    stale = [r for r in H.utmp_user_entries() if r.pid in leaders]
    for r in {r.pid for r in stale}:
        H.utmp_logout(r)


@pytest.fixture
def mksession(user):
    """mksession(*command, user=<the load user>, opts=["-N"]) -> Session.
    Thread-safe; every session made is ended after the test."""
    made: List[Session] = []
    lock = threading.Lock()

    def make(*command, as_user: Optional[str] = None, opts=("-N",)) -> Session:
        argv = [MKSESSION, "-u", as_user or user.name, *opts, "--", *map(str, command)]
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert cp.returncode == 0, f"mksession failed (rc={cp.returncode}): {cp.stderr}"
        s = Session(cp.stdout.strip())
        with lock:
            made.append(s)
        return s

    try:
        yield make
    finally:
        if made:
            end_sessions(made)
            wait_no_user_processes(user, 120)

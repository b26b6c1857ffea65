"""Fixtures for logoff's integration tests: real login sessions on this host.

Run as root by Debian's python3 with pytest (see .ci/run).  Nothing here is
mocked: sessions come from tests/mksession.c (a login as login(1) makes one)
and from a private OpenSSH server on loopback (harness.Sshd).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))
import harness as H  # noqa: E402

BUILD = Path(os.environ.get("LOGOFF_BUILD", TESTS.parent / "build"))
LOGOFF = str(BUILD / "logoff")
MKSESSION = str(BUILD / "tests" / "mksession")
LONELY_THREAD = str(BUILD / "tests" / "lonely-thread")

USER1, USER2 = "lotest1", "lotest2"


def pytest_configure(config):
    # A test that cannot have what it needs fails loudly: no quiet skips.
    if os.geteuid() != 0:
        raise pytest.UsageError("the integration tests create real login sessions and need root")
    for path in (LOGOFF, MKSESSION):
        if not os.access(path, os.X_OK):
            raise pytest.UsageError(f"{path} is not built (set LOGOFF_BUILD to the meson build directory)")


@pytest.fixture(scope="session", autouse=True)
def host_ready():
    H.ensure_utmp()
    if not os.path.exists(H.WTMP_PATH):
        Path(H.WTMP_PATH).touch(mode=0o664)
    # The build tree must be reachable by the unprivileged test users.
    p = BUILD
    while p != p.parent:
        assert os.stat(p).st_mode & 0o001, f"{p} is not searchable by other users"
        p = p.parent


@pytest.fixture(scope="session")
def users():
    made = [H.create_user(USER1), H.create_user(USER2)]
    yield {u.name: u for u in made}
    for u in made:
        for sid in {H.proc_sessionid(p) for p in H._all_pids() if H.proc_uid(p) == u.uid}:
            if sid and sid != H.UNSET_SESSIONID and sid != H.proc_sessionid(os.getpid()):
                H.kill_session(sid)
        if u.created:
            u.remove()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory, users):
    d = tmp_path_factory.mktemp("sshd")
    server = H.Sshd(d)
    server.start()
    yield server
    for s in list(server.sessions):
        s.cleanup()
    server.stop()


@pytest.fixture
def tmp_path():
    """A fresh directory that session processes of the test users can write
    to (pytest's own lies under a 0700 directory)."""
    d = Path(tempfile.mkdtemp(prefix="logoff-test-", dir="/tmp"))
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class HelperSession:
    """A session made by tests/mksession."""

    def __init__(self, line, log):
        fields = dict(kv.split("=", 1) for kv in line.split())
        self.sid = int(fields["sid"])
        self.leader = int(fields["leader"])
        self.pid = int(fields["pid"])
        self.tty = None if fields["tty"] == "-" else fields["tty"]
        self.log = log

    def pids(self):
        return H.session_pids(self.sid)

    def alive(self):
        return bool(self.pids())

    def output(self):
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __repr__(self):
        return f"<session {self.sid} leader={self.leader} tty={self.tty}>"


@pytest.fixture
def mksession(tmp_path, users):
    """mksession(*command, user="root", opts=[...], ready=None) -> HelperSession;
    ended after the test.  ready: a command name to wait for among the
    session's processes (a test that compares process lists needs them all)."""
    made = []

    def make(*command, user="root", opts=(), ready=None):
        log = tmp_path / f"session-{len(made)}.log"
        argv = [MKSESSION, "-u", user, "-L", str(log), *opts, "--", *command]
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert cp.returncode == 0, f"mksession failed: {cp.stderr}"
        s = HelperSession(cp.stdout.strip(), log)
        made.append(s)
        try:
            H.wait_until(lambda: any(H.proc_comm(p) not in (None, "mksession") for p in s.pids()), 10,
                         what=f"the command of session {s.sid} to start")
        except TimeoutError as e:
            text = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise TimeoutError(f"{e}; processes: {s.pids()}; its log:\n{text}") from None
        if ready:
            H.wait_until(lambda: any(H.proc_comm(p) == ready for p in s.pids()), 10,
                         what=f"{ready} to run in session {s.sid}")
        return s

    yield make
    for s in made:
        H.kill_session(s.sid)
        try:
            H.utmp_logout(s.leader)
        except Exception:
            pass


def run_logoff(*args, as_user=None, env=None, timeout=120):
    """Runs the built logoff; as_user runs it unprivileged through setpriv."""
    argv = [LOGOFF, *args]
    if as_user is not None:
        argv = ["setpriv", f"--reuid={as_user.uid}", f"--regid={as_user.gid}", "--init-groups",
                "--inh-caps=-all", "--"] + argv
    e = dict(os.environ, LC_ALL="C")
    if env:
        e.update(env)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e,
                          stdin=subprocess.DEVNULL)


def list_json(*extra):
    cp = run_logoff("--list", "--json", *extra)
    assert cp.returncode == 0, cp.stderr
    return by_id(json.loads(cp.stdout)["sessions"])


def by_id(sessions):
    """Sessions keyed by ID: IDs are strings in JSON, numbers here where
    they are audit session numbers, to compare with the helpers' sids."""
    out = {}
    for s in sessions:
        assert isinstance(s["id"], str), s
        out[int(s["id"]) if s["id"].isdigit() else s["id"]] = s
    return out


def table_rows(text):
    """Rows of the query-session table as dicts, keyed by the header."""
    lines = text.splitlines()
    header = lines[0]
    assert re.match(r"^ SESSIONNAME\s+USERNAME\s+ID  STATE   TYPE        DEVICE$", header), header
    cols = {name: header.index(name) for name in ("USERNAME", "ID", "STATE", "TYPE", "DEVICE")}
    rows = []
    for line in lines[1:]:
        rows.append({
            "current": line[0] == ">",
            "name": line[1:cols["USERNAME"]].strip(),
            "user": line[cols["USERNAME"]:line.index(" ", cols["USERNAME"])].strip(),
            "id": (lambda i: int(i) if i.isdigit() else i)(line[:cols["ID"] + 2].split()[-1]),
            "state": line[cols["STATE"]:cols["TYPE"]].strip(),
            "type": line[cols["TYPE"]:cols["DEVICE"]].strip(),
            "device": line[cols["DEVICE"]:].strip(),
        })
    return rows


def wtmp_records_for(line, pid, since):
    """wtmp records of one login (lines are reused by the next login)."""
    return [r for r in H.read_utmp(H.WTMP_PATH) if r.line == line and r.pid == pid and r.tv_sec >= since]


def signal_logger(path):
    """A shell command that writes every SIGHUP/SIGTERM it gets to path;
    its processes stay the same until it is signalled, once its sleep runs
    (make the session with ready="sleep")."""
    return ["sh", "-c", f'trap "echo HUP >> {path}" HUP; trap "echo TERM >> {path}" TERM; '
                        f'while :; do sleep 100000 & wait $!; done']


def wait_gone(sid, timeout=15):
    H.wait_until(lambda: not H.session_pids(sid), timeout, what=f"session {sid} to end")

"""Fixtures for the tests against real xrdp and X2Go servers with real clients (tests/rdp.py).

Run as root by Debian's python3 with pytest::

    LOGOFF_BUILD=$PWD/build-ci /usr/bin/python3 -m pytest -p no:cacheprovider -q tests/rdp

The packages of ``rdp.PACKAGES`` must be installed (a missing one fails the
run, naming it; nothing is skipped).  One Xvfb (the clients' display), one
xrdp (sesman + xrdp on loopback) and one X2Go server (a private sshd) serve the
whole test session and are stopped at its end; test users (``lordp1`` ...)
are made on first use with a password and removed at the end.  After every
test: the users' xrdp sessions are ended the way xrdp expects, their X2Go
sessions terminated with X2Go's own tools, every process of theirs ended,
their clients stopped and /etc/pam.d/xrdp-sesman put back.

Environment: LOGOFF_BUILD, the absolute path of a meson build directory
(default: build-ci in the source tree); ``LOGOFF`` below is its ``logoff``
(not needed by the harness tests themselves).
"""

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))
import harness as HR  # noqa: E402
import rdp as RD  # noqa: E402

BUILD = Path(os.environ.get("LOGOFF_BUILD", TESTS.parent / "build-ci")).resolve()
LOGOFF = str(BUILD / "logoff")
USER_NAMES = ["lordp1", "lordp2", "lordp3", "lordp4"]


def pytest_configure(config):
    # A test that cannot have what it needs fails loudly: no quiet skips.
    if os.geteuid() != 0:
        raise pytest.UsageError("the RDP tests start xrdp, sshd and real sessions: run them as root")
    try:
        RD.check_packages()
    except RD.RdpError as e:
        raise pytest.UsageError(str(e))


@pytest.fixture(scope="session")
def rdp_workdir():
    d = Path(tempfile.mkdtemp(prefix="logoff-rdp-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


_users = {}


@pytest.fixture(scope="session", autouse=True)
def _rdp_users_teardown():
    """Stale processes of the test users (a killed run) go first; the users at the end."""
    for name in USER_NAMES:
        try:
            uid = HR.pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
        RD.kill_user_processes(uid)
    yield
    for u in _users.values():
        RD.kill_user_processes(u.uid)
        if not u.remove():
            sys.stderr.write(f"\ncould not remove test user {u.name}\n")


@pytest.fixture(scope="session")
def xvfb(rdp_workdir):
    x = RD.Xvfb(rdp_workdir / "xvfb").start()
    yield x
    x.stop()


def _timings(name, d):
    sys.stderr.write(f"\n{name} timings (s): {json.dumps({k: round(v, 2) for k, v in d.items()})}\n")


@pytest.fixture(scope="session")
def xrdp(rdp_workdir):
    x = RD.Xrdp(rdp_workdir / "xrdp").start()
    yield x
    notes = x.stop()
    _timings("xrdp", x.timings)
    if notes:
        sys.stderr.write("xrdp stop had to clean up:\n  " + "\n  ".join(notes) + "\n")


@pytest.fixture(scope="session")
def x2go(rdp_workdir, xvfb):
    x = RD.X2go(rdp_workdir / "x2go", xvfb).start()
    yield x
    notes = x.stop()
    _timings("x2go", x.timings)
    if notes:
        sys.stderr.write("x2go stop had to clean up:\n  " + "\n  ".join(notes) + "\n")


def restart(server):
    """Start a server again after a test stopped it (test_rdp_harness' teardown test)."""
    return server.start()


@pytest.fixture
def rdp_users(request):
    """Factory: ``rdp_users(n)`` -> n test users with passwords (TestUser, ``.password``).
    After the test everything of theirs is ended (see the module docstring)."""
    used = []

    def make(n=1):
        out = []
        for name in USER_NAMES[len(used):len(used) + n]:
            u = _users.get(name) or RD.create_rdp_user(name)
            _users[name] = u
            used.append(u)
            out.append(u)
        if len(out) < n:
            raise RuntimeError(f"only {len(USER_NAMES)} test users: {USER_NAMES}")
        return out
    yield make
    servers = {n: request.getfixturevalue(n) for n in ("xrdp", "x2go") if n in request.fixturenames}
    clients = request.node.__dict__.get("rdp_clients", [])
    for c in clients:
        c.stop()
    if "xrdp" in servers and servers["xrdp"].running():
        servers["xrdp"].end_all_sessions(grace=3)
    if "x2go" in servers:
        for u in used:
            servers["x2go"].end_user(u)
    for u in used:
        RD.kill_user_processes(u.uid)
        RD.unmount_under(u.home)
        for f in (".rdp-desktop.started", ".rdp-escapee.pid"):
            try:
                os.unlink(os.path.join(u.home, f))
            except FileNotFoundError:
                pass
    RD.restore_pam()


@pytest.fixture
def rdp_client(request, xrdp, xvfb):
    """Factory: ``rdp_client(user, backend='Xvnc')`` -> a started RdpClient; stopped after the test."""
    made = []
    request.node.rdp_clients = made

    def make(user, backend="Xvnc", start=True):
        c = RD.RdpClient(xrdp, xvfb, user, backend=backend)
        made.append(c)
        return c.start() if start else c
    yield make
    for c in made:
        c.stop()


def assert_counts_add_up(out):
    """/v's counts: every process met was signalled in the grace period,
    left to exit as a root helper, let finish what it started, ended first,
    or first met by the forced phase (what that phase also killed of the
    others was counted where it was first signalled)."""
    def num(pattern):
        m = re.search(pattern, out, re.M)
        return int(m.group(1)) if m else 0
    total = num(r"All (\d+) processes of the session ended") or num(r"The (\d+) process of the session ended")
    parts = (num(r"^Sent SIGTERM and SIGCONT to (\d+) process")
             + num(r"^Sent SIGHUP, SIGTERM and SIGCONT to (\d+) process")
             + num(r"^Left (\d+) root helpers? of the session")
             + num(r"^Let (\d+) process(?:es)? started after logoff signalled")
             + num(r"^(\d+) process(?:es)? ended before logoff signalled")
             + num(r"^(\d+) process(?:es)? first met after the grace period"))
    assert total > 0 and parts == total, out

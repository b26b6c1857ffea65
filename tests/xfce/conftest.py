"""Fixtures for the tests against real xrdp + Xfce desktops inside the systemd-logind host
(tests/hosts.py XfceHost, tests/xfce.py).

Run as root by Debian's python3 with pytest (see tests/run.sh).  The host is
built once per machine (cached under /var/tmp/logoff-hosts/bookworm-xfce),
booted once per test session with xrdp started in it, and stopped at its end;
a test that cannot get it fails (it is never skipped).  After every test the
RDP clients, alice's and bob's processes and sessions are ended and what a
killed session may leave (FUSE mounts, X locks, xfce4-session's saved session)
is removed, so each test starts from a host where nobody is logged in.

Environment: LOGOFF_BUILD, the absolute path of a meson build directory
(default: build-ci in the source tree); its ``logoff`` is copied into the host
as /usr/local/bin/logoff-<name of the build directory>.
"""

import json
import os
import re
import shlex
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))
import hosts as HS  # noqa: E402
import xfce as XF  # noqa: E402

BUILD = Path(os.environ.get("LOGOFF_BUILD", TESTS.parent / "build-ci")).resolve()


def pytest_configure(config):
    # A test that cannot have what it needs fails loudly: no quiet skips.
    if os.geteuid() != 0:
        raise pytest.UsageError("the xfce tests boot a container and need root")
    if not os.access(BUILD / "logoff", os.X_OK):
        raise pytest.UsageError(f"{BUILD / 'logoff'} is not built (set LOGOFF_BUILD to the meson build directory)")


@pytest.fixture(scope="session")
def xfce_host():
    """The booted XfceHost with xrdp running and the build's logoff installed."""
    h = HS.XfceHost()
    try:
        h.start()
        h.logoff = h.install_logoff(BUILD)
        XF.start_xrdp(h)
    except BaseException:
        h.stop()
        raise
    yield h
    try:
        XF.reset(h)
    finally:
        h.stop()
        sys.stderr.write(f"\nxfce host timings (s): {json.dumps({k: round(v, 2) for k, v in h.timings.items()})}\n")


@pytest.fixture
def rdp_login(xfce_host):
    """rdp_login(user, **kw): an XfceClient logged in with its Xfce desktop up;
    ended after the test."""
    made = []

    def make(user, **kw):
        c = XF.XfceClient(xfce_host, user, **kw)
        made.append(c)
        return c.start()
    yield make
    for c in made:
        c.stop()


@pytest.fixture(autouse=True)
def clean_host(request):
    """After each test: no client, nothing of alice's or bob's, no xrdp session left."""
    h = request.getfixturevalue("xfce_host") if "xfce_host" in request.fixturenames else None
    yield
    if h is not None and h.running():
        notes = XF.reset(h)
        if notes:
            sys.stderr.write(f"\n{request.node.name}: cleaned after it: {notes}\n")


# ---------------------------------------------------------------------------
# Helpers for the tests
# ---------------------------------------------------------------------------

def logoff(host, *args, timeout=120):
    """The installed logoff in the host, as root in no session (nsenter); LC_ALL=C."""
    return host.run([host.logoff, *args], check=False, timeout=timeout, env={"LC_ALL": "C"})


def list_json(host):
    """logoff --list --json in the host: {id: session}."""
    cp = logoff(host, "--list", "--json")
    assert cp.returncode == 0, f"rc={cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    return {s["id"]: s for s in json.loads(cp.stdout)["sessions"]}


def rows_of(host, user):
    return [r for r in list_json(host).values() if r["user"] == user]


def assert_nothing_broken(h, c, s, out):
    """After logoff of session s (its client c): the client was told it was logged
    off, logind forgot the session, sesman's child exited by itself, and no FUSE mount,
    X lock or xrdp socket of it is left; the drive's mount point is a plain directory."""
    sid = s.logind_id
    rc = c.wait_exit(30)
    assert (rc, c.last_error()) == (12, "ERRINFO_LOGOFF_BY_USER"), f"rc={rc}\n{c.output()[-1500:]}\n{out}"
    h.wait_session_gone(sid, 30)
    HS.wait_until(lambda: s.sesman_child not in XF.sesman_children(h), 15,
                  what=f"sesman child {s.sesman_child} to exit by itself")
    snap = XF.snapshot(h)
    assert XF.session_of(h, s.user, snap) is None
    assert XF.fuse_mounts(h, s.home, snap) == [], (XF.fuse_mounts(h, s.home, snap), out)
    assert XF.x_files(h, s.display, snap) == {}, out
    assert [e for e in snap["sockdir"] if e.endswith(f"_{s.display}")] == [], snap["sockdir"]
    cp = h.run(["ls", "-ld", f"{s.home}/thinclient_drives"], check=False)
    assert "Permission denied" not in cp.stderr and "Transport endpoint" not in cp.stderr, cp.stderr
    assert h.unit_state(f"session-{sid}.scope") in ("inactive", "not-found")
    return snap


def start_in_session(h, s, argv, log=None):
    """Start argv as the session's user inside its scope (its cgroup, its display and
    bus: what a program the user started from the desktop is), detached; output to log."""
    cgroup = next(d for d in (f"/sys/fs/cgroup/unified{s.scope}", f"/sys/fs/cgroup{s.scope}")
                  if h.run(["test", "-f", f"{d}/cgroup.procs"], check=False).returncode == 0)
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in XF.user_env(s.user, s.display).items())
    inner = (f"echo $$ > {cgroup}/cgroup.procs && exec setpriv --reuid={s.uid} --regid={s.uid} --init-groups -- "
             f"env {env} {' '.join(shlex.quote(a) for a in argv)}")
    h.sh(f"setsid -f sh -c {shlex.quote(inner)} </dev/null >{shlex.quote(log or '/dev/null')} 2>&1")


class NotifyMonitor:
    """dbus-monitor as the user on the session bus, watching the calls of
    org.freedesktop.Notifications and every method return: :meth:`notifications` pairs
    each Notify call with the ID its server answered."""

    def __init__(self, h, s, log="/tmp/lo-notify-monitor.log"):
        self.h, self.s, self.log = h, s, log
        h.run(["rm", "-f", log])
        env = " ".join(f"{k}={v}" for k, v in XF.user_env(s.user, s.display).items())
        h.sh(f"setsid -f setpriv --reuid={s.uid} --regid={s.uid} --init-groups -- env {env} "
             f"dbus-monitor --session \"interface='org.freedesktop.Notifications'\" "
             f"\"type='method_return'\" > {log} 2>&1 < /dev/null")
        HS.wait_until(lambda: "NameAcquired" in self.text(), 10, what=f"dbus-monitor on {s.user}'s bus")

    def text(self):
        return self.h.run(["cat", self.log], check=False).stdout

    def stop(self):
        self.h.run(["pkill", "-u", self.s.user, "-x", "dbus-monitor"], check=False)
        return self.text()

    @staticmethod
    def notifications(mon):
        """[(replaces_id, summary, body, hints text, answered id or None)] of each Notify call."""
        # a block per message; a string may hold a newline, so blocks start at the headers
        blocks = re.split(r"\n(?=(?:method call|method return|signal|error) )", mon)
        calls, returns = [], {}
        for b in blocks:
            head = b.split("\n", 1)[0]
            m = re.match(r"method call .* sender=(\S+) -> destination=\S+ serial=(\d+) .*member=Notify$", head)
            if m:
                strings = re.findall(r'^\s+string "([^"]*)"', b, re.M)
                replaces = re.search(r"^\s+uint32 (\d+)", b, re.M)
                calls.append((m.group(1), m.group(2), int(replaces.group(1)) if replaces else None, strings, b))
            m = re.match(r"method return .* -> destination=(\S+) serial=\d+ reply_serial=(\d+)", head)
            if m:
                got = re.search(r"^\s+uint32 (\d+)", b, re.M)
                returns[(m.group(1), m.group(2))] = int(got.group(1)) if got else None
        # Notify(app_name, replaces_id, app_icon, summary, body, actions, hints, timeout)
        return [(replaces, strings[2] if len(strings) > 2 else None, strings[3] if len(strings) > 3 else None, b,
                 returns.get((sender, serial))) for sender, serial, replaces, strings, b in calls]

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

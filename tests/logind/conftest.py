"""Fixtures for the tests against a real systemd-logind and a real elogind (tests/hosts.py).

Run as root by Debian's python3 with pytest (see tests/run.sh).  The hosts are
built once per machine (cached under /var/tmp/logoff-hosts), booted once per
test session and stopped at its end; a test that cannot get its host fails
(it is never skipped).  After every test the test users' processes and
sessions are ended, so each test starts from a host where nobody is logged in.

Environment: LOGOFF_BUILD, the absolute path of a meson build directory
(default: build-ci in the source tree); its ``logoff`` is copied into each host
as /usr/local/bin/logoff-<name of the build directory>.
"""

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))
import hosts as HS  # noqa: E402

BUILD = Path(os.environ.get("LOGOFF_BUILD", TESTS.parent / "build-ci")).resolve()
HOST_LOGOFF = str(BUILD / "logoff")          # logoff on this machine (no logind here)

TABLE_HEADER = " SESSIONNAME       USERNAME                 ID  STATE   TYPE        DEVICE"


def pytest_configure(config):
    # A test that cannot have what it needs fails loudly: no quiet skips.
    if os.geteuid() != 0:
        raise pytest.UsageError("the logind tests boot containers and need root")
    if not os.access(HOST_LOGOFF, os.X_OK):
        raise pytest.UsageError(f"{HOST_LOGOFF} is not built (set LOGOFF_BUILD to the meson build directory)")


_started = {}


def _host(name):
    """Start (build or reuse, boot) a host once per session; installs the build's logoff."""
    h = _started.get(name)
    if h is None:
        h = HS.HOSTS[name]()
        _started[name] = h
    if not h.running():
        h.start()
        h.logoff = h.install_logoff(BUILD)
    return h


def restart(host):
    """Start a host again after a test stopped it (test_hosts' teardown test)."""
    if not host.running():
        host.start()
        host.logoff = host.install_logoff(BUILD)
    return host


def _session_host(name):
    """A session-scoped fixture for one host: started on first use, stopped at the end."""
    @pytest.fixture(scope="session", name=f"{name}_host")
    def fixture():
        h = _host(name)
        yield h
        h.stop()
        sys.stderr.write(f"\n{name} host timings (s): {json.dumps({k: round(v, 2) for k, v in h.timings.items()})}\n")
    return fixture


systemd_host = _session_host("systemd")
elogind_host = _session_host("elogind")
trixie_host = _session_host("trixie")


@pytest.fixture(params=["systemd", "elogind"])
def host(request):
    """Each logind host in turn."""
    return request.getfixturevalue(f"{request.param}_host")


@pytest.fixture(autouse=True)
def clean_hosts(request):
    """After each test: nothing of alice's or bob's left on the hosts it used."""
    used = [request.getfixturevalue(name) for name in ("host", "systemd_host", "elogind_host", "trixie_host")
            if name in request.fixturenames]
    yield
    for h in used:
        if h.running():
            h.reset_users()


# ---------------------------------------------------------------------------
# Helpers for the tests
# ---------------------------------------------------------------------------

def sanitizer_env():
    """ASAN/UBSAN options of this run as a shell prefix (for ssh commands)."""
    return " ".join(f"{k}={HS.shlex.quote(os.environ[k])}" for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS")
                    if k in os.environ)


def logoff(host, *args, user=None, timeout=120):
    """Run the installed logoff in the host: as root in no session (nsenter), or as
    ``user`` over a one-shot ssh login (a session of its own).  LC_ALL=C."""
    if user is None:
        return host.run([host.logoff, *args], check=False, timeout=timeout, env={"LC_ALL": "C"})
    cmd = " ".join(HS.shlex.quote(str(a)) for a in (host.logoff, *args))
    return host.ssh(user, f"{sanitizer_env()} LC_ALL=C {cmd}", check=False, timeout=timeout)


def list_json(host, user=None):
    """logoff --list --json in the host: {id: session}."""
    cp = logoff(host, "--list", "--json", user=user)
    assert cp.returncode == 0, f"rc={cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    return {s["id"]: s for s in json.loads(cp.stdout)["sessions"]}


def wait_pids(host, user, n, timeout=20, what=None):
    """Wait until ``user`` has at least ``n`` live processes in the host."""
    return HS.wait_until(lambda: len(host.pids_of_user(user)) >= n, timeout, interval=0.1,
                         what=what or f"{n} processes of {user} on {host.name}")


def assert_sanitizer_clean(cp):
    text = cp.stdout + cp.stderr
    assert "Sanitizer" not in text and "runtime error" not in text, text
    assert cp.returncode >= 0 and cp.returncode < 128, f"killed by a signal: rc={cp.returncode}\n{text}"


def verbose_counts(out):
    """(signalled, ended before logoff signalled them, ended) from /v output lines."""
    sent = re.search(r"Sent SIGHUP, SIGTERM and SIGCONT to (\d+) process", out)
    before = re.search(r"^(\d+) process(?:es)? ended before logoff signalled", out, re.M)
    ended = re.search(r"(?:All (\d+) processes|The (\d+) process) of the session ended", out)
    return (int(sent.group(1)) if sent else None, int(before.group(1)) if before else 0,
            int(next(g for g in ended.groups() if g)) if ended else None)


def now():
    return time.monotonic()

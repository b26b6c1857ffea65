"""Where logind decides who may end a session, only its yes lets a caller go on
(issue 13, point 2).

A copy of logoff with cap_kill as a file capability (SECURITY.md's supported
install) run by bob against alice's session is left to logind's answer (its
polkit rules).  Any other outcome of that question (the call interrupted by
bob's Ctrl-C, polkit not answering so the call times out, logind not
answering at all) must signal nothing and exit 4: the binary's own CAP_KILL
is never a way around logind.
"""

import os
import shutil
import subprocess
import threading
import time

import pytest

import hosts as HS
from conftest import assert_sanitizer_clean

LOGGER = ("sh -c 'trap \"echo GOT-HUP\" HUP; trap \"echo GOT-TERM\" TERM; "
          "while :; do sleep 1000 & wait $!; done' & ")


@pytest.fixture
def cap_kill_logoff(host):
    """The host's logoff, copied with cap_kill+ep; its path inside the host."""
    inside = host.logoff + "-capkill"
    src = host.root / host.logoff.lstrip("/")
    dst = host.root / inside.lstrip("/")
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755)
    subprocess.run(["setcap", "cap_kill+ep", str(dst)], check=True)
    assert "cap_kill" in subprocess.run(["getcap", str(dst)], capture_output=True, text=True).stdout
    yield inside
    dst.unlink(missing_ok=True)


def polkitd_pids(h):
    cp = h.run(["pgrep", "-x", "polkitd"], check=False)
    return cp.stdout.split()


def start_polkitd(h):
    """polkitd running (D-Bus activation on the systemd host, started by the
    elogind host's init)."""
    if not polkitd_pids(h):
        h.run(["dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.PolicyKit1",
               "/org/freedesktop/PolicyKit1/Authority", "org.freedesktop.DBus.Peer.Ping"], check=False)
    return HS.wait_until(lambda: polkitd_pids(h), 20, what=f"polkitd on {h.name}")


def alices_session(h):
    s = h.login("alice", LOGGER + "exec bash -i")
    HS.wait_until(lambda: h.run(["pgrep", "-u", "alice", "-x", "sleep"], check=False).stdout.strip(), 20,
                  what="alice's logger")
    return s, sorted(h.pids_of_user("alice"))


def assert_untouched(h, s, before, cp):
    time.sleep(0.5)
    assert sorted(h.pids_of_user("alice")) == before, f"{h.ps('alice')}\n{cp.stdout}{cp.stderr}"
    assert "GOT-" not in s.output(), s.output()
    assert s.client_alive() and s.logind_id in h.session_ids()


@pytest.mark.parametrize("how", ["interrupted", "timed-out"])
def test_a_cap_kill_copy_without_loginds_yes_signals_nothing(host, cap_kill_logoff, how):
    s, before = alices_session(host)
    pids = start_polkitd(host)
    # logind asks polkit about bob, and polkit does not answer: the call
    # hangs until bob presses Ctrl-C, or until sd-bus gives up (25 s).
    host.run(["kill", "-STOP", *pids])
    try:
        if how == "interrupted":
            cmd = (f"{cap_kill_logoff} {s.logind_id} /v & p=$!; sleep 2; kill -INT $p; wait $p; "
                   "echo rc=$?")
        else:
            cmd = f"{cap_kill_logoff} {s.logind_id} /v; echo rc=$?"
        cp = host.ssh("bob", f"LC_ALL=C {cmd}", check=False, timeout=120)
    finally:
        host.run(["kill", "-CONT", *pids], check=False)
    assert "Sanitizer" not in cp.stdout + cp.stderr, cp.stdout + cp.stderr
    assert "rc=4" in cp.stdout, f"{cp.stdout}{cp.stderr}"
    assert "logind did not authorize ending session" in cp.stderr, cp.stderr
    assert "nothing was signalled" in cp.stderr, cp.stderr
    assert "Sent SIG" not in cp.stdout, cp.stdout
    assert_untouched(host, s, before, cp)


def test_a_cap_kill_copy_with_logind_not_answering_signals_nothing(host, cap_kill_logoff):
    s, before = alices_session(host)
    daemon = ["-x", "systemd-logind"] if isinstance(host, HS.SystemdHost) else ["-x", "elogind-daemon"]
    result = []
    # bob's login is made while logind answers; logind stops before his
    # logoff runs.
    t = threading.Thread(target=lambda: result.append(host.ssh(
        "bob", f"sleep 4; LC_ALL=C {cap_kill_logoff} {s.logind_id} /v; echo rc=$?", check=False, timeout=120)))
    t.start()
    HS.wait_until(lambda: host.run(["pgrep", "-u", "bob", "-x", "sleep"], check=False).stdout.strip(), 20,
                  what="bob's login")
    logind = host.run(["pgrep", *daemon]).stdout.split()
    host.run(["kill", "-STOP", *logind])
    try:
        t.join(120)
    finally:
        host.run(["kill", "-CONT", *logind], check=False)
    assert result, "bob's logoff did not finish"
    cp = result[0]
    assert "Sanitizer" not in cp.stdout + cp.stderr, cp.stdout + cp.stderr
    assert "rc=4" in cp.stdout, f"{cp.stdout}{cp.stderr}"
    assert "Sent SIG" not in cp.stdout, cp.stdout
    assert_untouched(host, s, before, cp)


def test_a_cap_kill_copy_still_ends_the_callers_own_session(host, cap_kill_logoff):
    """The guard the rule must keep: the binary's CAP_KILL serves bob's own."""
    s = host.login("bob", "sleep 100001 & exec bash -i")
    HS.wait_until(lambda: host.run(["pgrep", "-u", "bob", "-x", "sleep"], check=False).stdout.strip(), 20,
                  what="bob's sleep")
    cp = host.ssh("bob", f"LC_ALL=C {cap_kill_logoff} {s.logind_id} --timeout=1; echo rc=$?", check=False,
                  timeout=120)
    assert_sanitizer_clean(cp)
    assert "rc=0" in cp.stdout, f"{cp.stdout}{cp.stderr}"
    host.wait_session_gone(s.logind_id, 10)

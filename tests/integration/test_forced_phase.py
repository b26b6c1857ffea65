"""The forced phase waits for killed processes as long as the session keeps
shrinking, and never calls a dying process a survivor (issue 13, point 1).

Tearing down 100,000 processes takes the kernel longer than any fixed wait
on 2 cores (tests/load has that).  The same shape at a small scale, for
real: killed processes that wait on a FUSE server (state D: SIGKILL takes
effect only once it answers), answered one a second, so the session dies
over several seconds, longer than the old fixed 3 s wait.
"""

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import harness as H
from conftest import BUILD, USER1, run_logoff

FREEZER = Path("/sys/fs/cgroup/freezer")
N_SLOW = 6
ANSWER_EVERY_S = 1.0
STUCK_FUSE = str(BUILD / "tests" / "stuck-fuse")


def kill_pending(pid):
    """Whether SIGKILL is pending for the process (shared or for its thread)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    masks = [int(m, 16) for m in re.findall(r"^(?:ShdPnd|SigPnd):\s*([0-9a-f]+)$", status, re.M)]
    return any(m & (1 << 8) for m in masks)


@pytest.fixture
def slow_fuse():
    """tests/stuck-fuse in its slow mode: holds every request until SIGUSR1,
    then answers one every ANSWER_EVERY_S."""
    mnt = Path(tempfile.mkdtemp(prefix="logoff-slow-", dir="/tmp"))
    p = subprocess.Popen([STUCK_FUSE, "-s", str(int(ANSWER_EVERY_S * 1000)), str(mnt)], stdout=subprocess.PIPE,
                         text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        yield mnt, p
    finally:
        p.terminate()
        p.wait(timeout=10)
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        mnt.rmdir()


@pytest.fixture
def freezer_groups():
    assert (FREEZER / "tasks").exists(), "the cgroup v1 freezer must be mounted"
    made = []

    def make():
        cg = FREEZER / f"logoff-test-{os.getpid()}-{len(made)}"
        cg.mkdir()
        made.append(cg)
        return cg
    yield make
    for cg in made:
        try:
            (cg / "freezer.state").write_text("THAWED")
        except OSError:
            pass
    for cg in made:
        H.wait_until(lambda: not (cg / "tasks").read_text().strip(), 10, what=f"{cg} to empty")
        cg.rmdir()


def test_a_session_dying_slowly_is_waited_for_not_called_survivors(mksession, slow_fuse):
    mnt, server = slow_fuse
    # Each ignores SIGHUP and SIGTERM and waits on the FUSE server: once
    # killed, it sleeps in state D until the server answers, one a second.
    cmd = " ".join(f"sh -c \"trap '' HUP TERM; exec stat {mnt}/x{i}\" &" for i in range(N_SLOW))
    s = mksession("sh", "-c", cmd + " exec sleep 100001", user=USER1, opts=["-R"])
    H.wait_until(lambda: len([p for p in s.pids() if H.proc_comm(p) == "stat"]) == N_SLOW, 10,
                 what="the stats to wait on the server")
    slow = [p for p in s.pids() if H.proc_comm(p) == "stat"]

    answering = []

    def answer_once_killed():
        # Only once logoff has killed them all: from then on the session
        # shrinks by one a second, longer in all than any fixed wait.
        H.wait_until(lambda: all(kill_pending(p) or not H.proc_alive(p) for p in slow), 60, interval=0.05,
                     what="SIGKILL pending for every stat")
        answering.append(time.monotonic())
        server.send_signal(signal.SIGUSR1)

    t = threading.Thread(target=answer_once_killed)
    t.start()
    t0 = time.monotonic()
    cp = run_logoff(str(s.sid), "/v", "--timeout=0.5")
    took = time.monotonic() - t0
    t.join(30)
    assert cp.returncode == 0, f"rc={cp.returncode} after {took:.1f} s\n{cp.stdout}{cp.stderr}"
    assert "survived" not in cp.stderr and "survivor" not in cp.stderr, cp.stderr
    assert answering and time.monotonic() - answering[0] >= (N_SLOW - 1) * ANSWER_EVERY_S, (took, answering)
    assert s.pids() == []
    assert f"Sent SIGKILL to {N_SLOW} processes" in cp.stdout, cp.stdout


def test_a_session_that_stops_shrinking_is_not_waited_on_for_long(mksession, freezer_groups):
    """The guard: what never dies (frozen, state D) ends the wait a few
    seconds after the last progress, and is a survivor."""
    s = mksession("sh", "-c", "sleep 100000 & sleep 100000 & exec sleep 100001", user=USER1, opts=["-R"])
    # Both background sleeps exec'd (a forked child is "sh -c" for a moment).
    stuck = H.wait_until(lambda: (lambda st: st if len(st) == 2 else None)(
        [p for p in s.pids() if H.proc_cmdline(p) == "sleep 100000"]), 10, what="the session's two sleeps")
    cg = freezer_groups()
    for pid in stuck:
        (cg / "tasks").write_text(str(pid))
    (cg / "freezer.state").write_text("FROZEN")
    H.wait_until(lambda: all(H.proc_state(p) == "D" for p in stuck), 5, what="the frozen sleeps in state D")
    t0 = time.monotonic()
    cp = run_logoff(str(s.sid), "/v", "--timeout=0.5")
    took = time.monotonic() - t0
    assert cp.returncode == 6, cp.stdout + cp.stderr
    assert f"session {s.sid}: 2 processes survived" in cp.stderr, cp.stderr
    assert "state D" in cp.stderr and "uninterruptible sleep" in cp.stderr, cp.stderr
    assert took < 10, took
    assert sorted(s.pids()) == sorted(stuck)

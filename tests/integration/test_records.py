"""Login records that no user can hold back (issue 9): utmp is world-readable,
so any user can take a lock on it; the logout must land all the same, within a
bounded wait, and a listing must not wait on it."""

import re
import subprocess
import sys
import time

import harness as H
from conftest import LOGOFF, USER1, USER2, run_logoff, wtmp_records_for
from test_logoff import assert_logged_out

LOCKER = r"""
import fcntl, sys, time
f = open(sys.argv[1])
fcntl.lockf(f, fcntl.LOCK_SH)          # fcntl F_RDLCK: what glibc's writers wait for
fcntl.flock(f, fcntl.LOCK_SH)          # and a flock too
print("locked", flush=True)
time.sleep(600)
"""


def hold_read_lock(path, user):
    """A process of user (no privilege) holding read locks on path."""
    p = subprocess.Popen(["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--init-groups",
                          "--inh-caps=-all", "--", sys.executable, "-c", LOCKER, path],
                         stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_a_users_lock_on_utmp_and_wtmp_cannot_block_the_logout_records(mksession, users):
    since = int(time.time())
    s = mksession("sleep", "100000", user=USER1, opts=["-R"])  # -R: the leader writes no records itself
    lockers = [hold_read_lock(path, users[USER2]) for path in (H.UTMP_PATH, H.WTMP_PATH)]
    try:
        t0 = time.monotonic()
        cp = run_logoff("--list")
        assert cp.returncode == 0 and s.tty in cp.stdout, cp.stderr
        assert time.monotonic() - t0 < 1.5, "the listing waited on the lock"

        t0 = time.monotonic()
        cp = run_logoff(str(s.sid), "/v")
        took = time.monotonic() - t0
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert took < 8, f"took {took:.1f} s"
        assert re.search(rf"^(/var)?/run/utmp was locked by process {lockers[0].pid} for 2\.\d s", cp.stdout,
                         re.M), cp.stdout
        assert re.search(rf"^{H.WTMP_PATH} was locked by process {lockers[1].pid} for 2\.\d s", cp.stdout,
                         re.M), cp.stdout
        assert f"Marked the utmp entry of {s.tty} dead" in cp.stdout, cp.stdout
        assert_logged_out(s.tty, s.leader, since)
        assert len([r for r in wtmp_records_for(s.tty, s.leader, since) if r.type == H.DEAD_PROCESS]) == 1
    finally:
        for p in lockers:
            p.kill()
            p.wait()


def test_two_logoffs_at_once_write_one_record(mksession):
    since = int(time.time())
    s = mksession("sleep", "100000", user=USER1, opts=["-R"])
    procs = [subprocess.Popen([LOGOFF, str(s.sid)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    # The second may look only once the first has ended every process:
    # then there is no such session any more, which it says (exit 3).
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 3]), outs
    if codes == [0, 3]:
        assert any(f"no session with ID {s.sid}" in err for _, err in outs), outs
    assert_logged_out(s.tty, s.leader, since)
    assert len([r for r in wtmp_records_for(s.tty, s.leader, since) if r.type == H.DEAD_PROCESS]) == 1

"""Broken hosts and interrupted runs (issue 9): each fault gives a clear
message and a documented exit status, never a hang or a wrong "logged off".

The faults are real: a private mount namespace with /proc remounted with
hidepid, the cgroup2 mount gone, /var/log read-only or empty; a seccomp
filter that makes pidfd_open fail as on Linux < 5.3 (tests/no-pidfd.c); a
FUSE server that never answers, so its client sleeps in state D where even
SIGKILL cannot end it (tests/stuck-fuse.c); logoff itself killed by SIGKILL
at a chosen system call (strace's syscall injection), and Ctrl-C.
"""

import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import harness as H
from conftest import BUILD, LOGOFF, MKSESSION, USER1, USER2, run_logoff, signal_logger
from test_logoff import assert_logged_out, utmp_entry

NO_PIDFD = str(BUILD / "tests" / "no-pidfd")
STUCK_FUSE = str(BUILD / "tests" / "stuck-fuse")
CGROUP2 = "/sys/fs/cgroup/unified" if os.path.ismount("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"

# Processes that ignore SIGHUP and SIGTERM: only the forced phase ends them.
STUBBORN = "trap '' HUP TERM; for i in $(seq {n}); do sleep 100000 & done; wait"


def in_mount_ns(setup, *args, as_user=None, timeout=120):
    """logoff run in a private mount namespace prepared by the shell
    command setup (as root), then as as_user if given."""
    argv = [LOGOFF, *args]
    if as_user is not None:
        argv = ["setpriv", f"--reuid={as_user.uid}", f"--regid={as_user.gid}", "--init-groups",
                "--inh-caps=-all", "--"] + argv
    return subprocess.run(["unshare", "-m", "--propagation", "private", "--", "sh", "-c",
                           f'{setup} && exec "$@"', "sh", *argv], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, LC_ALL="C"), stdin=subprocess.DEVNULL)


def states(pids):
    return {p: H.proc_state(p) for p in pids}


def stopped(pids):
    return [p for p, st in states(pids).items() if st in ("T", "t")]


# --- no pidfds -----------------------------------------------------------

def test_without_pidfds_nothing_is_signalled(mksession, tmp_path):
    log = tmp_path / "signals"
    s = mksession(*signal_logger(log), user=USER1, ready="sleep")
    before = sorted(s.pids())
    cp = subprocess.run([NO_PIDFD, LOGOFF, str(s.sid), "/v"], capture_output=True, text=True, timeout=60,
                        env=dict(os.environ, LC_ALL="C"))
    assert cp.returncode == 1, cp.stdout + cp.stderr
    assert "this kernel has no pidfds" in cp.stderr and "signalled nothing" in cp.stderr, cp.stderr
    assert sorted(s.pids()) == before
    assert not log.exists() or log.read_text() == ""
    assert not stopped(before)
    # Listing and a dry run signal nothing and still work.
    cp = subprocess.run([NO_PIDFD, LOGOFF, "--list"], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0 and re.search(rf"\s{s.sid}\s", cp.stdout), cp.stdout + cp.stderr
    cp = subprocess.run([NO_PIDFD, LOGOFF, str(s.sid), "--dry-run"], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr


# --- /proc with hidepid --------------------------------------------------

@pytest.mark.parametrize("hidepid", ["1", "2"])
def test_hidepid_shows_your_own_sessions_and_says_the_rest_is_hidden(mksession, users, hidepid, tmp_path):
    mine = mksession("sleep", "100000", user=USER1)
    theirs = mksession("sleep", "100000", user=USER2)
    remount = f"mount -t proc -o hidepid={hidepid} proc /proc"
    cp = in_mount_ns(remount, "--list", as_user=users[USER1])
    assert cp.returncode == 0, cp.stderr
    ids = {int(w) for line in cp.stdout.splitlines()[1:] for w in line.split() if w.isdigit()}
    assert mine.sid in ids and theirs.sid not in ids, cp.stdout
    assert "/proc is mounted with hidepid here" in cp.stderr, cp.stderr

    # Another user's session: not found, and why it may exist all the same.
    cp = in_mount_ns(remount, str(theirs.sid), as_user=users[USER1])
    assert cp.returncode == 3, cp.stderr
    assert f"no session with ID {theirs.sid}" in cp.stderr and "hidepid" in cp.stderr, cp.stderr
    assert theirs.alive()

    # Root sees everything: no note.
    cp = in_mount_ns(remount, "--list")
    assert cp.returncode == 0 and str(theirs.sid) in cp.stdout and "hidepid" not in cp.stderr, cp.stderr

    # Your own session is ended as ever: a login made under that /proc
    # runs plain logoff.
    log = tmp_path / "own.log"
    cp = subprocess.run(["unshare", "-m", "--propagation", "private", "--", "sh", "-c", f'{remount} && exec "$@"',
                         "sh", MKSESSION, "-u", USER1, "-L", str(tmp_path / "own-session.log"), "--", "sh", "-c",
                         f"sleep 100000 & {LOGOFF} /v > {log} 2>&1"],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    own = int(dict(kv.split("=", 1) for kv in cp.stdout.split())["sid"])
    try:
        H.wait_until(lambda: log.exists() and "logged off" in log.read_text(), 20, what="plain logoff")
        H.wait_until(lambda: not [p for p in H.session_pids(own) if H.proc_uid(p) != 0], 10,
                     what="the user's processes to end")
        assert f"Session {own} logged off" in log.read_text(), log.read_text()
    finally:
        H.kill_session(own)
    assert theirs.alive() and mine.alive()


# --- no cgroup v2 ---------------------------------------------------------

def test_without_a_cgroup2_mount_the_session_still_ends(mksession):
    """A host with cgroup v1 only: no cgroup.kill, no freezer of v2; the
    SIGSTOP rounds end what ignores SIGHUP and SIGTERM, escapees too."""
    s = mksession("sh", "-c", "(setsid sh -c \"trap '' HUP TERM; sleep 100001\" &); " + STUBBORN.format(n=5),
                  user=USER1)
    H.wait_until(lambda: len(s.pids()) >= 8, 10, what="the session's processes")
    hide = f"umount -l {CGROUP2} && mount -t cgroup -o none,name=logofftest cgroup /mnt"
    cp = in_mount_ns(hide, str(s.sid), "--timeout=1", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "cgroup.kill" not in cp.stdout and re.search(r"^Sent SIGSTOP to \d+ processes", cp.stdout, re.M), \
        cp.stdout
    assert s.pids() == []


# --- records that cannot be written ---------------------------------------

def test_read_only_var_log_ends_the_session_and_says_what_was_not_recorded(mksession):
    since = int(time.time())
    s = mksession("sleep", "100000", user=USER1, opts=["-R"])
    cp = in_mount_ns("mount --bind /var/log /var/log && mount -o remount,bind,ro /var/log",
                     str(s.sid), "/v")
    assert cp.returncode == 1, cp.stdout + cp.stderr
    assert s.pids() == []
    assert f"session {s.sid} ended, but its logout could not be recorded in {H.WTMP_PATH}: " \
           "Read-only file system" in cp.stderr, cp.stderr
    assert "mounted read-only" in cp.stderr and "remount it read-write" in cp.stderr, cp.stderr
    assert f"Marked the utmp entry of {s.tty} dead" in cp.stdout, cp.stdout
    assert "logged off" not in cp.stdout, cp.stdout
    entries = utmp_entry(s.tty, s.leader)
    assert entries and all(r.type == H.DEAD_PROCESS for r in entries)
    # Nothing reached wtmp: it was read-only.
    assert not [r for r in H.read_utmp(H.WTMP_PATH) if r.line == s.tty and r.pid == s.leader
                and r.tv_sec >= since and r.type == H.DEAD_PROCESS]


def test_a_host_without_wtmp_is_not_an_error(mksession):
    s = mksession("sleep", "100000", user=USER1, opts=["-R"])
    cp = in_mount_ns("mount -t tmpfs none /var/log", str(s.sid), "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert f"Marked the utmp entry of {s.tty} dead; this host keeps no {H.WTMP_PATH}" in cp.stdout, cp.stdout
    assert s.pids() == []


def test_a_host_without_utmp_logs_off_all_the_same(mksession):
    s = mksession("sleep", "100000", user=USER1, opts=["-R"])
    cp = in_mount_ns(f"mount --bind /dev/null {H.UTMP_PATH} && umount {H.UTMP_PATH} && "
                     f"mount -t tmpfs none {os.path.dirname(H.UTMP_PATH)}", str(s.sid), "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "No utmp entry to record" in cp.stdout, cp.stdout
    assert s.pids() == []


# --- a process that cannot be killed --------------------------------------

@pytest.fixture
def stuck_fuse():
    mnt = Path(tempfile.mkdtemp(prefix="logoff-stuck-", dir="/tmp"))
    p = subprocess.Popen([STUCK_FUSE, str(mnt)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        yield mnt
    finally:
        p.terminate()
        p.wait(timeout=10)
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
        mnt.rmdir()


def test_a_process_stuck_in_d_state_is_reported_within_the_grace_period_and_a_bound(mksession, stuck_fuse):
    s = mksession("sh", "-c", f"stat {stuck_fuse}/x & exec sleep 100000", user=USER1, ready="sleep")
    H.wait_until(lambda: any(H.proc_comm(p) == "stat" for p in s.pids()), 10, what="stat to start")
    stuck = next(p for p in s.pids() if H.proc_comm(p) == "stat")
    t0 = time.monotonic()
    cp = run_logoff(str(s.sid), "--timeout=1", "/v")
    took = time.monotonic() - t0
    assert cp.returncode == 6, cp.stdout + cp.stderr
    assert took < 1 + 10, f"took {took:.1f} s"
    assert re.search(rf"^logoff: survivor: pid {stuck} \(stat\), uid \d+, state D$", cp.stderr, re.M), cp.stderr
    assert "uninterruptible sleep" in cp.stderr, cp.stderr
    assert s.pids() == [stuck], "only the stuck process may be left"
    assert H.proc_state(stuck) == "D"


# --- logoff killed midway -------------------------------------------------

def killed_at(inject, path, *args):
    """logoff, killed with SIGKILL by strace at the system call inject
    selects (-P path narrows it to calls on that file)."""
    argv = ["strace", "-f", "-qq", "-o", "/dev/null"]
    if path:
        argv += ["-P", path]
    argv += ["-e", f"trace={inject.split(':')[0]}", "-e", f"inject={inject}", LOGOFF, *args]
    # LeakSanitizer cannot run under ptrace; the other sanitizers can.
    asan = ":".join(o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o and "detect_leaks" not in o)
    return subprocess.run(argv, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, LC_ALL="C", ASAN_OPTIONS=asan + ":detect_leaks=0"))


def test_killed_between_sigstop_and_sigkill_the_next_run_finishes(mksession):
    since = int(time.time())
    s = mksession("sh", "-c", STUBBORN.format(n=30), user=USER1, opts=["-R"])
    H.wait_until(lambda: len(s.pids()) >= 32, 10, what="the session's processes")
    n = len(s.pids())
    # The graceful round sends three signals to each; then come the SIGSTOPs.
    cp = killed_at(f"pidfd_send_signal:signal=SIGKILL:when={3 * n + 10}", None, str(s.sid), "--timeout=0")
    assert cp.returncode == -signal.SIGKILL or cp.returncode == 128 + signal.SIGKILL, cp
    left = s.pids()
    assert stopped(left), f"the scenario needs stopped processes: {states(left)}"

    cp = run_logoff(str(s.sid), "--timeout=1", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert s.pids() == []
    assert_logged_out(s.tty, s.leader, since)


@pytest.fixture
def own_cgroup():
    d = Path(CGROUP2) / f"logoff-test-{os.getpid()}-{time.monotonic_ns()}"
    d.mkdir()
    yield d
    H.wait_until(lambda: not (d / "cgroup.procs").read_text().split(), 15, what=f"{d} to empty")
    (d / "cgroup.freeze").write_text("0")
    d.rmdir()


def test_killed_while_the_cgroup_is_frozen_the_next_run_thaws_it_and_finishes(mksession, own_cgroup, tmp_path):
    since = int(time.time())
    log = tmp_path / "signals"
    s = mksession(*signal_logger(log), user=USER1, opts=["-R"], ready="sleep")
    for p in s.pids():
        (own_cgroup / "cgroup.procs").write_text(str(p))
    assert sorted(int(p) for p in (own_cgroup / "cgroup.procs").read_text().split()) == sorted(s.pids())
    cp = killed_at("openat:signal=SIGKILL", str(own_cgroup / "cgroup.kill"), str(s.sid), "--timeout=0")
    assert cp.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), cp
    assert (own_cgroup / "cgroup.freeze").read_text().strip() == "1", "the scenario needs a frozen cgroup"
    assert s.alive()
    # The shell writes the log as USER1: where it was frozen before its
    # traps ran, no log exists yet, and one made here must stay writable.
    log.write_text("")
    log.chmod(0o666)

    cp = run_logoff(str(s.sid), "--timeout=2", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert f"Thawed {own_cgroup}, which was frozen" in cp.stdout, cp.stdout
    assert s.pids() == []
    # Thawed before the grace period: the shell had its SIGHUP and SIGTERM.
    assert "HUP" in log.read_text() and "TERM" in log.read_text(), log.read_text()
    assert (own_cgroup / "cgroup.freeze").read_text().strip() == "0"
    assert_logged_out(s.tty, s.leader, since)


# --- Ctrl-C ---------------------------------------------------------------

def test_ctrl_c_during_the_grace_period_stops_cleanly(mksession, tmp_path):
    since = int(time.time())
    log = tmp_path / "signals"
    s = mksession(*signal_logger(log), user=USER1, opts=["-R"], ready="sleep")
    p = subprocess.Popen([LOGOFF, str(s.sid), "--timeout=60", "/v"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=dict(os.environ, LC_ALL="C"))
    H.wait_until(lambda: log.exists() and "TERM" in log.read_text(), 10, what="the graceful round")
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert time.monotonic() - t0 < 1.0, "Ctrl-C took effect late"
    assert p.returncode == -signal.SIGINT, (p.returncode, out, err)
    assert re.search(rf"^logoff: interrupted by SIGINT during the grace period: session {s.sid} was not logged "
                     rf"off; \d+ processes are still running, none is stopped$", err, re.M), err
    assert f"run 'logoff {s.sid}' again" in err, err
    assert "logged off" not in out, out
    left = s.pids()
    assert left and not stopped(left), states(left)
    assert [r.type for r in utmp_entry(s.tty, s.leader)] == [H.USER_PROCESS], "recorded a logout"

    cp = run_logoff(str(s.sid), "--timeout=1", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert s.pids() == []
    assert_logged_out(s.tty, s.leader, since)


def test_ctrl_c_in_the_forced_phase_waits_for_it_to_finish(mksession):
    since = int(time.time())
    s = mksession("sh", "-c", STUBBORN.format(n=10), user=USER1, opts=["-R"])
    H.wait_until(lambda: len(s.pids()) >= 12, 10, what="the session's processes")
    n = len(s.pids())
    # SIGINT at the first signal after the graceful round: a SIGSTOP.
    cp = killed_at(f"pidfd_send_signal:signal=SIGINT:when={3 * n + 1}", None, str(s.sid), "--timeout=0", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "Session %d logged off" % s.sid in cp.stdout, cp.stdout
    assert s.pids() == []
    assert_logged_out(s.tty, s.leader, since)

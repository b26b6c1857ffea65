"""--warn and --grace (issue 14, point 3): the session's user is told on
every terminal of the session, as write(1) and shutdown(8) do, and given the
grace period before anything is signalled; Ctrl-C during it cancels and
signals nothing; a user who logs out meanwhile is simply done; every wrong
argument is refused with exit 2 and nothing signalled.

The sessions are real (tests/mksession: an audit session, a pty whose output
the helper's monitor writes to its log, a utmp entry)."""

import os
import signal
import subprocess
import time

import pytest

import harness as H
from conftest import LOGOFF, USER1, run_logoff


def start_logoff(*args):
    return subprocess.Popen([LOGOFF, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env=dict(os.environ, LC_ALL="C"))


def test_the_warning_reaches_the_terminal_and_the_grace_is_given(mksession):
    s = mksession("sleep", "100051", user=USER1, ready="sleep")
    assert s.tty, s
    t0 = time.monotonic()
    cp = run_logoff(str(s.sid), "/v", "--warn=Maintenance: the disks are changed at 02:00", "--grace=2")
    took = time.monotonic() - t0
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    assert took >= 2.0, (took, out)
    text = s.output()
    assert "Message from logoff at " in text, text
    assert "Maintenance: the disks are changed at 02:00" in text, text
    assert "will be logged off in 2 seconds." in text, text
    assert "Warned lotest1 1 time that session" in out and "The warning reached 1 terminal of the session" in out, out
    assert "The grace period of 2 s is over" in out, out
    assert out.index("Warned") < out.index("Sent SIGHUP, SIGTERM and SIGCONT"), out
    assert not s.pids()


def test_the_standard_warning_is_repeated_as_time_runs_out(mksession):
    s = mksession("sleep", "100052", user=USER1, ready="sleep")
    cp = run_logoff(str(s.sid), "/v", "--warn", "--grace=12")
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    text = s.output()
    assert text.count("Message from logoff at ") == 2, text
    assert "Save your work and log out: session" in text, text
    assert "will be logged off in 12 seconds." in text and "will be logged off in 10 seconds." in text, text
    assert "Warned lotest1 2 times" in out, out


def test_ctrl_c_during_the_grace_cancels_and_signals_nothing(mksession):
    s = mksession("sleep", "100053", user=USER1, ready="sleep")
    before = sorted(s.pids())
    p = start_logoff(str(s.sid), "/v", "--warn=going down", "--grace=60")
    H.wait_until(lambda: "going down" in s.output(), 10, what="the warning on the session's terminal")
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == -signal.SIGINT, (p.returncode, out, err)
    assert "interrupted by SIGINT" in err and "was not logged off, and nothing was signalled" in err, err
    time.sleep(0.3)
    assert sorted(s.pids()) == before
    assert "Sent SIG" not in out, out


def test_a_user_who_logs_out_meanwhile_is_done(mksession):
    s = mksession("sleep", "100054", user=USER1, ready="sleep")
    p = start_logoff(str(s.sid), "/v", "--warn", "--grace=60")
    H.wait_until(lambda: "Save your work" in s.output(), 10, what="the warning on the session's terminal")
    t0 = time.monotonic()
    # The user logs out: the session's command ends (its monitor then ends too).
    for pid in s.pids():
        if H.proc_comm(pid) == "sleep":
            os.kill(pid, signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    took = time.monotonic() - t0
    assert p.returncode == 0, (out, err)
    assert took < 10, took
    assert "Its user logged out after" in out, out


@pytest.mark.parametrize("args, message", [
    (["--grace=30"], "--grace is how long the user has after --warn: give --warn too"),
    (["--warn", "--grace=soon"], "invalid grace period 'soon'"),
    (["--warn", "--grace=-5"], "invalid grace period '-5'"),
    (["--warn", "--grace=25h"], "invalid grace period '25h'"),
    (["--warn", "--grace=5x"], "invalid grace period '5x'"),
    (["--warn="], "invalid warning in '--warn='"),
    (["--warn=\x1b[2Jgotcha"], "invalid warning in"),
    (["--warn=" + "x" * 1025], "invalid warning in"),
])
def test_wrong_arguments_are_refused_and_nothing_is_signalled(mksession, args, message):
    s = mksession("sleep", "100055", user=USER1, ready="sleep")
    before = sorted(s.pids())
    cp = run_logoff(str(s.sid), *args)
    assert cp.returncode == 2, cp.stdout + cp.stderr
    assert message in cp.stderr, cp.stderr
    assert "\x1b" not in cp.stderr
    time.sleep(0.2)
    assert sorted(s.pids()) == before
    assert "Message from logoff" not in s.output()


def test_warn_with_list_is_refused():
    cp = run_logoff("--list", "--warn")
    assert cp.returncode == 2 and "--warn is for logging off, not for --list" in cp.stderr, cp.stderr


def test_the_dry_run_warns_nobody(mksession):
    s = mksession("sleep", "100056", user=USER1, ready="sleep")
    cp = run_logoff(str(s.sid), "--dry-run", "--warn", "--grace=1")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "would warn its user on its terminals, and wait 1 second" in cp.stdout, cp.stdout
    time.sleep(0.3)
    assert "Message from logoff" not in s.output()
    assert s.pids()

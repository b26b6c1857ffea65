"""Selections (--user, --idle, --state, --type, --all): each picks exactly the
right sessions among a mix of users, idle times and states, a dry run
signals nothing, and many sessions end in parallel within one grace period.

Every session here is real: tests/mksession logins of the two test users,
with ptys (Active, idle time from the tty's atime), without a terminal or
records (Disc, idle time unknown) or on an X display (type x11).  A test
never runs a selection that could match a session it did not make: --all
only with --dry-run or with --user of the test users.
"""

import os
import pwd
import re
import signal
import subprocess
import time

import harness as H
from conftest import LOGOFF, USER1, USER2, list_json, run_logoff, signal_logger, wait_gone
from test_security import logoff_with_cap_kill  # noqa: F401 (a fixture)

STUBBORN = "trap '' HUP TERM; for i in $(seq {n}); do sleep 100000 & done; wait"


def make_old(s, seconds):
    """Makes the pty of session s look untouched for `seconds`: its atime is
    what w(1), who -u and logoff read as idle time."""
    dev = f"/dev/{s.tty}"
    st = os.stat(dev)
    os.utime(dev, (time.time() - seconds, st.st_mtime))


def would_log_off(stdout):
    """Session IDs a dry run says it would log off."""
    return {int(m) for m in re.findall(r"^Would log off session (\d+)", stdout, re.M)}


def logged_off(stdout):
    """Session IDs /v reports as logged off, in the order of their blocks."""
    return [int(m) for m in re.findall(r"^Session (\d+) logged off in", stdout, re.M)]


def quiet(*sessions_and_logs):
    for s, log in sessions_and_logs:
        assert s.alive(), f"{s} was ended"
        assert not log.exists(), f"{s} was signalled: {log.read_text()}"


def test_user_picks_only_that_users_sessions(mksession, tmp_path):
    logs = [tmp_path / f"signals-{i}" for i in range(4)]
    a1 = mksession(*signal_logger(logs[0]), user=USER1, ready="sleep")
    a2 = mksession(*signal_logger(logs[1]), user=USER1, opts=["-N", "-U"], ready="sleep")
    b1 = mksession(*signal_logger(logs[2]), user=USER2, ready="sleep")
    root = mksession(*signal_logger(logs[3]), ready="sleep")

    cp = run_logoff(f"--user={USER1}", "--dry-run")
    assert cp.returncode == 0, cp.stderr
    assert would_log_off(cp.stdout) == {a1.sid, a2.sid}, cp.stdout
    quiet((a1, logs[0]), (a2, logs[1]), (b1, logs[2]), (root, logs[3]))

    # By UID, and a name given twice is the same user.
    cp = run_logoff(f"--user={pwd.getpwnam(USER2).pw_uid},{USER2}", "--dry-run")
    assert cp.returncode == 0 and would_log_off(cp.stdout) == {b1.sid}, (cp.stdout, cp.stderr)

    cp = run_logoff(f"--user={USER1}", "--timeout=3", "/v")
    assert cp.returncode == 0, cp.stderr
    assert sorted(logged_off(cp.stdout)) == sorted([a1.sid, a2.sid]), cp.stdout
    assert "2 sessions selected: 2 logged off, 0 not" in cp.stderr
    wait_gone(a1.sid)
    wait_gone(a2.sid)
    assert "HUP" in logs[0].read_text() and "TERM" in logs[0].read_text()
    quiet((b1, logs[2]), (root, logs[3]))
    assert not any(e.pid == a1.leader for e in H.utmp_user_entries(USER1))


def test_list_filtered_by_the_selection(mksession, tmp_path):
    a = mksession("sleep", "100000", user=USER1)
    b = mksession("sleep", "100000", user=USER2)
    shown = list_json(f"--user={USER2}")
    assert b.sid in shown and a.sid not in shown
    assert all(s["user"] == USER2 for s in shown.values())
    cp = run_logoff("--list", f"--user={USER1}", "--noheadings", "-o", "ID,USERNAME")
    assert cp.returncode == 0, cp.stderr
    rows = [line.split() for line in cp.stdout.splitlines()]
    assert [str(a.sid), USER1] in rows and all(r[1] == USER1 for r in rows), cp.stdout


def test_idle_picks_the_idle_and_never_the_unknown(mksession, tmp_path):
    logs = [tmp_path / f"signals-{i}" for i in range(3)]
    old = mksession(*signal_logger(logs[0]), user=USER1, ready="sleep")
    fresh = mksession(*signal_logger(logs[1]), user=USER1, ready="sleep")
    unknown = mksession(*signal_logger(logs[2]), user=USER1, opts=["-N", "-U"], ready="sleep")
    make_old(old, 3 * 3600)

    shown = list_json(f"--user={USER1}")
    assert shown[old.sid]["idle_seconds"] >= 3 * 3600 - 60 and shown[old.sid]["idle_source"] == "tty"
    assert shown[fresh.sid]["idle_seconds"] < 3600 and shown[fresh.sid]["idle_source"] == "tty"
    assert shown[unknown.sid]["idle_seconds"] is None and shown[unknown.sid]["idle_source"] is None
    cp = run_logoff("--list", f"--user={USER1}", "-o", "ID,IDLE,IDLE-FROM", "--noheadings")
    rows = {int(r.split()[0]): r.split()[1:] for r in cp.stdout.splitlines()}
    assert rows[old.sid] == ["3:00", "tty"] and rows[unknown.sid] == ["-", "-"], cp.stdout

    for idle in ("2h", "120m", "7200", "7199s"):
        cp = run_logoff(f"--idle={idle}", f"--user={USER1}", "--dry-run")
        assert cp.returncode == 0 and would_log_off(cp.stdout) == {old.sid}, (idle, cp.stdout, cp.stderr)
    cp = run_logoff("--idle=4h", f"--user={USER1}", "--dry-run")
    assert cp.returncode == 3 and "no session matches the selection" in cp.stderr
    # Without --user too: no other session on this host is idle for a year.
    cp = run_logoff("--idle=365d", "--dry-run")
    assert cp.returncode == 3 and cp.stdout == "", cp.stdout

    cp = run_logoff("--idle=1h", f"--user={USER1}", "--timeout=3", "/v")
    assert cp.returncode == 0 and logged_off(cp.stdout) == [old.sid], (cp.stdout, cp.stderr)
    wait_gone(old.sid)
    quiet((fresh, logs[1]), (unknown, logs[2]))


def test_state_and_type(mksession, tmp_path):
    logs = [tmp_path / f"signals-{i}" for i in range(3)]
    tty = mksession(*signal_logger(logs[0]), user=USER2, ready="sleep")
    disc = mksession(*signal_logger(logs[1]), user=USER2, opts=["-N", "-U"], ready="sleep")
    x11 = mksession(*signal_logger(logs[2]), user=USER2, opts=["-N", "-D", ":87"], ready="sleep")
    shown = list_json(f"--user={USER2}")
    assert (shown[tty.sid]["state"], shown[disc.sid]["state"], shown[x11.sid]["state"]) == \
        ("active", "disconnected", "active")
    assert (shown[tty.sid]["type"], shown[x11.sid]["type"]) == ("tty", "x11")

    for args, want in ((("--state=disc",), {disc.sid}),
                       (("--state=disconnected",), {disc.sid}),
                       (("--state=Active",), {tty.sid, x11.sid}),
                       (("--type=x11",), {x11.sid}),
                       (("--type=TTY,unspecified",), {tty.sid, disc.sid}),
                       (("--type=tty", "--state=active"), {tty.sid}),
                       (("--type=x11", "--state=disc"), set())):
        cp = run_logoff(*args, f"--user={USER2}", "--dry-run")
        if want:
            assert cp.returncode == 0 and would_log_off(cp.stdout) == want, (args, cp.stdout, cp.stderr)
        else:
            assert cp.returncode == 3 and "no session matches" in cp.stderr, (args, cp.stdout, cp.stderr)
    quiet((tty, logs[0]), (disc, logs[1]), (x11, logs[2]))

    cp = run_logoff("--state=disc", f"--user={USER2}", "--timeout=3")
    assert cp.returncode == 0, cp.stderr
    wait_gone(disc.sid)
    quiet((tty, logs[0]), (x11, logs[2]))


def test_all_leaves_out_the_callers_own_session(mksession, tmp_path):
    logs = [tmp_path / f"signals-{i}" for i in range(2)]
    a = mksession(*signal_logger(logs[0]), user=USER1, ready="sleep")
    b = mksession(*signal_logger(logs[1]), user=USER2, ready="sleep")
    out = tmp_path / "out"
    # logoff --all run from inside a root session: its own is not selected.
    caller = mksession("sh", "-c", f"{LOGOFF} --all --dry-run /v >{out} 2>&1; "
                                   f"echo rc=$? >>{out}; exec sleep 100000", ready="sleep")
    text = out.read_text()
    assert "rc=0" in text, text
    picked = would_log_off(text)
    assert {a.sid, b.sid} <= picked and caller.sid not in picked, text
    assert "--all leaves out your own session" in text
    quiet((a, logs[0]), (b, logs[1]))

    cp = run_logoff("--all", f"--user={USER1},{USER2}", "--timeout=3")
    assert cp.returncode == 0, cp.stderr
    wait_gone(a.sid)
    wait_gone(b.sid)
    assert caller.alive()


def test_own_session_goes_last(mksession, tmp_path, logoff_with_cap_kill):
    """As an admin would install it for users (cap_kill on the binary, which
    lets a user log off their own sessions): the caller's own goes last, so
    that logoff lives to end the others."""
    others = [mksession("sleep", "100000", user=USER1) for _ in range(2)]
    out = tmp_path / "out"
    out.touch()
    os.chmod(out, 0o666)
    own = mksession("sh", "-c", f"{logoff_with_cap_kill} --user={USER1} --timeout=3 /v >>{out} 2>&1; "
                                "exec sleep 100000", user=USER1)
    wait_gone(own.sid, timeout=30)
    for s in others:
        wait_gone(s.sid)
    text = out.read_text()
    done = logged_off(text)
    assert sorted(done[:2]) == sorted(s.sid for s in others) and done[2:] == [own.sid], text


def test_ten_stubborn_sessions_take_one_grace_period(mksession):
    sessions = [mksession("sh", "-c", STUBBORN.format(n=3), user=USER1) for _ in range(10)]
    for s in sessions:
        H.wait_until(lambda: sum(H.proc_comm(p) == "sleep" for p in s.pids()) == 3, 10,
                     what=f"the sleeps of {s}")
    start = time.monotonic()
    cp = run_logoff(f"--user={USER1}", "--timeout=3", "/v")
    elapsed = time.monotonic() - start
    assert cp.returncode == 0, cp.stderr
    # Each waited the whole grace period (they ignore SIGTERM) and was then
    # SIGKILLed; one after another that would be 30 s.
    assert 3.0 <= elapsed < 6.0, elapsed
    assert sorted(logged_off(cp.stdout)) == sorted(s.sid for s in sessions), cp.stdout
    assert len(re.findall(r"waited 3\.\d\d s$", cp.stdout, re.M)) == 10, cp.stdout
    assert "10 sessions selected: 10 logged off, 0 not" in cp.stderr
    m = re.search(r"shared (\d+) walks of /proc for (\d+) rounds", cp.stderr)
    assert m and int(m.group(1)) < int(m.group(2)), cp.stderr
    for s in sessions:
        assert not s.alive(), s
        assert not any(e.pid == s.leader for e in H.utmp_user_entries(USER1))


def test_one_failing_does_not_stop_the_others(mksession, tmp_path, users, logoff_with_cap_kill):
    """A user with logoff's cap_kill selecting their own and another user's
    sessions: their own are logged off, the other's are refused, and the
    exit status is the worst of the two (4, access denied)."""
    log = tmp_path / "signals"
    mine = [mksession("sleep", "100000", user=USER1) for _ in range(2)]
    theirs = mksession(*signal_logger(log), user=USER2, ready="sleep")
    cp = run_logoff_as(users[USER1], logoff_with_cap_kill, f"--user={USER1},{USER2}", "--timeout=3", "/v")
    assert cp.returncode == 4, (cp.returncode, cp.stdout, cp.stderr)
    assert sorted(logged_off(cp.stdout)) == sorted(s.sid for s in mine), cp.stdout
    assert f"Access is denied: session {theirs.sid}" in cp.stderr
    assert "3 sessions selected: 2 logged off, 1 not" in cp.stderr, cp.stderr
    for s in mine:
        wait_gone(s.sid)
    quiet((theirs, log))

    # Without the capability, nothing but refusals: still every session tried.
    cp = run_logoff(f"--user={USER2}", "--timeout=3", "/v", as_user=users[USER1])
    assert cp.returncode == 4 and "1 session selected: 0 logged off, 1 not" in cp.stderr, cp.stderr
    quiet((theirs, log))


def run_logoff_as(user, binary, *args):
    return subprocess.run(["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--init-groups", "--",
                           binary, *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)


def test_unknown_user_and_no_match_signal_nothing(mksession, tmp_path):
    log = tmp_path / "signals"
    s = mksession(*signal_logger(log), user=USER1, ready="sleep")
    for args, code, message in (((f"--user={USER1},nosuchuser",), 3, "no user named 'nosuchuser'"),
                                ((f"--user={USER1}", "--type=rdp"), 3, "no session matches the selection"),
                                (("--user=4294967294",), 3, "no session matches the selection")):
        cp = run_logoff(*args, "--timeout=1")
        assert cp.returncode == code and message in cp.stderr, (args, cp.returncode, cp.stderr)
        assert cp.stdout == ""
    quiet((s, log))


def test_warn_reaches_each_selected_session_within_one_grace(mksession):
    sessions = [mksession("sleep", "100000", user=USER2, ready="sleep") for _ in range(3)]
    start = time.monotonic()
    cp = run_logoff(f"--user={USER2}", "--warn=Maintenance at 02:00", "--grace=2", "/v")
    elapsed = time.monotonic() - start
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert 2.0 <= elapsed < 4.5, elapsed  # one grace for all three, not three
    for s in sessions:
        assert "Maintenance at 02:00" in s.output(), s.output()
        assert not s.alive()
    assert cp.stdout.count("The grace period of 2 s is over") == 3, cp.stdout


def test_ctrl_c_during_the_grace_signals_none_of_them(mksession, tmp_path):
    logs = [tmp_path / f"signals-{i}" for i in range(3)]
    sessions = [mksession(*signal_logger(logs[i]), user=USER2, ready="sleep") for i in range(3)]
    before = {s.sid: sorted(s.pids()) for s in sessions}
    p = subprocess.Popen([LOGOFF, f"--user={USER2}", "--warn=going down", "--grace=60", "/v"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, LC_ALL="C"))
    for s in sessions:
        H.wait_until(lambda: "going down" in s.output(), 10, what=f"the warning on {s}")
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=15)
    assert p.returncode == -signal.SIGINT, (p.returncode, out, err)
    assert "Sent SIG" not in out, out
    time.sleep(0.3)
    for s, log in zip(sessions, logs):
        assert sorted(s.pids()) == before[s.sid], s
        assert not log.exists(), log.read_text()

"""Logging off real sessions: every process ended, nothing else touched,
records written as at a normal logout."""

import os
import re
import subprocess
import time
from pathlib import Path

import harness as H
from conftest import (LOGOFF, USER1, USER2, list_json, run_logoff, signal_logger, wait_gone,
                      wtmp_records_for)


def utmp_entry(line, pid):
    return [r for r in H.read_utmp() if r.line == line and r.pid == pid]


def assert_logged_out(line, leader, since):
    """utmp has the entry dead, wtmp a logout record, last(1) shows it."""
    entries = utmp_entry(line, leader)
    assert entries and all(r.type == H.DEAD_PROCESS for r in entries), entries
    logouts = [r for r in wtmp_records_for(line, leader, since) if r.type == H.DEAD_PROCESS]
    assert logouts, f"no logout record for {line} in wtmp"
    who = H.run(["who"]).stdout
    assert not re.search(rf"\s{re.escape(line)}\s", who), who


ESCAPEES = ("setsid sleep 100001 & "
            "(sh -c 'sleep 100002 &' &) ; "          # double fork: reparented to init
            "nohup sleep 100003 >/dev/null 2>&1 & "
            "setsid sh -c 'exec </dev/null >/dev/null 2>&1; sleep 100004' & "  # no terminal at all
            "exec sleep 100000")


def test_escapees_all_ended_and_records_written(mksession):
    since = int(time.time())
    # -R: the leader does not write its own logout records, as after SIGKILL.
    s = mksession("sh", "-c", ESCAPEES, user=USER1, opts=["-R", "-H", "192.0.2.9"])
    H.wait_until(lambda: len(s.pids()) >= 6, 10, what="all escapees started")
    cp = run_logoff(str(s.sid))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "" and cp.stderr == ""  # success is silent, like the reference
    assert s.pids() == []
    assert_logged_out(s.tty, s.leader, since)
    assert s.sid not in list_json()


def test_verbose_says_what_it_did(mksession):
    s = mksession("sh", "-c", "trap '' HUP TERM; sleep 100000 & exec sleep 100001", user=USER2,
                  opts=["-R"])
    H.wait_until(lambda: len(s.pids()) >= 3, 10, what="session started")
    t0 = time.monotonic()
    cp = run_logoff(s.tty, "/v", "--timeout=1")
    took = time.monotonic() - t0
    assert cp.returncode == 0, cp.stderr
    out = cp.stdout
    assert f"Session {s.sid}: name {s.tty}, user {USER2}, from this host" in out
    assert f"leader {s.leader}" in out
    assert "Sent SIGHUP, SIGTERM and SIGCONT to 3 processes" in out
    # Everything outlived the 1 s grace period: sh and its sleep ignore
    # HUP/TERM, and the leader waits for sh; all three needed SIGKILL.
    assert "Sent SIGKILL to 3 processes" in out, out
    assert f"Marked the utmp entry of {s.tty} dead and appended a logout record to /var/log/wtmp" in out
    assert re.search(rf"Session {s.sid} logged off in \d+\.\d\d s", out)
    assert 1.0 <= took < 10
    assert s.pids() == []


def test_process_ignoring_hup_and_term_is_killed_after_grace(mksession, tmp_path):
    log = tmp_path / "signals"
    s = mksession("sh", "-c", f'trap "echo HUP >> {log}" HUP; trap "echo TERM >> {log}" TERM; '
                              f'while :; do sleep 0.1; done', user=USER1, opts=["-R"])
    cp = run_logoff(str(s.sid), "-t", "0.5", "-v")
    assert cp.returncode == 0, cp.stderr
    assert s.pids() == []
    # It was asked nicely first.
    assert "HUP" in log.read_text() and "TERM" in log.read_text()


def test_work_started_in_answer_to_the_signal_may_finish(mksession, tmp_path):
    # What a process starts once asked to end (xrdp-chansrv's fusermount
    # unmounting ~/thinclient_drives, a shell's logout work) is its answer
    # to the request: the grace period lets it finish instead of ending it
    # half-way, and the forced phase still ends whatever outlives it.
    done = tmp_path / "done"
    cleanup = f"sh -c 'sleep 0.4; echo done > {done}'"
    s = mksession("sh", "-c", f'trap "{cleanup}; exit" HUP TERM; while :; do sleep 100000 & wait $!; done',
                  user=USER1, opts=["-R"], ready="sleep")
    cp = run_logoff(str(s.sid), "/v", "--timeout=3")
    assert cp.returncode == 0, cp.stderr
    assert done.read_text() == "done\n", cp.stdout
    m = re.search(r"Let (\d+) process(?:es)? started after logoff signalled (?:its parent|their parents) "
                  r"finish (?:its|their) work: (\d+) did", cp.stdout)
    assert m and int(m.group(1)) >= 1 and m.group(1) == m.group(2), cp.stdout
    assert "SIGKILL" not in cp.stdout and "SIGSTOP" not in cp.stdout, cp.stdout
    assert s.pids() == []


def test_work_started_in_answer_to_the_signal_is_ended_after_the_grace_period(mksession, tmp_path):
    done = tmp_path / "done"
    cleanup = f"sh -c 'sleep 100; echo done > {done}'"
    s = mksession("sh", "-c", f'trap "{cleanup}; exit" HUP TERM; while :; do sleep 100000 & wait $!; done',
                  user=USER1, opts=["-R"], ready="sleep")
    cp = run_logoff(str(s.sid), "/v", "--timeout=0.5")
    assert cp.returncode == 0, cp.stderr
    m = re.search(r"Let (\d+) process(?:es)? started after logoff signalled (?:its parent|their parents) "
                  r"finish (?:its|their) work: 0 did", cp.stdout)
    assert m and int(m.group(1)) >= 1, cp.stdout
    assert re.search(r"Ended what the grace period left in", cp.stdout), cp.stdout
    assert s.pids() == [] and not done.exists()


def test_leader_writes_its_own_records_when_asked_nicely(mksession):
    since = int(time.time())
    s = mksession("sleep", "100000", user=USER1)  # without -R: like login/sshd
    cp = run_logoff(str(s.sid), "/v")
    assert cp.returncode == 0, cp.stderr
    assert "already closed by its login process" in cp.stdout
    assert_logged_out(s.tty, s.leader, since)
    # One logout record, not two.
    assert len([r for r in wtmp_records_for(s.tty, s.leader, since) if r.type == H.DEAD_PROCESS]) == 1


def storm_script(limit):
    """bash forking as fast as it can, never past limit processes of the user
    (the limit is set or the storm never starts)."""
    return (f"ulimit -u {limit} || exit 99; trap '' HUP TERM; "
            "storm() { while :; do storm & done; }; storm 2>/dev/null")


def test_fork_storm_ended_completely(mksession):
    # A fork storm as the unprivileged user, bounded by its process limit so
    # the machine survives; it ignores HUP and TERM to force the stop rounds.
    s = mksession("bash", "-c", storm_script(400), user=USER2)
    H.wait_until(lambda: len(s.pids()) > 100, 20, what="the storm to grow")
    cp = run_logoff(str(s.sid), "/v", "--timeout=0.3")
    assert cp.returncode == 0, cp.stderr + cp.stdout
    assert "Sent SIGSTOP to" in cp.stdout
    assert s.pids() == []
    time.sleep(0.5)
    assert s.pids() == []  # and nothing came back


def test_fork_storm_that_continues_its_stopped_siblings(mksession):
    # Each process sends SIGCONT to every process of its user before it
    # forks: stopping must hold against that.
    script = ("ulimit -u 300 || exit 99; trap '' HUP TERM; "
              "storm() { while :; do kill -CONT -1 2>/dev/null; storm & done; }; storm 2>/dev/null")
    s = mksession("bash", "-c", script, user=USER2, opts=["-R"])
    H.wait_until(lambda: len(s.pids()) > 100, 20, what="the storm to grow")
    cp = run_logoff(str(s.sid), "/v", "--timeout=0.2")
    assert cp.returncode == 0, cp.stderr + cp.stdout
    assert s.pids() == []
    time.sleep(0.5)
    assert s.pids() == []


def test_other_session_of_same_user_untouched(mksession, tmp_path):
    log = tmp_path / "signals"
    keep = mksession(*signal_logger(log), user=USER1, ready="sleep")
    end = mksession("sleep", "100000", user=USER1)
    before = keep.pids()
    cp = run_logoff(str(end.sid))
    assert cp.returncode == 0, cp.stderr
    assert end.pids() == []
    assert keep.pids() == before
    assert not log.exists()


def test_another_users_session_refused_for_non_root(mksession, users, tmp_path):
    log = tmp_path / "signals"
    victim = mksession(*signal_logger(log), user=USER1, ready="sleep")
    before = victim.pids()
    for target in (str(victim.sid), victim.tty):
        cp = run_logoff(target, "/v", as_user=users[USER2])
        assert cp.returncode == 4, cp.stderr
        assert "Access is denied" in cp.stderr
        assert f"session {victim.sid} ({victim.tty}) belongs to {USER1}" in cp.stderr
        assert cp.stdout.count("Sent") == 0
    # Even the same user's other session needs admin rights (the reference).
    cp = run_logoff(str(victim.sid), as_user=users[USER1])
    assert cp.returncode == 4
    assert victim.pids() == before and not log.exists()


def test_console_session_refused(mksession, tmp_path):
    log = tmp_path / "signals"
    console = mksession(*signal_logger(log), opts=["-t", "/dev/console"], ready="sleep")
    for target in ("console", str(console.sid), "/dev/console", "CONSOLE"):
        cp = run_logoff(target, "/v")
        assert cp.returncode == 5, (target, cp.stderr)
        assert f"session {console.sid} (console) is the console session" in cp.stderr
    assert console.alive() and not log.exists()


def test_dry_run_signals_nothing(mksession, tmp_path):
    log = tmp_path / "signals"
    s = mksession(*signal_logger(log), user=USER1, ready="sleep")
    before = s.pids()
    cp = run_logoff(str(s.sid), "--dry-run")
    assert cp.returncode == 0, cp.stderr
    assert f"Would log off session {s.sid} ({s.tty}) of {USER1}" in cp.stdout
    for pid in before:
        assert f"would end pid {pid} " in cp.stdout
    assert s.pids() == before and not log.exists()
    assert utmp_entry(s.tty, s.leader)[0].type == H.USER_PROCESS


def test_two_logoff_runs_at_once(mksession):
    since = int(time.time())
    s = mksession("sh", "-c", "trap '' HUP; " + ESCAPEES, user=USER2, opts=["-R"])
    H.wait_until(lambda: len(s.pids()) >= 6, 10, what="session started")
    env = dict(os.environ, LC_ALL="C")
    runs = [subprocess.Popen([LOGOFF, str(s.sid), "--timeout=1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [(p.wait(60), p.stderr.read()) for p in runs]
    for code, err in results:
        assert code in (0, 3), results  # 3: the other run had already finished it
    assert 0 in [c for c, _ in results]
    assert s.pids() == []
    logouts = [r for r in wtmp_records_for(s.tty, s.leader, since) if r.type == H.DEAD_PROCESS]
    assert len(logouts) == 1, logouts


def test_ssh_login_logged_off(sshd, users):
    since = int(time.time())
    ssh = sshd.login(users[USER1], command="setsid -f sleep 100000; nohup sleep 100001 & sleep 100002")
    try:
        H.wait_until(lambda: len(ssh.pids()) >= 5, 10, what="ssh session processes")
        cp = run_logoff(ssh.line, "/v")
        assert cp.returncode == 0, cp.stderr
        ssh.wait_client_exit(15)  # the client was disconnected
        assert H.session_pids(ssh.sid) == []
        assert_logged_out(ssh.line, ssh.monitor_pid, since)
        time.sleep(1.1)  # last(1) says "still running" within the logout's second
        last = H.run(["last", "-w", "-f", H.WTMP_PATH, USER1]).stdout
        mine = [l for l in last.splitlines() if f" {ssh.line} " in l]
        assert mine and "still logged in" not in mine[0] and "gone - no logout" not in mine[0], last
    finally:
        ssh.cleanup()


def test_own_session_without_argument(mksession, tmp_path):
    # An ordinary user logs off the session they are in: logoff outlives
    # its shell and terminal, then exits.  sh's redirection gives logoff the
    # file directly, so its report survives the hangup.
    out = tmp_path / "own.out"
    os.chmod(tmp_path, 0o777)
    s = mksession("sh", "-c", f"setsid sleep 100000 & sleep 100001 & sleep 0.3; {LOGOFF} /v >{out} 2>&1; "
                              "sleep 100002", user=USER1)
    wait_gone(s.sid, 30)
    text = out.read_text()
    assert f"Session {s.sid} logged off" in text, text
    # The root leader is not the user's to signal: it ends with its child
    # and writes the records itself, as sshd's monitor does.
    assert "could not be signalled (not yours) but ended with the session" in text
    assert "already closed by its login process" in text
    assert "survived" not in text


def test_own_session_with_unsignallable_process_reported(mksession, users, tmp_path):
    # A root process in the user's session (as a setuid program would be)
    # that ignores HUP/TERM: the user cannot end it, and logoff says so.
    out, rc = tmp_path / "out", tmp_path / "rc"
    u = users[USER1]
    s = mksession("sh", "-c", f"trap '' HUP TERM; sleep 100000 & "
                              f"setpriv --reuid={u.uid} --regid={u.gid} --init-groups --inh-caps=-all "
                              f"{LOGOFF} /v --timeout=0.5 >{out} 2>&1; echo $? >{rc}; sleep 100001",
                  opts=["-R"])
    H.wait_until(lambda: rc.exists() and rc.read_text().strip(), 30, what="logoff inside the session")
    assert rc.read_text().strip() == "6", out.read_text()
    text = out.read_text()
    assert "could not be signalled (not yours)" in text
    assert "survived" in text and "(sleep), uid 0" in text
    assert s.alive()  # the root processes are still there: nothing half-claimed


def test_session_with_own_cgroup_ended_by_cgroup_kill(mksession):
    mnt = [l.split()[4] for l in Path("/proc/self/mountinfo").read_text().splitlines()
           if " - cgroup2 " in l]
    assert mnt, "cgroup v2 must be mounted"
    cg = Path(mnt[0]) / f"logoff-test-{os.getpid()}"
    s = mksession("bash", "-c", storm_script(300), user=USER1, opts=["-R"])
    cg.mkdir()
    try:
        # As logind would: every process of the session in its own cgroup.
        # New children follow their parents, so a few passes catch the storm.
        for _ in range(20):
            for pid in s.pids():
                try:
                    (cg / "cgroup.procs").write_text(str(pid))
                except OSError:
                    pass
        H.wait_until(lambda: set(s.pids()) <= {int(p) for p in (cg / "cgroup.procs").read_text().split()},
                     10, what="session inside the cgroup")
        cp = run_logoff(str(s.sid), "/v", "--timeout=0.2")
        assert cp.returncode == 0, cp.stderr + cp.stdout
        assert f"Wrote cgroup.kill of {cg}" in cp.stdout, cp.stdout
        assert s.pids() == []
        H.wait_until(lambda: "populated 0" in (cg / "cgroup.events").read_text(), 5, what="cgroup empty")
        assert "frozen 0" in (cg / "cgroup.events").read_text()  # not left frozen
    finally:
        H.kill_session(s.sid)
        H.wait_until(lambda: not (cg / "cgroup.procs").read_text().split(), 10, what="cgroup empty")
        cg.rmdir()


def test_shared_cgroup_is_not_killed_whole(mksession):
    # A cgroup holding other processes too is not the session's own:
    # cgroup.kill there would kill a bystander.
    mnt = [l.split()[4] for l in Path("/proc/self/mountinfo").read_text().splitlines()
           if " - cgroup2 " in l][0]
    cg = Path(mnt) / f"logoff-shared-{os.getpid()}"
    cg.mkdir()
    bystander = subprocess.Popen(["sleep", "100000"])
    try:
        s = mksession("sh", "-c", "trap '' HUP TERM; exec sleep 100000", user=USER1, opts=["-R"])
        for pid in s.pids() + [bystander.pid]:
            (cg / "cgroup.procs").write_text(str(pid))
        cp = run_logoff(str(s.sid), "/v", "--timeout=0.2")
        assert cp.returncode == 0, cp.stderr
        assert "cgroup.kill" not in cp.stdout
        assert s.pids() == []
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
        H.wait_until(lambda: not (cg / "cgroup.procs").read_text().split(), 10, what="cgroup empty")
        cg.rmdir()


def test_uninterruptible_process_reported_not_waited_on(mksession):
    # A task frozen by the v1 freezer sleeps uninterruptibly (state D) and
    # not even SIGKILL ends it until it is thawed.
    freezer = Path("/sys/fs/cgroup/freezer")
    assert (freezer / "tasks").exists(), "the cgroup v1 freezer must be mounted"
    cg = freezer / f"logoff-test-{os.getpid()}"
    cg.mkdir()
    s = mksession("sh", "-c", "sleep 100000 & exec sleep 100001", user=USER1, opts=["-R"])
    try:
        H.wait_until(lambda: len(s.pids()) == 3, 10, what="session started")
        stuck = [p for p in s.pids() if H.proc_cmdline(p) == "sleep 100000"][0]
        (cg / "tasks").write_text(str(stuck))
        (cg / "freezer.state").write_text("FROZEN")
        H.wait_until(lambda: H.proc_state(stuck) == "D", 5, what="the frozen task in state D")
        t0 = time.monotonic()
        cp = run_logoff(str(s.sid), "/v", "--timeout=0.5")
        took = time.monotonic() - t0
        assert cp.returncode == 6, cp.stderr
        assert f"session {s.sid}: 1 process survived" in cp.stderr
        assert f"survivor: pid {stuck} (sleep), uid {H.proc_uid(stuck)}, state D" in cp.stderr
        assert "uninterruptible sleep" in cp.stderr
        assert took < 10, took
        assert s.pids() == [stuck]  # everything else is gone
        # The utmp entry stays: the session is not over while a process lives.
        assert [r.type for r in H.read_utmp() if r.pid == s.leader] == [H.USER_PROCESS]
    finally:
        (cg / "freezer.state").write_text("THAWED")
        H.kill_session(s.sid)
        cg.rmdir()


def test_process_whose_main_thread_exited_is_not_a_zombie(mksession):
    # /proc says "Z" for a process whose main thread exited while another
    # runs: it must be ended like any other, not skipped as a zombie.
    from conftest import LONELY_THREAD
    for mode in ("plain", "ignore"):
        s = mksession(LONELY_THREAD, mode, user=USER1, opts=["-R"])
        H.wait_until(lambda: any(H.proc_state(p) == "Z" for p in H._all_pids()
                                 if H.proc_sessionid(p) == s.sid), 10, what="the main thread to exit")
        threaded = [p for p in H._all_pids() if H.proc_sessionid(p) == s.sid and H.proc_state(p) == "Z"]
        cp = run_logoff(str(s.sid), "/v", "--timeout=0.3")
        assert cp.returncode == 0, cp.stderr
        assert "survived" not in cp.stderr
        assert not [p for p in threaded if H.proc_alive(p)], f"threaded process still alive ({mode})"


def test_processes_the_user_can_signal_are_killed_even_after_denied_ones_ended(mksession, users, tmp_path):
    # The user logs off their own session holding root processes: one ends
    # by itself, the leader stays.  The user's own process that ignores
    # HUP/TERM must still get SIGKILL: only the root leader may survive.
    u = users[USER1]
    out = tmp_path / "out"
    inner = f"trap '' HUP TERM; sleep 100000 & exec {LOGOFF} /v --timeout=1.5 >{out} 2>&1"
    s = mksession("sh", "-c", f"sleep 0.5 & exec setpriv --reuid={u.uid} --regid={u.gid} --init-groups "
                              f"--inh-caps=-all sh -c \"{inner}\"", opts=["-R"])
    H.wait_until(lambda: "survivor" in (out.read_text() if out.exists() else ""), 30,
                 what="logoff's report")
    H.wait_until(lambda: not any(H.proc_comm(p) == "logoff" for p in s.pids()), 10, what="logoff to exit")
    text = out.read_text()
    assert f"1 process survived" in text, text
    assert f"survivor: pid {s.leader} (mksession), uid 0" in text, text
    assert "(sleep)" not in text.split("survived")[1]
    assert "Sent SIGKILL to 1 process" in text


def test_user_logs_off_own_ssh_login(sshd, users, tmp_path):
    # The everyday case: `logoff` typed in an ssh login.  sshd's root
    # monitor is not the user's to signal; it ends when the user's side does
    # and writes its own records.
    since = int(time.time())
    out = tmp_path / "out"
    ssh = sshd.login(users[USER1], command=f"setsid -f sleep 100000; sleep 1; {LOGOFF} /v >{out} 2>&1; "
                                           "sleep 100001")
    try:
        ssh.wait_client_exit(30)
        H.wait_until(lambda: not H.session_pids(ssh.sid), 15, what="the session to end")
        text = out.read_text()
        assert f"Session {ssh.sid} logged off" in text, text
        assert_logged_out(ssh.line, ssh.monitor_pid, since)
    finally:
        ssh.cleanup()


def test_graphical_session_gets_term_first_and_its_root_helper_exits_by_itself(mksession, tmp_path):
    """An X session (as xrdp's): SIGTERM and SIGCONT first, SIGHUP a moment later
    for what outlived it, and the root process that holds the login (xrdp-sesman's
    session child there, mksession's monitor here) is not signalled while the
    user's processes live: it ends by itself once they are gone."""
    log = tmp_path / "signals"
    s = mksession("sh", "-c", f'trap "echo HUP >> {log}; exit 0" HUP; trap "echo TERM >> {log}" TERM; '
                              f'while :; do sleep 0.1; done', user=USER1, opts=["-N", "-D", ":31"])
    assert list_json()[s.sid]["type"] == "x11"
    cp = run_logoff(":31", "/v", "--timeout=4")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    out = cp.stdout
    assert log.read_text().split() == ["TERM", "HUP"], log.read_text()
    assert re.search(r"Sent SIGTERM and SIGCONT to \d+ process(es)?;", out), out
    assert re.search(r"Sent SIGHUP to \d+ process(es)? that outlived SIGTERM", out), out
    # mksession's monitor (and any root child it has at that moment) ends by itself
    m = re.search(r"Left (\d+) root helpers? of the session to exit by (?:itself|themselves) once the user's "
                  r"processes were gone: (\d+) did", out)
    assert m and int(m.group(1)) >= 1 and m.group(1) == m.group(2), out
    assert "SIGKILL" not in out and "cgroup.kill" not in out, out
    assert s.pids() == []


def test_tty_session_still_gets_hup_first(mksession, tmp_path):
    log = tmp_path / "signals"
    s = mksession(*signal_logger(log), user=USER1, opts=["-R"], ready="sleep")
    cp = run_logoff(str(s.sid), "/v", "--timeout=0.3")
    assert cp.returncode == 0, cp.stderr
    # The kernel hangs the terminal up when the leader ends, which may put a
    # second HUP before the TERM: what matters is that HUP came first.
    got = log.read_text().split()
    assert got[0] == "HUP" and "TERM" in got, got
    assert "Sent SIGHUP, SIGTERM and SIGCONT" in cp.stdout and "root helper" not in cp.stdout

"""The session listing (logoff --list) against real sessions."""

import json
import os
import re
import time

import harness as H
from conftest import USER1, USER2, by_id, list_json, run_logoff, table_rows


def test_three_live_sessions_listed_with_their_fields(mksession, sshd, users):
    u1, u2 = users[USER1], users[USER2]
    helper = mksession("sleep", "100000", user=USER1, opts=["-H", "192.0.2.7"])
    ssh1 = sshd.login(u1)
    ssh2 = sshd.login(u2, command="sh -c 'sleep 100000 & sleep 100001'")
    try:
        cp = run_logoff("--list")
        assert cp.returncode == 0 and cp.stderr == ""
        rows = {r["id"]: r for r in table_rows(cp.stdout)}
        js = list_json()

        expect = [
            (helper.sid, helper.tty, USER1, "192.0.2.7", helper.leader, helper.pids()),
            (ssh1.sid, ssh1.line, USER1, "127.0.0.1", ssh1.monitor_pid, ssh1.pids()),
            (ssh2.sid, ssh2.line, USER2, "127.0.0.1", ssh2.monitor_pid, ssh2.pids()),
        ]
        for sid, line, user, host, leader, pids in expect:
            row = rows[sid]
            assert row == {"current": False, "name": line, "user": user, "id": sid, "state": "Active",
                           "type": "tty", "device": host}
            s = js[sid]
            assert (s["name"], s["user"], s["uid"], s["state"], s["type"], s["remote_host"]) == \
                (line, user, users[user].uid, "active", "tty", host)
            assert s["leader"] == leader
            assert s["processes"] == len(pids)
            assert not s["current"] and not s["console"]
            assert abs(s["login_usec"] / 1e6 - time.time()) < 120
            assert s["idle_seconds"] is not None and 0 <= s["idle_seconds"] < 120
        # sshd's monitor and user process, the shell and its two sleeps.
        assert js[ssh2.sid]["processes"] == 5

        # Every login who(1) shows is in the listing.
        who = H.run(["who"]).stdout.split("\n")
        for line in (helper.tty, ssh1.line, ssh2.line):
            assert any(f" {line} " in w for w in who)
    finally:
        ssh1.cleanup()
        ssh2.cleanup()


def test_current_session_is_marked(mksession):
    s = mksession("sh", "-c", f"{run_logoff.__globals__['LOGOFF']} --list; "
                              f"{run_logoff.__globals__['LOGOFF']} --list --json; sleep 100000")
    H.wait_until(lambda: '"sessions"' in s.output() and "]}" in s.output(), 10, what="listing inside the session")
    out = s.output().replace("\r\n", "\n")
    table = out[:out.index("{")]
    rows = table_rows(table.strip("\n"))
    marked = [r for r in rows if r["current"]]
    assert len(marked) == 1 and marked[0]["id"] == s.sid and marked[0]["name"] == s.tty
    js = json.loads(out[out.index("{"):out.rindex("}") + 1])
    current = [x for x in js["sessions"] if x["current"]]
    assert [x["id"] for x in current] == [str(s.sid)]


def test_x11_display_session(mksession):
    s = mksession("sleep", "100000", user=USER1, opts=["-N", "-D", ":17", "-H", "192.0.2.8"])
    js = list_json()[s.sid]
    assert (js["name"], js["type"], js["state"], js["idle_seconds"]) == (":17", "x11", "active", None)
    rows = {r["id"]: r for r in table_rows(run_logoff("--list").stdout)}
    assert rows[s.sid]["name"] == ":17" and rows[s.sid]["type"] == "x11"
    assert run_logoff("--list", ":17").stdout.count("\n") == 2


def xvfb_session(mksession, display, shown):
    """A session without utmp whose own X server (Xvfb) serves display: only
    DISPLAY and the server's lock file say which display it is."""
    s = mksession("sh", "-c", f"Xvfb :{display} -nolisten tcp & sleep 100000", user=USER1,
                  opts=["-N", "-U", "-D", shown])
    def serving():
        # A lock left by an Xvfb killed earlier names a dead pid until the
        # new server replaces it.
        try:
            pid = int(open(f"/tmp/.X{display}-lock").read().strip())
        except (OSError, ValueError):
            return False
        return pid in s.pids() and H.proc_comm(pid) == "Xvfb"
    H.wait_until(serving, 10, what=f"Xvfb :{display} of session {s.sid}")
    return s


def test_display_without_utmp_found_from_environment(mksession):
    s = xvfb_session(mksession, 23, ":23")
    js = list_json()[s.sid]
    assert (js["name"], js["type"], js["state"]) == (":23", "x11", "active")


def test_a_display_no_server_of_the_session_serves_is_not_its_name(mksession):
    """Carrying DISPLAY=:N makes a login a client of :N, not the session of
    that name (issue 13, point 7): with another session's X server on :N, or
    none at all."""
    server = xvfb_session(mksession, 25, ":25")
    client = mksession("sleep", "100000", user=USER2, opts=["-N", "-U", "-D", ":25"])
    nothing = mksession("sleep", "100000", user=USER2, opts=["-N", "-U", "-D", ":26"])
    rows = list_json()
    assert rows[server.sid]["name"] == ":25", rows[server.sid]
    assert rows[client.sid]["name"] != ":25" and rows[nothing.sid]["name"] != ":26", rows
    cp = run_logoff("--list", "--json", ":25")
    assert [x["id"] for x in json.loads(cp.stdout)["sessions"]] == [str(server.sid)], cp.stdout
    cp = run_logoff(":26")
    assert cp.returncode == 3 and "no session named ':26'" in cp.stderr, cp.stdout + cp.stderr
    assert nothing.alive()


def test_display_with_a_screen_number_is_named_by_its_display(mksession):
    # xrdp sets DISPLAY=:10.0: the session is :10, and ":10" and ":10.0" both name it.
    s = xvfb_session(mksession, 24, ":24.0")
    js = list_json()[s.sid]
    assert (js["name"], js["type"]) == (":24", "x11")
    for typed in (":24", ":24.0"):
        cp = run_logoff("--list", "--json", typed)
        assert cp.returncode == 0, cp.stderr
        assert [x["id"] for x in json.loads(cp.stdout)["sessions"]] == [str(s.sid)], typed


def test_disconnected_remnant_of_an_ssh_login(sshd, users):
    ssh = sshd.login(users[USER1], command="setsid -f sleep 100000; sleep 100000")
    sid = ssh.sid
    try:
        H.wait_until(lambda: len(ssh.pids()) >= 4, 10, what="the setsid child")
        ssh.close(check=False)
        H.wait_until(lambda: len(H.session_pids(sid)) == 1, 10, what="only the remnant left")
        js = list_json()[sid]
        assert (js["name"], js["state"], js["type"], js["user"]) == (None, "disconnected", "unspecified", USER1)
        assert js["remote_host"] == "127.0.0.1"  # from SSH_CONNECTION
        assert js["processes"] == 1
        rows = {r["id"]: r for r in table_rows(run_logoff("--list").stdout)}
        assert rows[sid]["state"] == "Disc" and rows[sid]["name"] == ""
    finally:
        H.kill_session(sid)


def test_console_session_flagged(mksession):
    s = mksession("sleep", "100000", opts=["-t", "/dev/console"])
    js = list_json()[s.sid]
    assert js["console"] and js["name"] == "console"
    cp = run_logoff("--list", "console")
    assert cp.returncode == 0 and table_rows(cp.stdout)[0]["id"] == s.sid


def test_idle_time_from_terminal_atime(mksession):
    s = mksession("sleep", "100000", user=USER1)
    dev = f"/dev/{s.tty}"
    st = os.stat(dev)
    os.utime(dev, (time.time() - 3700, st.st_mtime))
    idle = list_json()[s.sid]["idle_seconds"]
    assert 3690 <= idle <= 3800


def test_select_one_session_by_name_or_id(mksession):
    s = mksession("sleep", "100000", user=USER2)
    for arg in (s.tty, f"/dev/{s.tty}", s.tty.upper(), str(s.sid)):
        cp = run_logoff("--list", arg)
        assert cp.returncode == 0, (arg, cp.stderr)
        rows = table_rows(cp.stdout)
        assert [r["id"] for r in rows] == [s.sid], arg
    js = list_json(str(s.sid))
    assert list(js) == [s.sid]


def test_listing_not_found_names_what_was_looked_for():
    cp = run_logoff("--list", "pts/98765")
    assert cp.returncode == 3 and "no session named 'pts/98765'" in cp.stderr and cp.stdout == ""
    cp = run_logoff("--list", "4294967294")
    assert cp.returncode == 3 and "no session with ID 4294967294" in cp.stderr


def test_listing_works_unprivileged(mksession, users):
    s = mksession("sleep", "100000", user=USER1)
    cp = run_logoff("--list", "--json", as_user=users[USER2])
    assert cp.returncode == 0, cp.stderr
    ids = by_id(json.loads(cp.stdout)["sessions"])
    assert ids[s.sid]["name"] == s.tty and ids[s.sid]["user"] == USER1


def test_listing_survives_processes_dying_during_the_scan(mksession):
    # Processes reaped while /proc is read (ENOENT or ESRCH, depending on
    # the moment) are skipped, never a failure of the whole listing.
    import subprocess
    churn = [subprocess.Popen(["sh", "-c", "while :; do /bin/true & /bin/true & wait; done"])
             for _ in range(2)]
    # Processes with an audit session, so the scan reads deeper into them.
    s = mksession("sh", "-c", "while :; do /bin/true & /bin/true & wait; done", user=USER1)
    try:
        failures = []
        for _ in range(1000):
            cp = run_logoff("--list")
            if cp.returncode != 0:
                failures.append(cp.stderr)
        assert not failures, f"{len(failures)} of 1000 failed: {failures[:3]}"
    finally:
        for c in churn:
            c.kill()
            c.wait()


def test_output_columns_on_real_sessions(mksession, sshd, users):
    """--output, --raw, --noheadings and --json with columns say what
    the full --json says, session by session."""
    helper = mksession("sleep", "100000", user=USER1, opts=["-H", "192.0.2.9"], ready="sleep")
    ssh = sshd.login(users[USER2], command="sh -c 'sleep 100000 & sleep 100001'")
    try:
        full = list_json()
        cols = "ID,USERNAME,PROCESSES,LEADER,BACKEND,MEMBERSHIP,IDLE,LOGON-TIME,UID,AUDIT,CURRENT"
        cp = run_logoff("--list", f"--output={cols}", "--raw", "--noheadings")
        assert cp.returncode == 0 and cp.stderr == "", cp.stderr
        raw = {int(f[0]): f for f in (line.split(" ") for line in cp.stdout.splitlines())}
        for sid in (helper.sid, ssh.sid):
            s, f = full[sid], raw[sid]
            assert len(f) == 11, f
            assert f[1:6] == [s["user"], str(s["processes"]), str(s["leader"]), "kernel", "audit"], f
            assert f[6] == "." and s["idle_seconds"] < 60, (f, s)
            # LOGON TIME in local time, with its space escaped as --raw does.
            local = time.strftime("%Y-%m-%d\\x20%H:%M", time.localtime(s["login_usec"] / 1e6))
            assert f[7] == local, (f[7], local)
            assert f[8:] == [str(s["uid"]), str(sid), "no"], f
        assert full[ssh.sid]["processes"] == 5

        # Aligned: the header names the columns, numbers are right-aligned.
        cp = run_logoff("--list", "-o", "+IDLE,LOGON-TIME,PROCESSES")
        lines = cp.stdout.splitlines()
        assert cp.returncode == 0
        assert re.match(r"^ SESSIONNAME\s+USERNAME\s+ID  STATE   TYPE        DEVICE\s+IDLE  LOGON TIME\s+PROCESSES$",
                        lines[0]), lines[0]
        row = next(line for line in lines if f" {helper.tty} " in line)
        assert row.endswith(f"  {full[helper.sid]['processes']:>9}"), row
        assert "192.0.2.9" in row
        # The default table is unchanged by the column table.
        assert table_rows(run_logoff("--list").stdout)

        # --json with --output: those fields only, typed as in the full one.
        cp = run_logoff("--list", "--json", "--output=ID,USERNAME,IDLE,PROCESSES,CURRENT,LOGON-TIME")
        assert cp.returncode == 0, cp.stderr
        some = by_id(json.loads(cp.stdout)["sessions"])
        for sid in (helper.sid, ssh.sid):
            keys = ("id", "user", "idle_seconds", "processes", "current", "login_time")
            assert list(some[sid]) == list(keys), some[sid]
            assert some[sid]["user"] == full[sid]["user"] and some[sid]["processes"] == full[sid]["processes"]
            assert some[sid]["current"] is False and isinstance(some[sid]["idle_seconds"], int)
            assert some[sid]["login_time"] == full[sid]["login_time"]
    finally:
        ssh.cleanup()

"""logoff on real logind hosts (systemd-logind 252 in a container, elogind 246 in namespaces).

The contract: where logind runs, logoff's sessions are logind's sessions (IDs are
strings: "3", "c1"), it asks logind to end them and finishes through the
session's processes, and nothing that is not a session (user managers,
lingering users, other PID namespaces) is listed, current, or logged off.
"""

import json
import os
import re
import time

import pytest

import hosts as HS
from conftest import (HOST_LOGOFF, TABLE_HEADER, assert_sanitizer_clean, list_json, logoff, verbose_counts,
                      wait_pids)

ESCAPEES = ("sleep 100001 & setsid sleep 100002 & nohup sleep 100003 >/dev/null 2>&1 & "
            "(trap '' HUP TERM; exec sleep 100004) & ")


def session_pids(h, user):
    """Live PIDs of ``user`` outside their user manager (user@UID.service): the
    processes of their sessions."""
    cp = h.sh(f"for p in $(ps -o pid= -u {user}); do "
              "grep -q 'user@[0-9]*[.]service' /proc/$p/cgroup 2>/dev/null || "
              "[ \"$(ps -o stat= -p $p | cut -c1)\" = Z ] || echo $p; done", check=False)
    return [int(x) for x in cp.stdout.split()]


def wait_sleeps(h, user, n, timeout=20):
    """Wait until ``user`` runs at least ``n`` sleep processes."""
    HS.wait_until(lambda: len(h.run(["pgrep", "-u", user, "-x", "sleep"], check=False).stdout.split()) >= n,
                  timeout, what=f"{n} sleep processes of {user} on {h.name}")


def user_manager_sid(h, uid=1000):
    pid = h.run(["systemctl", "show", "-p", "MainPID", "--value", f"user@{uid}.service"]).stdout.strip()
    assert pid not in ("", "0"), f"user@{uid}.service has no main process"
    return h.run(["cat", f"/proc/{pid}/sessionid"]).stdout.strip()


def start_c_session(h, user="bob", command="exec sleep 100030"):
    """A logind session with no audit session (ID like c1): su run from no session
    (systemd-run on the systemd host, setsid from nsenter on the elogind host)."""
    before = set(h.session_ids())
    if isinstance(h, HS.SystemdHost):
        h.run(["systemd-run", "-q", f"--unit=lo-su-{user}", "--", "su", "-l", user, "-c", command])
    else:
        h.run(["sh", "-c", f"setsid su -l {user} -c '{command}' </dev/null >/dev/null 2>&1 &"])
    rows = HS.wait_until(lambda: [r for r in h.loginctl_sessions()
                                  if r["user"] == user and r["session"] not in before], 20,
                         what=f"a new session of {user} (su) on {h.name}")
    assert re.fullmatch(r"c\d+", rows[0]["session"]), rows
    wait_sleeps(h, user, 1)
    return rows[0]["session"]


def assert_gone_cleanly(h, s, timeout=5):
    """After logoff: the client exited, the session left logind, its scope is not failed,
    utmp and wtmp say logged out."""
    s.wait_client_exit(10)
    h.wait_session_gone(s.logind_id, timeout)
    if isinstance(h, HS.SystemdHost):
        assert h.unit_state(f"session-{s.logind_id}.scope") in ("inactive", "not-found")
    line = s.tty[len("/dev/"):]
    who = h.run(["who"]).stdout
    assert not re.search(rf"^alice\s+{re.escape(line)}\s", who, re.M), who
    last = h.run(["last", "-F", "-w", "alice"]).stdout
    mine = [l for l in last.splitlines() if re.match(rf"^alice\s+{re.escape(line)}\s", l)]
    assert mine, last
    assert "still logged in" not in mine[0] and "no logout" not in mine[0], last


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------

def test_list_json_fields_of_an_ssh_login(host):
    s = host.login("alice")
    cp = logoff(host, "--list", "--json")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, cp.stderr
    sessions = json.loads(cp.stdout)["sessions"]
    mine = [x for x in sessions if x.get("id") == s.logind_id]
    assert mine, f"{s.logind_id!r} not in {sessions}"
    e = mine[0]
    leader = int(host.session_prop(s.logind_id, "Leader"))
    assert e["id"] == str(s.sid) and isinstance(e["id"], str)
    assert e["audit_session"] == s.sid
    assert e["name"] == s.tty[len("/dev/"):]
    assert (e["user"], e["uid"]) == ("alice", 1000)
    assert e["state"] == "active"
    assert e["type"] == "tty"
    assert e["class"] == "user"
    assert e["service"] == "sshd"
    assert e["seat"] is None and e["vt"] is None
    assert e["remote_host"] == "127.0.0.1"
    assert e["leader"] == leader
    assert isinstance(e["processes"], int) and e["processes"] >= 2
    assert e["current"] is False and e["console"] is False
    assert e["backend"] == "logind"


def test_list_table_keeps_its_header_and_string_ids(host):
    s = host.login("alice")
    c = start_c_session(host)
    cp = logoff(host, "--list")
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    assert lines[0] == TABLE_HEADER
    end = TABLE_HEADER.index("ID") + 2          # IDs are right-aligned in the ID column
    ids = [line[:end].split()[-1] for line in lines[1:]]
    assert s.logind_id in ids and c in ids, cp.stdout


def test_list_is_exactly_loginctl(host):
    """Logins, a c-session, an ssh command; not: user managers, a lingering user, an audit
    session in another PID namespace that logind does not know."""
    host.login("alice")
    start_c_session(host, "alice", "exec sleep 100031")
    if isinstance(host, HS.SystemdHost):
        # bob: lingering, not logged in (a user manager and no session)
        host.run(["loginctl", "enable-linger", "bob"])
        HS.wait_until(lambda: host.unit_state("user@1001.service") == "active", 20, what="bob's user manager")
    else:
        host.login("bob")
    # a root process with a fresh audit session in a PID namespace of its own, not a logind session
    host.run(["sh", "-c", "echo 0 > /proc/self/loginuid && setsid unshare --pid --fork --mount-proc "
                          "sleep 100032 </dev/null >/dev/null 2>&1 &"])
    try:
        ids = set(list_json(host))
        want = set(host.session_ids())
        assert ids == want, f"logoff lists {sorted(map(repr, ids))}, loginctl {sorted(want)}\n{host.ps()}"
    finally:
        # root's, so the users' reset leaves it; as PID 1 of its namespace it
        # would hold the container's shutdown for 90 s
        host.run(["pkill", "-KILL", "-f", "^unshare --pid --fork --mount-proc sleep 100032"], check=False)
        host.run(["pkill", "-KILL", "-x", "-f", "sleep 100032"], check=False)


def test_ssh_command_login_is_active_tty_and_current(host):
    cp = host.ssh("alice", f"echo SID=$(cat /proc/self/sessionid); LC_ALL=C {host.logoff} --list --json",
                  check=False)
    assert cp.returncode == 0, cp.stderr
    sid = int(re.search(r"SID=(\d+)", cp.stdout).group(1))
    data = json.loads(cp.stdout.split("\n", 1)[1])
    mine = [x for x in data["sessions"] if x["audit_session"] == sid]
    assert len(mine) == 1, data
    assert mine[0]["id"] == str(sid)
    assert (mine[0]["state"], mine[0]["type"], mine[0]["name"]) == ("active", "tty", None)
    assert mine[0]["current"] is True
    assert sum(x["current"] for x in data["sessions"]) == 1


def test_container_sessions_not_listed_on_the_host(systemd_host):
    s = systemd_host.login("alice")
    host_pids = set()
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open(f"/proc/{p}/sessionid").read().strip() == str(s.sid):
                host_pids.add(int(p))
        except OSError:
            pass
    assert host_pids, "the container login's processes are not visible from the host?"
    for extra in ([], ["--backend=kernel"]):
        cp = HS._run([HOST_LOGOFF, "--list", "--json", *extra], check=False, env=dict(os.environ, LC_ALL="C"))
        assert_sanitizer_clean(cp)
        assert cp.returncode == 0, cp.stderr
        for e in json.loads(cp.stdout)["sessions"]:
            assert e.get("audit_session") != s.sid and str(e.get("id")) != str(s.sid), (extra, e)
            assert e.get("leader") not in host_pids, (extra, e)


# ---------------------------------------------------------------------------
# What is not a session
# ---------------------------------------------------------------------------

def test_user_manager_is_not_a_session(systemd_host):
    h = systemd_host
    s = h.login("alice")
    HS.wait_until(lambda: h.unit_state("user@1000.service") == "active", 20, what="user@1000.service")
    um = user_manager_sid(h)
    cp = logoff(h, um)
    assert_sanitizer_clean(cp)
    assert cp.returncode == 3, f"rc={cp.returncode}\n{cp.stdout}{cp.stderr}"
    time.sleep(0.5)
    assert h.unit_state("user@1000.service") == "active"
    assert s.client_alive()


def test_plain_logoff_in_a_user_service_ends_nothing(systemd_host):
    h = systemd_host
    s = h.login("alice")
    before = sorted(h.pids_of_user("alice"))
    cp = h.ssh("alice", f"systemd-run --user -q -P --wait sh -c 'LC_ALL=C {h.logoff}; echo rc=$?'",
               check=False, timeout=60)
    out = cp.stdout + cp.stderr
    assert "rc=3" in out, f"{out}\n(user@1000.service now: {h.unit_state('user@1000.service')}; " \
                          f"a lost connection means logoff ended the user manager)"
    assert "not in a login session" in out, out
    assert h.unit_state("user@1000.service") == "active"
    assert s.client_alive() and s.logind_id in h.session_ids()
    assert set(before) <= set(h.pids_of_user("alice")), h.ps("alice")
    cp = h.ssh("alice", f"systemd-run --user -q -P --wait env LC_ALL=C {h.logoff} --list --json", check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert not any(x["current"] for x in json.loads(cp.stdout)["sessions"]), cp.stdout


def test_plain_logoff_in_a_user_service_ends_the_graphical_session(systemd_host):
    """From a user service (a GNOME terminal's shell), the current session is the
    user's graphical one, as loginctl's "auto" has it; never one of their tty logins."""
    h = systemd_host
    tty_login = h.login("bob")
    before = set(h.session_ids())
    h.run(["systemd-run", "-q", "--unit=lo-x11-bob", "-p", "PAMName=login", "-p", "User=bob",
           "-p", "Environment=XDG_SESSION_TYPE=x11 XDG_SESSION_CLASS=user", "--", "sleep", "100041"])
    rows = HS.wait_until(lambda: [r for r in h.loginctl_sessions() if r["user"] == "bob" and r["session"] not in before],
                         20, what="bob's x11 session")
    x11 = rows[0]["session"]
    assert h.session_prop(x11, "Type") == "x11", h.session_prop(x11, "Type")
    cp = h.ssh("bob", f"systemd-run --user -q -P --wait env LC_ALL=C {h.logoff} --list --json", check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    current = [x["id"] for x in json.loads(cp.stdout)["sessions"] if x["current"]]
    assert current == [x11], cp.stdout
    cp = h.ssh("bob", f"systemd-run --user -q -P --wait env LC_ALL=C {h.logoff} /v --timeout=1; echo rc=$?",
               check=False)
    assert "rc=0" in cp.stdout, cp.stdout + cp.stderr
    assert f"Session {x11}:" in cp.stdout, cp.stdout
    h.wait_session_gone(x11, 5)
    assert tty_login.client_alive() and tty_login.logind_id in h.session_ids()
    assert h.unit_state("user@1001.service") == "active"
    h.run(["systemctl", "reset-failed", "lo-x11-bob.service"], check=False)


# ---------------------------------------------------------------------------
# Logging off
# ---------------------------------------------------------------------------

def test_c_session_is_ended(host):
    c = start_c_session(host)
    assert c in list_json(host)
    assert list_json(host)[c]["audit_session"] is None
    cp = logoff(host, c)
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, cp.stderr
    assert session_pids(host, "bob") == [], host.ps("bob")
    host.wait_session_gone(c, 5)


def test_verbose_logoff_of_an_ssh_login(host):
    s = host.login("alice", ESCAPEES + "exec bash -i")
    wait_sleeps(host, "alice", 4)
    t0 = time.monotonic()
    cp = logoff(host, s.logind_id, "/v", "--timeout=1")
    took = time.monotonic() - t0
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, f"rc={cp.returncode}\n{cp.stdout}{cp.stderr}"
    first = cp.stdout.splitlines()[0] if cp.stdout else ""
    assert s.tty[len("/dev/"):] in first, cp.stdout
    sent, before, ended = verbose_counts(cp.stdout)
    # logind ends some processes before logoff's first round: they are
    # counted apart, and the totals add up.
    assert sent is not None and sent + before == ended, cp.stdout
    assert re.search(rf"{ended} processes, idle", first), cp.stdout
    assert session_pids(host, "alice") == [], host.ps("alice")
    assert took < 2.5, f"logoff took {took:.2f} s with a 1 s grace"
    assert_gone_cleanly(host, s)


def test_terminate_session_leaves_a_stubborn_session_closing(systemd_host):
    """What logoff improves on: logind alone leaves the session closing (90 s stop timeout)."""
    h = systemd_host
    s = h.login("alice", ESCAPEES + "exec bash -i")
    wait_sleeps(h, "alice", 4)
    h.run(["loginctl", "terminate-session", s.logind_id])
    time.sleep(3)
    assert h.session_prop(s.logind_id, "State") == "closing"
    assert session_pids(h, "alice"), "the stubborn sleep should outlive terminate-session"


def test_closing_session_is_named_and_ended(systemd_host):
    # elogind forgets a session as soon as its client is gone, leftovers or not: no "closing" there
    h = systemd_host
    s = h.login("alice", ESCAPEES + "exec bash -i")
    wait_sleeps(h, "alice", 4)
    s.close()
    HS.wait_until(lambda: h.session_prop(s.logind_id, "State") == "closing", 10,
                  what=f"session {s.logind_id} to be closing")
    e = list_json(h)[s.logind_id]
    assert e["name"] == s.tty[len("/dev/"):], e
    cp = logoff(h, s.logind_id)
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, cp.stderr
    assert session_pids(h, "alice") == [], h.ps("alice")
    h.wait_session_gone(s.logind_id, 5)


def test_owner_logs_off_her_other_session(host):
    s = host.login("alice", ESCAPEES + "exec bash -i")
    wait_sleeps(host, "alice", 4)
    sleeps = host.run(["pgrep", "-u", "alice", "-x", "sleep"]).stdout.split()
    cp = logoff(host, s.logind_id, user="alice")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, cp.stderr
    s.wait_client_exit(10)
    host.wait_session_gone(s.logind_id, 5)
    left = set(sleeps) & set(host.run(["pgrep", "-u", "alice", "-x", "sleep"], check=False).stdout.split())
    assert not left, host.ps("alice")


def test_other_user_is_denied(host):
    logger = ("sh -c 'trap \"echo GOT-HUP\" HUP; trap \"echo GOT-TERM\" TERM; "
              "while :; do sleep 1000 & wait $!; done' & ")
    s = host.login("alice", logger + "exec bash -i")
    wait_sleeps(host, "alice", 1)
    before = sorted(host.pids_of_user("alice"))
    cp = logoff(host, s.logind_id, user="bob")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 4, f"rc={cp.returncode}\n{cp.stdout}{cp.stderr}"
    assert "org.freedesktop.login1.manage" in cp.stderr, cp.stderr
    time.sleep(0.5)
    assert sorted(host.pids_of_user("alice")) == before
    assert "GOT-" not in s.output()
    assert s.client_alive() and s.logind_id in host.session_ids()


def test_plain_logoff_typed_in_own_login(host):
    s = host.login("alice")
    s.send(f"LC_ALL=C {host.logoff} ; echo rc=$?")
    # logoff is itself a process of the session: it outlives the hangup and finishes
    # the job, within its default grace (5 s) and kill wait
    s.wait_client_exit(15)
    host.wait_session_gone(s.logind_id, 15)
    assert not re.search(r"rc=\d", s.output()), s.output()


def test_escapees_stubborn_and_fork_storm_all_gone(host):
    storm = ("ulimit -u 1500; "
             "for i in $(seq 20); do (while :; do sleep 1000 & (sleep 1000 &) ; done) & done; ")
    s = host.login("alice", ESCAPEES + "(sh -c 'sleep 100005 &' &); " + storm + "exec bash -i")
    wait_pids(host, "alice", 300, timeout=60, what="the fork storm to reach 300 processes")
    cp = logoff(host, s.logind_id, "--timeout=1", timeout=120)
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, f"rc={cp.returncode}\n{cp.stdout}{cp.stderr[-3000:]}"
    left = session_pids(host, "alice")
    assert left == [], host.ps("alice")[-3000:]
    host.wait_session_gone(s.logind_id, 10)


def test_console_session_is_refused(systemd_host):
    h = systemd_host
    h.run(["systemd-run", "-q", "--unit=lo-console", "-p", "PAMName=login", "-p", "User=bob",
           "-p", "TTYPath=/dev/console", "-p", "StandardInput=tty", "-p", "StandardOutput=tty",
           "--", "/bin/bash", "-c", "exec sleep 100040"])
    rows = HS.wait_until(lambda: [r for r in h.loginctl_sessions() if r["user"] == "bob"], 20,
                         what="bob's console session")
    sid = rows[0]["session"]
    assert h.session_prop(sid, "TTY") == "console", rows
    wait_sleeps(h, "bob", 1)
    before = sorted(h.pids_of_user("bob"))
    cp = logoff(h, sid)
    assert_sanitizer_clean(cp)
    assert cp.returncode == 5, f"rc={cp.returncode}\n{cp.stdout}{cp.stderr}"
    time.sleep(0.5)
    assert sorted(h.pids_of_user("bob")) == before
    assert h.session_prop(sid, "State") == "active"
    assert list_json(h)[sid]["console"] is True
    h.run(["systemctl", "stop", "lo-console.service"], check=False)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

def test_bad_input_on_a_logind_host(host):
    cp = logoff(host, "zz9")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 3, f"rc={cp.returncode}\n{cp.stdout}{cp.stderr}"
    cp = logoff(host, "--list", "--backend=bogus")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 2, f"rc={cp.returncode}\n{cp.stdout}{cp.stderr}"
    host.login("alice")
    cp = logoff(host, "--list", "--json", "--backend=kernel")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, cp.stderr
    assert all(x["backend"] == "kernel" for x in json.loads(cp.stdout)["sessions"]), cp.stdout


def test_backend_logind_without_logind_fails_cleanly():
    cp = HS._run([HOST_LOGOFF, "--list", "--backend=logind"], check=False, env=dict(os.environ, LC_ALL="C"))
    assert_sanitizer_clean(cp)
    assert cp.returncode != 0
    assert "logind" in cp.stderr, cp.stderr
    assert "Invalid parameter" not in cp.stderr and "unknown switch" not in cp.stderr, cp.stderr
    assert cp.stdout == "", cp.stdout


def test_ctrl_c_in_the_grace_period_stops_cleanly_and_says_logind_goes_on(host):
    """Interrupted during the grace period, logoff stops before anything is
    stopped or frozen, and says that logind, asked first, may go on."""
    s = host.login("alice", ESCAPEES + "exec bash -i")
    wait_sleeps(host, "alice", 4)
    cp = host.sh(f"{host.logoff} {s.logind_id} --timeout=60 /v & p=$!; sleep 1.5; kill -INT $p; "
                 "wait $p; echo rc=$?", check=False, env={"LC_ALL": "C"}, timeout=60)
    assert "Sanitizer" not in cp.stdout + cp.stderr, cp.stdout + cp.stderr
    assert "rc=130" in cp.stdout, cp.stdout + cp.stderr
    assert re.search(rf"interrupted by SIGINT during the grace period: session {s.logind_id} was not logged off; "
                     r"\d+ process(es are| is) still running, none is stopped", cp.stderr), cp.stderr
    assert "logind was asked to terminate the session before and may go on ending it" in cp.stderr, cp.stderr
    hint = re.search(r"if logind forgets it first, '.*logoff.* --backend=kernel (\d+)' ends what is left", cp.stderr)
    assert hint, cp.stderr
    assert "logged off" not in cp.stdout, cp.stdout
    left = session_pids(host, "alice")
    assert left, "the stubborn process should still run"
    stats = host.run(["ps", "-o", "stat=", "-p", ",".join(map(str, left))], check=False).stdout.split()
    assert not [st for st in stats if st.startswith("T")], host.ps("alice")

    # systemd-logind keeps a closing session; elogind forgets it once its
    # leader is gone, and then its audit session is what is left.
    known = s.logind_id in host.session_ids()
    args = [s.logind_id] if known else ["--backend=kernel", hint.group(1)]
    assert known or isinstance(host, HS.ElogindHost), f"{s.logind_id} forgotten on {host.name}"
    cp = logoff(host, *args, "--timeout=1")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, f"rc={cp.returncode}\n{cp.stdout}{cp.stderr}"
    assert session_pids(host, "alice") == [], host.ps("alice")
    host.wait_session_gone(s.logind_id, 10)

"""The harness itself (tests/hosts.py) against the real hosts: what logind does with
the sessions the tests make.  Independent of logoff's code."""

import os
import re
from pathlib import Path

import pytest

import hosts as HS
from conftest import BUILD, restart

UNSET = "4294967295"


def test_run_is_root_in_no_session(host):
    cp = host.run(["sh", "-c", "id -u; echo $(cat /proc/self/sessionid) $(cat /proc/self/loginuid); hostname"])
    uid, sid, luid, name = cp.stdout.split()
    assert (uid, sid, luid, name) == ("0", UNSET, UNSET, host.hostname)


def test_ssh_login_is_a_logind_session_with_its_audit_id(host):
    s = host.login("alice")
    assert s.tty.startswith("/dev/pts/"), s.output()
    assert s.logind_id == str(s.sid)
    assert s.xdg_id == str(s.sid)
    row = [r for r in host.loginctl_sessions() if r["session"] == s.logind_id]
    assert row and row[0]["user"] == "alice" and row[0]["uid"] == 1000, host.loginctl_sessions()
    assert row[0]["tty"] == s.tty[len("/dev/"):]
    assert host.session_prop(s.logind_id, "Type") == "tty"
    assert host.session_prop(s.logind_id, "State") == "active"
    assert host.session_prop(s.logind_id, "Service") == "sshd"
    assert host.session_prop(s.logind_id, "Remote") == "yes"
    leader = host.session_prop(s.logind_id, "Leader")
    assert host.run(["cat", f"/proc/{leader}/sessionid"]).stdout.strip() == str(s.sid)
    # send() types into the remote shell
    s.send("echo typed-$((6 * 7))")
    s.wait_output(r"typed-42")
    s.close()
    assert not s.client_alive()


def test_one_shot_ssh_command_is_a_session_while_it_runs(host):
    cp = host.ssh("bob", "echo $(cat /proc/self/sessionid); echo ${XDG_SESSION_ID:-none}; loginctl list-sessions --no-legend")
    sid, xdg, *table = cp.stdout.splitlines()
    assert sid == xdg, cp.stdout
    assert any(line.split()[:3] == [sid, "1001", "bob"] for line in table), cp.stdout


def test_user_manager_has_an_audit_session_of_its_own(systemd_host):
    h = systemd_host
    s = h.login("alice")
    HS.wait_until(lambda: h.unit_state("user@1000.service") == "active", 20, what="user@1000.service active")
    pid = h.run(["systemctl", "show", "-p", "MainPID", "--value", "user@1000.service"]).stdout.strip()
    um_sid = h.run(["cat", f"/proc/{pid}/sessionid"]).stdout.strip()
    assert um_sid not in (UNSET, str(s.sid)), (pid, um_sid)
    assert um_sid not in h.session_ids()
    # a user service carries the user manager's audit session, not the login's
    cp = h.ssh("alice", "systemd-run --user -q -P --wait cat /proc/self/sessionid")
    assert cp.stdout.strip() == um_sid, cp.stdout + cp.stderr


def test_lingering_user_has_a_manager_but_no_session(systemd_host):
    h = systemd_host
    h.run(["loginctl", "enable-linger", "bob"])
    HS.wait_until(lambda: h.unit_state("user@1001.service") == "active", 20, what="bob's lingering user@1001")
    assert [r for r in h.loginctl_sessions() if r["user"] == "bob"] == []


def test_systemd_run_su_gives_a_c_session(systemd_host):
    h = systemd_host
    h.run(["systemd-run", "-q", "--unit=lo-su-bob", "--", "su", "-l", "bob", "-c", "exec sleep 100030"])
    row = HS.wait_until(lambda: [r for r in h.loginctl_sessions() if r["user"] == "bob"], 20,
                        what="a logind session of bob from systemd-run su")
    assert re.fullmatch(r"c\d+", row[0]["session"]), row
    assert h.session_prop(row[0]["session"], "Service") in ("su", "su-l")
    h.run(["systemctl", "stop", "lo-su-bob.service"], check=False)


def test_su_from_no_session_gives_a_c_session(host):
    # as the lab does: su run by root in no session (nsenter), in the background
    host.run(["sh", "-c", "setsid su -l bob -c 'exec sleep 100031' </dev/null >/dev/null 2>&1 &"])
    row = HS.wait_until(lambda: [r for r in host.loginctl_sessions() if r["user"] == "bob"], 20,
                        what="a logind session of bob from su")
    assert re.fullmatch(r"c\d+", row[0]["session"]), row
    pids = HS.wait_until(lambda: host.pids_of_user("bob"), 10, what="bob's sleep")
    assert pids


def test_install_logoff_runs_inside(host):
    cp = host.run([host.logoff, "/?"], check=False)
    assert cp.returncode == 0, cp.stderr
    assert "logoff" in cp.stdout
    assert host.logoff == f"/usr/local/bin/logoff-{BUILD.name}"


def test_teardown_leaves_nothing(host):
    """Stop the host and check: no process, cgroup or mount of it left; then start it again."""
    s = host.login("alice", "nohup sleep 100050 >/dev/null 2>&1 & exec bash -i")
    client = s.client.pid
    proc = host.proc.pid
    leader = host.leader
    host.stop()
    assert not HS._alive(proc) and not HS._alive(leader) and not HS._alive(client)
    assert not host.pidfile.exists()
    assert HS._mounts_under(host.root) == []
    if isinstance(host, HS.SystemdHost):
        for d in host._cgroup_dirs():
            assert not d.exists(), f"{d} left"
    else:
        assert HS.elogind_cgroups_left() == []
    # nothing on this machine still runs in the host's root
    stray = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink(f"/proc/{p}/root") .startswith(str(host.root)):
                    stray.append(p)
            except OSError:
                pass
    assert stray == [], [(p, HS._cmdline(int(p))) for p in stray]
    assert not Path(host.root, host.logoff.lstrip("/")).exists()   # stop() removes what it installed
    restart(host)
    assert host.running()
    assert host.loginctl_sessions() == []

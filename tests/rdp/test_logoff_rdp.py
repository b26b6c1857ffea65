"""logoff on real xrdp sessions (issue 8), as far as they are done: a session
with pam_loginuid is an audit session, and logoff ends it the way xrdp expects."""

import json
import os
import re
import subprocess

import pytest

import harness as HR
import rdp as RD
from conftest import LOGOFF, assert_counts_add_up

UNSET = 4294967295


def run_logoff(*args, timeout=60):
    return subprocess.run([LOGOFF, *args], capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)


def assert_logged_off_as_xrdp_expects(xrdp, rdp_client, c, u, s, backend):
    """From the client's side and the host's: the client was told of a logoff,
    nothing of the user is left, no FUSE mount, no X lock or socket, and the
    next login gets the same display."""
    c.wait_exit(15)
    assert c.last_error() == "ERRINFO_LOGOFF_BY_USER", c.output()[-1500:]
    HR.wait_until(lambda: not RD.user_pids(u.uid), 10, what=f"processes of {u.name} to end")
    assert RD.fuse_mounts_under(u.home) == []
    HR.wait_until(lambda: xrdp.residue(homes=[u.home], displays=[s.display]) == [], 10,
                  what="xrdp to clean up after the session")
    c2 = rdp_client(u, backend)
    assert c2.session().display == s.display, "the display number was not freed"


def test_logoff_ends_an_xrdp_session_as_xrdp_expects(xrdp, rdp_users, rdp_client):
    """SIGTERM first (xrdp-chansrv unmounts ~/thinclient_drives), the sesman child
    left to close PAM and free the display by itself: the client sees a logoff, no
    FUSE mount, X lock or socket is left, and the next login gets the same display."""
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(True)
    xrdp.install_desktop(u, "xterm")
    c = rdp_client(u, "Xvnc")
    s = c.session()
    HR.wait_until(lambda: RD.fuse_mounts_under(u.home) == [f"{u.home}/thinclient_drives"], 10,
                  what=f"xrdp-chansrv's FUSE mount in {u.home}")
    sid = s.sessionids()[s.sesman_child]
    assert sid != UNSET

    cp = run_logoff(f":{s.display}.0", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert f"Session {sid}: name :{s.display}," in cp.stdout, cp.stdout
    assert re.search(r"Sent SIGTERM and SIGCONT to \d+ process", cp.stdout), cp.stdout
    assert "root helper" in cp.stdout and "SIGKILL" not in cp.stdout, cp.stdout
    assert_counts_add_up(cp.stdout)

    assert_logged_off_as_xrdp_expects(xrdp, rdp_client, c, u, s, "Xvnc")


def list_json(*args):
    cp = run_logoff("--list", "--json", *args)
    assert cp.returncode == 0, cp.stderr
    return {s["id"]: s for s in json.loads(cp.stdout)["sessions"]}


def sid_of(session):
    """logoff's ID of an xrdp session: its audit session with pam_loginuid,
    else rdp and the pid of sesman's child."""
    audit = session.sessionids()[session.sesman_child]
    return f"rdp{session.sesman_child}" if audit == UNSET else str(audit)


def row_of(session):
    rows = list_json()
    sid = sid_of(session)
    assert sid in rows, (sid, rows)
    return rows[sid]


def all_pids_of(session):
    """The session's processes as the harness sees them, and its escapee."""
    pids = set(session.members) | {session.sesman_child}
    e = session.escapee()
    if e:
        pids.add(e)
    return {p for p in pids if HR.proc_alive(p)}


@pytest.mark.parametrize("loginuid", [False, True], ids=["no-loginuid", "loginuid"])
@pytest.mark.parametrize("backend", ["Xvnc", "Xorg"])
def test_xrdp_session_is_listed_as_xrdp_knows_it(xrdp, rdp_users, rdp_client, backend, loginuid):
    """With Debian's own PAM file (no pam_loginuid) the session is found
    through sesman's child; with pam_loginuid it is an audit session.  Either
    way it is named by its display, typed rdp, shows the client's address, is
    Active while connected and Disc when not, and is one session.  The
    listing says when it is known by its processes alone."""
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(loginuid)
    xrdp.install_desktop(u, "notty")
    c = rdp_client(u, backend)
    s = c.session()
    assert (s.sessionids()[s.sesman_child] != UNSET) == loginuid
    HR.wait_until(s.escapee, 5, what="the desktop's escapee to run")
    sid = sid_of(s)
    row = row_of(s)
    assert (row["name"], row["user"], row["type"], row["state"]) == (f":{s.display}", u.name, "rdp", "active"), row
    assert row["remote_host"] == "127.0.0.1", row
    assert row["membership"] == ("audit" if loginuid else "process-tree"), row
    assert row["service"] == "xrdp-sesman", row
    if not loginuid:
        assert row["audit_session"] is None and row["leader"] == s.sesman_child, row
    cp = run_logoff(sid, "--dry-run")
    assert cp.returncode == 0, cp.stderr
    ours = {int(p) for p in re.findall(r"would end pid (\d+) ", cp.stdout)}
    want = all_pids_of(s)
    assert ours == want, (HR.describe_pids(sorted(ours - want)), HR.describe_pids(sorted(want - ours)))
    assert row["processes"] == len(want), row
    mine = [r for r in list_json().values() if r["user"] == u.name]
    assert len(mine) == 1, mine

    cp = run_logoff("--list")
    assert cp.returncode == 0, cp.stderr
    line = next(ln for ln in cp.stdout.splitlines() if f" {sid} " in ln)
    assert line.split() == [f":{s.display}", u.name, sid, "Active", "rdp", "127.0.0.1"], line
    assert ("pam_loginuid" in cp.stderr) == (not loginuid), cp.stderr

    c.disconnect()
    xrdp.wait_connected(s, False)
    row = row_of(s)
    assert (row["name"], row["state"], row["remote_host"]) == (f":{s.display}", "disconnected", None), row
    cp = run_logoff("--list", f":{s.display}.0")
    assert cp.returncode == 0 and f" {sid} " in cp.stdout and " Disc " in cp.stdout, cp.stdout


@pytest.mark.parametrize("backend", ["Xvnc", "Xorg"])
def test_logoff_ends_an_xrdp_session_without_loginuid(xrdp, rdp_users, rdp_client, backend):
    """Every process ends, the escapee too (its user has no other session); the
    client sees a logoff; xrdp cleans up by itself and gives the display again."""
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(False)
    xrdp.install_desktop(u, "xterm")
    c = rdp_client(u, backend)
    s = c.session()
    escapee = HR.wait_until(s.escapee, 5, what="the desktop's escapee to run")
    HR.wait_until(lambda: RD.fuse_mounts_under(u.home) == [f"{u.home}/thinclient_drives"], 10,
                  what=f"xrdp-chansrv's FUSE mount in {u.home}")

    cp = run_logoff(f":{s.display}.0", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    out = cp.stdout
    assert f"Session rdp{s.sesman_child}: name :{s.display}, user {u.name}, from 127.0.0.1" in out, out
    assert "no audit session and no cgroup" in out and f"{u.name} has no other session" in out, out
    assert "root helper" in out and "SIGKILL" not in out, out
    assert_counts_add_up(out)
    assert not HR.proc_alive(escapee)

    assert_logged_off_as_xrdp_expects(xrdp, rdp_client, c, u, s, backend)
    assert f"rdp{s.sesman_child}" not in list_json()


def test_escapee_is_left_and_named_when_its_user_has_another_session(xrdp, rdp_users, rdp_client):
    """The user has another session (an audit session of its own): a process
    that left the xrdp one with setsid and a scrubbed environment could be that
    session's as well.  logoff ends the session it was asked to, leaves that
    process alone, and /v names it."""
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(False)
    xrdp.install_desktop(u, "notty")
    # A login of the same user as pam_loginuid makes one: a new audit session.
    other = subprocess.Popen(["sh", "-c", f"echo {u.uid} > /proc/self/loginuid && exec setpriv --reuid={u.uid} "
                              f"--regid={u.gid} --init-groups sleep 100000"], stdin=subprocess.DEVNULL)
    try:
        HR.wait_until(lambda: HR.proc_comm(other.pid) == "sleep", 5, what="the other session to start")
        assert HR.proc_sessionid(other.pid) not in (None, UNSET)
        c = rdp_client(u, "Xvnc")
        s = c.session()
        escapee = HR.wait_until(s.escapee, 5, what="the desktop's escapee")
        assert len([r for r in list_json().values() if r["user"] == u.name]) == 2

        cp = run_logoff(sid_of(s), "/v")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert f"{u.name} has other sessions" in cp.stdout, cp.stdout
        assert re.search(r"Left 1 process of %s that is in no session" % u.name, cp.stdout), cp.stdout
        assert f"left: pid {escapee} (sleep)" in cp.stdout, cp.stdout
        assert HR.proc_alive(escapee) and HR.proc_alive(other.pid)
        c.wait_exit(15)
        assert c.last_error() == "ERRINFO_LOGOFF_BY_USER"
        assert HR.proc_alive(escapee) and HR.proc_alive(other.pid)
    finally:
        other.kill()
        other.wait()


@pytest.mark.parametrize("loginuid", [False, True], ids=["no-loginuid", "loginuid"])
def test_plain_logoff_typed_inside_the_desktop_logs_it_off(xrdp, rdp_users, rdp_client, loginuid):
    """The user runs plain ``logoff`` (no root) from inside the desktop: that
    desktop is the current session, and it is logged off."""
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(loginuid)
    out = f"{u.home}/.logoff.out"
    xrdp.install_desktop(u, script=(
        "xlogo -geometry 200x200+50+50 &\n"
        'while [ ! -e "$HOME/.run-logoff" ]; do sleep 0.1; done\n'
        f'{LOGOFF} /v > "{out}" 2>&1\n'
        "exec sleep 100000"))
    c = rdp_client(u, "Xvnc")
    s = c.session()
    HR.wait_until(s.escapee, 5, what="the desktop's escapee to run")
    sid = sid_of(s)
    trigger = f"{u.home}/.run-logoff"
    with open(trigger, "w"):
        pass
    try:
        c.wait_exit(20)
        assert c.last_error() == "ERRINFO_LOGOFF_BY_USER", c.output()[-1500:]
        HR.wait_until(lambda: not RD.user_pids(u.uid), 10, what=f"processes of {u.name} to end")
        text = HR._read(out) or ""
        assert f"Session {sid}: name :{s.display}, user {u.name}" in text, text
        assert f"Session {sid} logged off in" in text, text
        HR.wait_until(lambda: xrdp.residue(homes=[u.home], displays=[s.display]) == [], 10,
                      what="xrdp to clean up after the session")
    finally:
        for f in (trigger, out):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass


@pytest.mark.parametrize("backend", ["Xvnc", "Xorg"])
def test_another_user_lists_xrdp_sessions_without_root(xrdp, rdp_users, rdp_client, backend):
    """Listing needs no root: another user's xrdp session is shown as it is,
    though that user's sockets and environment cannot be read."""
    u, other = rdp_users(2)
    xrdp.set_pam_loginuid(False)
    xrdp.install_desktop(u, "notty")
    c = rdp_client(u, backend)
    s = c.session()
    cp = subprocess.run(["setpriv", f"--reuid={other.uid}", f"--regid={other.gid}", "--init-groups",
                         "--inh-caps=-all", "--", LOGOFF, "--list", "--json"], capture_output=True, text=True,
                        timeout=60, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, cp.stderr
    rows = {r["id"]: r for r in json.loads(cp.stdout)["sessions"]}
    row = rows[f"rdp{s.sesman_child}"]
    assert (row["name"], row["user"], row["type"], row["state"]) == (f":{s.display}", u.name, "rdp", "active"), row


def test_leftovers_of_a_finished_desktop_are_disc_not_a_second_session(xrdp, rdp_users, rdp_client):
    """With pam_loginuid, the desktop's background processes outlive it when
    the user logs out from the desktop: what is left is shown Disc, and a new
    login on the same display is the one Active session there."""
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(True)
    xrdp.install_desktop(u, "notty")
    c = rdp_client(u, "Xvnc")
    s = c.session()
    HR.wait_until(s.escapee, 5, what="the desktop's escapee to run")
    old = sid_of(s)
    # The user logs out from the desktop: its window manager ends.
    os.kill(s.wm_pid(), 9)
    c.wait_exit(15)
    HR.wait_until(lambda: not HR.proc_alive(s.sesman_child), 15, what="sesman's child to clean up")
    row = list_json()[old]
    assert (row["name"], row["type"], row["state"]) == (f":{s.display}", "rdp", "disconnected"), row

    c2 = rdp_client(u, "Xvnc")
    s2 = c2.session()
    assert s2.display == s.display
    new = sid_of(s2)
    # The display is the new session's now: its X server serves it.  What is
    # left of the old one still carries DISPLAY=:N, which makes it a client of
    # that server, not a second session of that name (issue 13, point 7).
    rows = list_json()
    named = [r for r in rows.values() if r["name"] == f":{s.display}"]
    assert [(r["id"], r["state"]) for r in named] == [(new, "active")], rows
    assert (rows[old]["type"], rows[old]["state"]) == ("rdp", "disconnected"), rows[old]
    cp = run_logoff(f":{s.display}", "/v")  # the live one, not what is left of the old one
    assert cp.returncode == 0 and f"Session {new}:" in cp.stdout, cp.stdout + cp.stderr
    c2.wait_exit(15)

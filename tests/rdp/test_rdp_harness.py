"""Tests of the RDP/X2Go harness itself (tests/rdp.py): real xrdp with xfreerdp, real X2Go
with pyhoca-cli.  They must pass before any logoff test is built on them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HR, RD, restart

UNSET = HR.UNSET_SESSIONID


def _pam_original():
    """The original /etc/pam.d/xrdp-sesman (the backup if the file is switched now)."""
    return RD.PAM_BACKUP.read_bytes() if RD.PAM_BACKUP.exists() else RD.PAM_FILE.read_bytes()


def test_pam_switch_and_stale_backup_restored(tmp_path):
    orig = RD.PAM_FILE.read_bytes()
    assert not RD.PAM_BACKUP.exists(), "a PAM backup is left from an earlier test"
    assert b"pam_loginuid" not in orig, "Debian's xrdp-sesman PAM file has no pam_loginuid"
    # A test process that dies right after switching the file (SIGKILL: no cleanup at all).
    code = ("import os, sys; sys.path.insert(0, %r); import rdp; rdp.set_pam_loginuid(True); "
            "os.kill(os.getpid(), 9)" % str(Path(RD.__file__).parent))
    cp = subprocess.run([sys.executable, "-c", code], timeout=30)
    assert cp.returncode == -9
    assert RD.PAM_FILE.read_bytes() != orig
    assert b"session required pam_loginuid.so\n@include common-session" in RD.PAM_FILE.read_bytes()
    assert RD.PAM_BACKUP.read_bytes() == orig
    # What Xrdp.start() does first: the stale backup goes back, byte for byte.
    assert RD.restore_pam() is True
    assert RD.PAM_FILE.read_bytes() == orig
    assert not RD.PAM_BACKUP.exists()
    assert RD.restore_pam() is False


@pytest.mark.parametrize("pam", ["default", "loginuid"])
def test_xrdp_session_facts(xrdp, rdp_users, rdp_client, pam):
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(pam == "loginuid")
    xrdp.install_desktop(u, "xterm")
    c = rdp_client(u, "Xvnc")
    s = c.session()
    assert c.connected() and s.connected
    # sesman's per-session child: root, a child of our sesman, xrdp's own session ID
    assert HR.proc_uid(s.sesman_child) == 0
    assert HR.proc_ppid(s.sesman_child) == xrdp.sesman.pid
    assert f"Session ID: {s.sesman_child}" in xrdp.sesadmin_list(u)
    # the X server: Xvnc :N of the user, N >= 10
    assert s.backend == "Xvnc" and s.display >= 10 and s.user == u.name
    assert HR.proc_comm(s.x_pid) == "Xvnc" and HR.proc_uid(s.x_pid) == u.uid
    assert f":{s.display}" in HR.proc_cmdline(s.x_pid).split()
    # the desktop (xterm exec'd by ~/startwm.sh) carries XRDP_SESSION and DISPLAY=:N.0
    desk = [p for p in s.desktop_pids() if HR.proc_comm(p) == "xterm"]
    assert len(desk) == 1, HR.describe_pids(s.desktop_pids())
    env = RD.proc_environ(desk[0])
    assert env.get("XRDP_SESSION") == "1" and env.get("DISPLAY") == f":{s.display}.0"
    assert HR.proc_ppid(desk[0]) == s.sesman_child and s.wm_pid() == desk[0]
    # audit sessions: none without pam_loginuid, one shared by all with it
    sids = s.sessionids()
    if pam == "default":
        assert set(sids.values()) == {UNSET}, sids
        assert not HR.utmp_user_entries(u.name)
    else:
        assert len(set(sids.values())) == 1 and UNSET not in sids.values(), sids
        marker = (Path(u.home) / ".rdp-desktop.started").read_text().split()
        assert int(marker[1]) == sids[s.sesman_child]
    # the escapee: the user's, reparented, own POSIX session, no XRDP_SESSION/DISPLAY, not a member
    e = HR.wait_until(s.escapee, 5, what="the desktop's escapee to run")
    assert e not in s.members and HR.proc_uid(e) == u.uid
    assert HR.proc_ppid(e) not in s.members
    assert os.getsid(e) == e
    eenv = RD.proc_environ(e)
    assert "XRDP_SESSION" not in eenv and "DISPLAY" not in eenv
    assert HR.proc_sessionid(e) == sids[s.sesman_child]
    # xrdp-chansrv mounts ~/thinclient_drives (FUSE) while the session runs
    HR.wait_until(lambda: RD.fuse_mounts_under(u.home) == [f"{u.home}/thinclient_drives"], 10,
                  what=f"xrdp-chansrv's FUSE mount in {u.home}")
    png = c.screenshot(Path(xrdp.workdir) / f"facts-{pam}.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("backend", ["Xvnc", "Xorg"])
def test_xrdp_disconnect_reconnect_end(xrdp, rdp_users, rdp_client, backend):
    (u,) = rdp_users(1)
    xrdp.install_desktop(u, "notty")
    c = rdp_client(u, backend)
    s = c.session()
    assert s.backend == backend and s.connected
    wm = s.wm_pid()
    assert wm and HR.proc_comm(wm) == "sh", HR.describe_pids(s.members)
    escapee = HR.wait_until(s.escapee, 5, what="the desktop's escapee to run")
    c.disconnect()
    assert not c.alive()
    s2 = xrdp.wait_connected(s, False)
    assert s2.sesman_child == s.sesman_child and s2.x_pid == s.x_pid
    assert s2.wm_pid() == wm and s2.escapee() == escapee, "the desktop must keep running while disconnected"
    assert not c.connected()
    c.reconnect()
    s3 = c.session()
    assert c.connected() and s3.sesman_child == s.sesman_child and s3.display == s.display
    assert s3.wm_pid() == wm
    assert "reconnect" in c.timings
    # ending it the way xrdp expects: the client sees a logoff, nothing is left
    notes = xrdp.end_session(s3, grace=5)
    assert notes == []
    rc = c.wait_exit(15)
    assert c.last_error() == "ERRINFO_LOGOFF_BY_USER", (rc, c.output()[-1500:])
    assert not RD.user_pids(u.uid) or HR.wait_until(lambda: not RD.user_pids(u.uid), 5,
                                                    what=f"processes of {u.name} to end")
    assert xrdp.residue(homes=[u.home], displays=[s.display]) == []


def test_x2go_start_suspend_resume_terminate(x2go, rdp_users):
    (u,) = rdp_users(1)
    c = x2go.client(u).start("xterm")
    row = c.row()
    assert row["status"] == "R" and row["uname"] == u.name and row["display"] >= 50
    agent = c.agent_pid()
    assert HR.proc_comm(agent) == "x2goagent" and HR.proc_uid(agent) == u.uid
    first_sid = HR.proc_sessionid(agent)
    assert first_sid not in (None, UNSET)
    assert [r for r in RD.x2go_list_sessions() if r["session"] == c.session_id][0]["status"] == "R"
    c.suspend()
    assert c.status() == "S" and not c.alive() and HR.proc_alive(agent)
    assert [r for r in RD.x2go_list_sessions() if r["session"] == c.session_id][0]["status"] == "S"
    c.resume()
    assert c.status() == "R" and c.alive()
    sids = {HR.proc_sessionid(p) for p in RD.user_pids(u.uid)}
    assert first_sid in sids and len(sids - {UNSET}) >= 2, "a resume is a second audit session"
    c.terminate()
    assert c.status() == "F"
    HR.wait_until(lambda: not HR.proc_alive(agent), 10, what=f"x2goagent {agent} to end")


def test_stop_leaves_nothing(xrdp, x2go, xvfb, rdp_users, rdp_client):
    """Stop both servers with sessions in every state; nothing of them may be left."""
    u1, u2, u3 = rdp_users(3)
    orig = _pam_original()
    xrdp.set_pam_loginuid(True)
    for u in (u1, u2):
        xrdp.install_desktop(u, "xterm")
    rdp_client(u1, "Xvnc")                        # connected
    c2 = rdp_client(u2, "Xorg")                   # disconnected
    c2.disconnect()
    s2 = xrdp.wait_connected(xrdp.session_of(u2), False)
    xc = x2go.client(u3).start("xterm")           # suspended
    xc.suspend()
    displays = [s.display for s in xrdp.sessions()]
    homes = [u1.home, u2.home, u3.home]
    assert s2.display in displays
    try:
        xnotes = xrdp.stop()
        gnotes = x2go.stop()
        assert xnotes == [], xnotes
        for u in (u1, u2, u3):
            assert RD.user_pids(u.uid) == [], HR.describe_pids(RD.user_pids(u.uid))
        for n in displays + [xc.display() or 50]:
            assert not os.path.exists(f"/tmp/.X{n}-lock"), n
        for h in homes:
            assert RD.fuse_mounts_under(h) == []
        assert RD.PAM_FILE.read_bytes() == orig and not RD.PAM_BACKUP.exists()
        assert not RD.RUN_XRDP.exists() or not [e for e in os.listdir(RD.SOCKDIR)
                                                 if any(e.endswith(f"_{n}") for n in displays)]
        assert not xrdp.running() and not x2go.sshd.running()
        assert RD.x2go_db_sessions(u3) == []
        assert not [n for n in gnotes if "processes of" in n], gnotes
    finally:
        restart(xrdp)
        restart(x2go)

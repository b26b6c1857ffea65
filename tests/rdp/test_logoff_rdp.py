"""logoff on real xrdp sessions (issue 8), as far as they are done: a session
with pam_loginuid is an audit session, and logoff ends it the way xrdp expects."""

import re
import subprocess

import harness as HR
import rdp as RD
from conftest import LOGOFF

UNSET = 4294967295


def run_logoff(*args, timeout=60):
    return subprocess.run([LOGOFF, *args], capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)


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

    c.wait_exit(15)
    assert c.last_error() == "ERRINFO_LOGOFF_BY_USER", c.output()[-1500:]
    HR.wait_until(lambda: not RD.user_pids(u.uid), 10, what=f"processes of {u.name} to end")
    assert RD.fuse_mounts_under(u.home) == []
    HR.wait_until(lambda: xrdp.residue(homes=[u.home], displays=[s.display]) == [], 10,
                  what="xrdp to clean up after the session")

    c2 = rdp_client(u, "Xvnc")
    assert c2.session().display == s.display, "the display number was not freed"

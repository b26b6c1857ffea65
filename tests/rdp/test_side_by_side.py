"""Every kind of remote session on one host at once (issue 8's closing
picture): an xrdp session with a client, an xrdp session without one, an
X2Go session and an ssh login, listed side by side, then each logged off.
Run with ``-s`` to see the listing and what logoff said."""

import json
import subprocess

import harness as HR
import rdp as RD
from conftest import LOGOFF, assert_counts_add_up

UNSET = 4294967295


def run_logoff(*args):
    cp = subprocess.run([LOGOFF, *args], capture_output=True, text=True, timeout=90,
                        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)
    print(f"# logoff {' '.join(args)}\n{cp.stdout}{cp.stderr}", end="")
    return cp


def test_xrdp_connected_xrdp_disconnected_x2go_and_ssh_side_by_side(xrdp, x2go, rdp_users, rdp_client):
    u1, u2, u3, u4 = rdp_users(4)
    xrdp.set_pam_loginuid(False)            # Debian's own PAM file
    xrdp.install_desktop(u1, "xterm")
    c1 = rdp_client(u1, "Xvnc")
    s1 = c1.session()
    xrdp.set_pam_loginuid(True)             # with pam_loginuid
    xrdp.install_desktop(u2, "xterm")
    c2 = rdp_client(u2, "Xorg")
    s2 = c2.session()
    c2.disconnect()
    xrdp.wait_connected(s2, False)
    x = x2go.client(u3).start("xterm")
    ssh = x2go.sshd.login(u4)

    want = {
        u1.name: (f"rdp{s1.sesman_child}", f":{s1.display}", "Active", "rdp", "127.0.0.1"),
        u2.name: (str(HR.proc_sessionid(s2.sesman_child)), f":{s2.display}", "Disc", "rdp", ""),
        u3.name: (str(HR.proc_sessionid(x.agent_pid())), f":{x.display()}", "Active", "x2go", "127.0.0.1"),
        u4.name: (str(ssh.sid), ssh.line, "Active", "tty", "127.0.0.1"),
    }
    def rows():
        cp = run_logoff("--list")
        assert cp.returncode == 0, cp.stderr
        got = {}
        for line in cp.stdout.splitlines()[1:]:
            f = line.lstrip(" >").split()
            if len(f) >= 5 and f[1] in want:
                got[f[1]] = (f[2], f[0], f[3], f[4], f[5] if len(f) > 5 else "")
        return got
    assert rows() == want

    for u, name in ((u1, want[u1.name][1]), (u2, want[u2.name][1]), (u3, want[u3.name][1]),
                    (u4, want[u4.name][1])):
        cp = run_logoff(name, "/v")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert_counts_add_up(cp.stdout)
        HR.wait_until(lambda: not RD.user_pids(u.uid), 15, what=f"processes of {u.name} to end")
    ssh.wait_client_exit(15)
    c1.wait_exit(15)
    assert c1.last_error() == "ERRINFO_LOGOFF_BY_USER"
    assert [r["status"] for r in RD.x2go_db_sessions(u3)] == ["F"]
    assert rows() == {}
    cp = run_logoff("--list")
    assert cp.returncode == 0

"""Ways out of an xrdp session without pam_loginuid, closed (issue 13,
points 3, 4 and 7), on real xrdp with a real RDP client.

A session known by its process tree takes: every descendant of sesman's
session child whatever it did to its loginuid; processes carrying its
XRDP_SESSION whose DISPLAY names no other session of the user; and, when the
user has no other session, their processes outside every session started
since, but never one of another PID namespace, nor a service's child.  What
that leaves, /v names.  A display name belongs to the session whose X server
serves it, not to a login that merely carries that DISPLAY.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import harness as HR
import rdp as RD
from conftest import LOGOFF

UNSET = 4294967295


def run_logoff(*args, timeout=60):
    return subprocess.run([LOGOFF, *args], capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)


def list_json():
    cp = run_logoff("--list", "--json")
    assert cp.returncode == 0, cp.stderr
    return {s["id"]: s for s in json.loads(cp.stdout)["sessions"]}


def pid_file(u, name):
    """The pid a desktop wrote to ~/NAME, once it is there and alive."""
    def read():
        txt = HR._read(Path(u.home) / name)
        try:
            pid = int((txt or "").strip())
        except ValueError:
            return None
        return pid if HR.proc_alive(pid) else None
    return HR.wait_until(read, 10, what=f"the desktop's {name}")


# A double-forked process that keeps XRDP_SESSION but names a display no
# session has.
OTHER_DISPLAY = """( setsid env DISPLAY=:99 sh -c 'echo $$ > "$HOME/.other-display.pid"; exec sleep 100005' & ) &
"""

# A descendant whose loginuid was unset writes one (0, root's) and so gets an
# audit session of its own; a double-forked child of it keeps that session.
OWN_LOGINUID = r"""( sh -c 'echo 0 > /proc/self/loginuid && echo $$ > "$HOME/.loginuid.pid" && (setsid sh -c "echo \$\$ > \"\$HOME/.loginuid-child.pid\"; exec sleep 100007" &) ; exec sleep 100006' ) &
"""


def test_a_process_naming_a_display_no_session_has_is_still_ended(xrdp, rdp_users, rdp_client):
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(False)
    xrdp.install_desktop(u, "notty", escapees=False, script=OTHER_DISPLAY + RD._DESKTOPS["notty"])
    c = rdp_client(u, "Xvnc")
    s = c.session()
    odd = pid_file(u, ".other-display.pid")
    env = RD.proc_environ(odd)
    assert env.get("XRDP_SESSION") and env.get("DISPLAY") == ":99", env
    cp = run_logoff(f":{s.display}", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    HR.wait_until(lambda: not HR.proc_alive(odd), 5, what=f"pid {odd} (DISPLAY=:99) to end")
    c.wait_exit(15)


def test_a_descendant_that_wrote_its_own_loginuid_is_part_of_the_session(xrdp, rdp_users, rdp_client):
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(False)
    xrdp.install_desktop(u, "notty", escapees=False, script=OWN_LOGINUID + RD._DESKTOPS["notty"])
    c = rdp_client(u, "Xvnc")
    s = c.session()
    writer = pid_file(u, ".loginuid.pid")
    child = pid_file(u, ".loginuid-child.pid")
    own = HR.proc_sessionid(writer)
    assert own not in (None, UNSET) and HR.proc_sessionid(child) == own
    assert Path(f"/proc/{writer}/loginuid").read_text().strip() == "0"

    rows = list_json()
    assert str(own) not in rows, f"an audit session made inside the desktop is listed as a login: {rows[str(own)]}"
    assert not [r for r in rows.values() if r["user"] == "root" and r["name"] == f":{s.display}"], rows
    cp = run_logoff(f":{s.display}", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    HR.wait_until(lambda: not HR.proc_alive(writer) and not HR.proc_alive(child), 5,
                  what="the processes with their own loginuid to end")
    c.wait_exit(15)
    assert str(own) not in list_json()


def test_the_orphans_rule_takes_no_other_namespaces_and_no_services_children(xrdp, rdp_users, rdp_client):
    """The user has no other session, so their processes outside every session
    started since are the desktop's, but not one in another PID namespace
    (its parent gone) and not one a root service started for them."""
    (u,) = rdp_users(1)
    xrdp.set_pam_loginuid(False)
    xrdp.install_desktop(u, "notty")
    c = rdp_client(u, "Xvnc")
    s = c.session()
    escapee = HR.wait_until(s.escapee, 5, what="the desktop's escapee")
    user = ["setpriv", f"--reuid={u.uid}", f"--regid={u.gid}", "--init-groups"]
    # A root "service" that started a process for the user and stays its parent.
    service = subprocess.Popen(["sh", "-c", " ".join(user) + " sleep 100008; :"], stdin=subprocess.DEVNULL)
    # The user's own PID namespace, its unshare parent gone.
    ns = subprocess.Popen([*user, "unshare", "-Urpf", "sleep", "100009"], stdin=subprocess.DEVNULL)
    try:
        def started():
            kids = {HR.proc_cmdline(p): p for p in RD.user_pids(u.uid)}
            return kids if "sleep 100008" in kids and "sleep 100009" in kids else None
        kids = HR.wait_until(started, 10, what="the service's child and the namespace's sleep")
        served, in_ns = kids["sleep 100008"], kids["sleep 100009"]
        ns.kill()
        ns.wait()
        HR.wait_until(lambda: HR.proc_ppid(in_ns) != ns.pid, 5, what="the namespace's sleep to be reparented")

        cp = run_logoff(f":{s.display}", "/v")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert not HR.proc_alive(escapee), "the escapee is an orphan of the desktop: it must end"
        assert HR.proc_alive(served) and HR.proc_alive(in_ns), cp.stdout
        assert f"left: pid {served} (sleep)" in cp.stdout and f"left: pid {in_ns} (sleep)" in cp.stdout, cp.stdout
        c.wait_exit(15)
    finally:
        service.kill()
        service.wait()
        HR.kill_until_gone(lambda: [p for p in RD.user_pids(u.uid) if HR.proc_cmdline(p) in
                                    ("sleep 100008", "sleep 100009")], 10, "the test's sleeps")


def test_a_login_carrying_a_display_is_not_that_displays_session(xrdp, rdp_users, rdp_client):
    """A login of another user with no terminal and DISPLAY=:N is a client of
    the X server of :N, not the session named :N (point 7): the listing does
    not name it :N, and logoff :N ends the real desktop, disconnected or not."""
    u, hostile = rdp_users(2)
    xrdp.set_pam_loginuid(False)
    xrdp.install_desktop(u, "notty")
    c = rdp_client(u, "Xvnc")
    s = c.session()
    decoy = subprocess.Popen(["sh", "-c", f"echo {hostile.uid} > /proc/self/loginuid && exec setpriv "
                              f"--reuid={hostile.uid} --regid={hostile.gid} --init-groups "
                              f"env DISPLAY=:{s.display} sleep 100000"], stdin=subprocess.DEVNULL)
    try:
        HR.wait_until(lambda: HR.proc_comm(decoy.pid) == "sleep", 5, what="the decoy login")
        decoy_sid = HR.proc_sessionid(decoy.pid)
        assert decoy_sid not in (None, UNSET)
        c.disconnect()
        xrdp.wait_connected(s, False)

        rows = list_json()
        assert rows[str(decoy_sid)]["name"] != f":{s.display}", rows[str(decoy_sid)]
        named = [r["id"] for r in rows.values() if r["name"] == f":{s.display}"]
        assert named == [f"rdp{s.sesman_child}"], rows
        cp = run_logoff(f":{s.display}", "/v")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert f"Session rdp{s.sesman_child}: name :{s.display}" in cp.stdout, cp.stdout
        assert HR.proc_alive(decoy.pid), "the decoy was ended in place of the desktop"
        HR.wait_until(lambda: not HR.proc_alive(s.x_pid), 10, what="the desktop's X server to end")
    finally:
        decoy.kill()
        decoy.wait()

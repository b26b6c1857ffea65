"""The xrdp + Xfce harness itself (tests/xfce.py on tests/hosts.py XfceHost): a real
xfreerdp logs a user in to xrdp inside the systemd-logind container and gets a real
Xfce 4.18 desktop that is a logind session; a normal Xfce logout ends it the way a
desktop ends; a disconnected session stays and is given back at a reconnect.  No
logoff behaviour beyond ``--list``."""

import re
import time

import hosts as HS
import xfce as XF
from conftest import list_json, logoff, rows_of


def in_user_manager(s, comm):
    """PIDs of the user's processes named ``comm`` in user@UID.service."""
    return [p["pid"] for p in s.procs.values() if p["uid"] == s.uid and p["comm"] == comm
            and f"/user@{s.uid}.service/" in p["cgroup"]]


def test_rdp_login_is_a_logind_x11_session_running_xfce(xfce_host, rdp_login):
    """The session is logind's (cN: Debian's xrdp-sesman PAM file has no pam_loginuid),
    type x11, service xrdp-sesman, led by sesman's child; Xfce runs in its scope; the
    user's bus and xfconfd run in the user manager; xrdp-chansrv mounted
    ~/thinclient_drives; logoff lists it as the rdp session :10."""
    h = xfce_host
    c = rdp_login("alice")
    s = c.session()
    assert (s.display, s.backend, s.user, s.connected) == (10, "Xorg", "alice", True), s
    sid = s.logind_id
    assert sid and re.fullmatch(r"c\d+", sid), s
    assert [x["session"] for x in h.loginctl_sessions() if x["user"] == "alice"] == [sid]
    props = {p: h.session_prop(sid, p) for p in ("Type", "Service", "Name", "Class", "State", "Leader",
                                                 "Display", "Scope", "Remote")}
    assert props == {"Type": "x11", "Service": "xrdp-sesman", "Name": "alice", "Class": "user",
                     "State": "active", "Leader": str(s.sesman_child), "Display": ":10",
                     "Scope": f"session-{sid}.scope", "Remote": "no"}, props
    assert h.unit_state(f"session-{sid}.scope") == "active"
    assert s.scope == f"/user.slice/user-1000.slice/session-{sid}.scope", s.scope
    assert {s.sesman_child, s.x_pid} <= set(s.scope_pids), s.describe(s.scope_pids)
    for comm in XF.DESKTOP:
        assert s.pids_of(comm), f"no {comm} in {s.scope}:\n" + "\n".join(s.describe(s.scope_pids))
    assert XF.session_manager_state(h, s) == "idle"
    # the session bus and xfconfd belong to the user manager, not to the session
    assert in_user_manager(s, "dbus-daemon") and in_user_manager(s, "xfconfd"), s.describe(s.members)
    assert not s.pids_of("dbus-daemon") and not s.pids_of("xfconfd"), s.describe(s.scope_pids)
    assert [(m["target"], m["fstype"]) for m in s.fuse] == [("/home/alice/thinclient_drives",
                                                             "fuse.xrdp-chansrv")], s.fuse
    assert set(s.xfiles) == {"/tmp/.X10-lock", "/tmp/.X11-unix/X10"} and s.xfiles["/tmp/.X10-lock"] == str(s.x_pid)

    rows = rows_of(h, "alice")
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["id"], row["name"], row["type"]) == (sid, ":10", "rdp"), row
    print(f"login: {c.timings['login']:.2f} s")


def test_xfce_logout_ends_the_session(xfce_host, rdp_login):
    """xfce4-session-logout --logout on the session's bus: the client is told the user
    logged off and exits, sesman's child cleans up and exits by itself, logind forgets
    the session, no FUSE mount and no X lock is left, and the display is free again."""
    h = xfce_host
    c = rdp_login("alice")
    s = c.session()
    sid = s.logind_id
    sesman_log = h.run(["wc", "-l", "/var/log/xrdp-sesman.log"]).stdout.split()[0]
    t0 = time.monotonic()
    cp = XF.logout(h, s)
    assert cp.returncode == 0, cp
    rc = c.wait_exit(30)
    t_client = time.monotonic() - t0
    assert (rc, c.last_error()) == (12, "ERRINFO_LOGOFF_BY_USER"), f"rc={rc}\n{c.output()[-1500:]}"
    h.wait_session_gone(sid, 30)
    HS.wait_until(lambda: s.sesman_child not in XF.sesman_children(h), 15,
                  what=f"sesman child {s.sesman_child} to exit by itself")
    t_gone = time.monotonic() - t0
    new_log = h.run(["tail", "-n", f"+{int(sesman_log) + 1}", "/var/log/xrdp-sesman.log"]).stdout
    assert f"Calling auth_stop_session and auth_end from pid {s.sesman_child}" in new_log, new_log
    assert f"Process {s.sesman_child} has exited" in new_log, new_log
    assert h.unit_state(f"session-{sid}.scope") in ("inactive", "not-found")
    snap = XF.snapshot(h)
    assert XF.session_of(h, "alice", snap) is None
    assert XF.fuse_mounts(h, "/home/alice", snap) == []
    assert XF.x_files(h, 10, snap) == {}
    assert [e for e in snap["sockdir"] if e.endswith("_10")] == [], snap["sockdir"]
    # what is left of alice is her user manager (and the bus and xfconfd in it), which
    # stops by itself UserStopDelaySec later
    left = [p for p in snap["procs"] if p["uid"] == 1000]
    assert all("/user@1000.service/" in p["cgroup"] for p in left), left
    print(f"logout: client exited after {t_client:.2f} s, session gone after {t_gone:.2f} s")

    c2 = rdp_login("alice")
    s2 = c2.session()
    assert s2.display == 10 and s2.logind_id != sid and s2.sesman_child != s.sesman_child, s2


def test_disconnect_leaves_the_session_and_a_reconnect_gets_it_back(xfce_host, rdp_login):
    """A killed client leaves the session running without a client (logoff: Disc,
    logind still lists it; xrdp-chansrv unmounts ~/thinclient_drives); a new client
    with the same size gets the same session (same sesman child, same xfce4-session,
    same logind ID) and the drives again."""
    h = xfce_host
    c = rdp_login("alice")
    s = c.session()
    sid, desktop = s.logind_id, s.pids_of("xfce4-session")
    d = c.disconnect()
    assert c.returncode == -9, c.returncode
    assert (d.sesman_child, d.logind_id, d.pids_of("xfce4-session"), d.connected) == \
        (s.sesman_child, sid, desktop, False), d
    assert not d.desktop_missing(), d.describe(d.scope_pids)
    # xrdp-chansrv keeps running but unmounts the client's drives when the client goes
    assert d.pids_of("xrdp-chansrv") == s.pids_of("xrdp-chansrv") and d.fuse == [], d
    assert sid in h.session_ids()
    row = list_json(h)[sid]
    assert (row["name"], row["state"], row["type"]) == (":10", "disconnected", "rdp"), row
    cp = logoff(h, "--list")
    assert cp.returncode == 0, cp.stderr
    line = next((ln for ln in cp.stdout.splitlines() if f" {sid} " in ln), None)
    assert line is not None and line.split()[:5] == [":10", "alice", sid, "Disc", "rdp"], cp.stdout

    c.reconnect()
    r = c.session()
    assert (r.sesman_child, r.logind_id, r.pids_of("xfce4-session"), r.connected) == \
        (s.sesman_child, sid, desktop, True), r
    assert [m["target"] for m in r.fuse] == ["/home/alice/thinclient_drives"], r.fuse
    assert list_json(h)[sid]["state"] == "active"
    line = next((ln for ln in logoff(h, "--list").stdout.splitlines() if f" {sid} " in ln), "")
    assert line.split()[:5] == [":10", "alice", sid, "Active", "rdp"], line
    print(f"reconnect: {c.timings['reconnect']:.2f} s")

"""logoff on the host people run for remote desktops (issue 14): systemd-logind
252, xrdp 0.9.21 with xorgxrdp, a real Xfce 4.18 desktop, a real xfreerdp
client, and xrdp-chansrv's FUSE mount ~/thinclient_drives.

* logoff asks the desktop to log out first, as alice, on her session's bus,
  through the bus name of the xfce4-session that runs in that very session:
  Xfce logs out as from its own menu, and nothing needs a signal;
* where the desktop cannot be asked (its session manager stopped), the
  session ends in xrdp's order (SIGTERM first, SIGHUP only after, sesman's
  child left to close PAM), and logind is asked only then: before, logind's
  own SIGTERM+SIGHUP killed xrdp-chansrv before it unmounted its drive, and
  the mount was left stale ("Permission denied" for the next login and for
  userdel -r);
* either way: the client is told it was logged off, sesman's child exits by
  itself, logind forgets the session, no mount, socket or X lock is left, and
  the next login gets the same display."""

import shlex
import shutil
import time

import hosts as HS
import xfce as XF
from conftest import BUILD, list_json, logoff, rows_of


def assert_nothing_broken(h, c, s, out):
    sid = s.logind_id
    rc = c.wait_exit(30)
    assert (rc, c.last_error()) == (12, "ERRINFO_LOGOFF_BY_USER"), f"rc={rc}\n{c.output()[-1500:]}\n{out}"
    h.wait_session_gone(sid, 30)
    HS.wait_until(lambda: s.sesman_child not in XF.sesman_children(h), 15,
                  what=f"sesman child {s.sesman_child} to exit by itself")
    snap = XF.snapshot(h)
    assert XF.session_of(h, "alice", snap) is None
    assert XF.fuse_mounts(h, "/home/alice", snap) == [], (XF.fuse_mounts(h, "/home/alice", snap), out)
    assert XF.x_files(h, 10, snap) == {}, out
    assert [e for e in snap["sockdir"] if e.endswith("_10")] == [], snap["sockdir"]
    # The drive's mount point is a plain directory again, not a dead FUSE mount.
    cp = h.run(["ls", "-ld", "/home/alice/thinclient_drives"], check=False)
    assert "Permission denied" not in cp.stderr and "Transport endpoint" not in cp.stderr, cp.stderr
    assert h.unit_state(f"session-{sid}.scope") in ("inactive", "not-found")
    return snap


def test_logoff_asks_xfce_to_log_out_and_leaves_nothing_broken(xfce_host, rdp_login):
    h = xfce_host
    c = rdp_login("alice")
    s = c.session()
    sid, manager = s.logind_id, s.pids_of("xfce4-session")
    assert len(manager) == 1, s.describe(s.scope_pids)
    listing_before = logoff(h, "--list").stdout
    mounts_before = h.run(["findmnt", "-rn", "-o", "TARGET,FSTYPE", "-t", "fuse.xrdp-chansrv"], check=False).stdout
    assert "/home/alice/thinclient_drives" in mounts_before, mounts_before

    t0 = time.monotonic()
    cp = logoff(h, ":10", "/v")
    took = time.monotonic() - t0
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    assert (f"Asked the Xfce session manager (pid {manager[0]}) to log out on unix:path=/run/user/1000/bus, "
            "so that its applications save") in out, out
    assert "The desktop logged out by itself in" in out, out
    assert "Sent SIGTERM and SIGCONT to 0 processes" in out, out
    assert out.index("Asked the Xfce session manager") < out.index("Sent SIGTERM"), out
    assert_nothing_broken(h, c, s, out)
    listing_after = logoff(h, "--list").stdout
    mounts_after = h.run(["findmnt", "-rn", "-o", "TARGET,FSTYPE", "-t", "fuse.xrdp-chansrv"], check=False).stdout
    assert mounts_after.strip() == "", mounts_after
    print(f"\nlisting before:\n{listing_before}\nmounts before:\n{mounts_before}\nlogoff :10 /v ({took:.2f} s):\n"
          f"{out}\nlisting after:\n{listing_after}\nmounts after:\n{mounts_after or '(none)'}")

    c2 = rdp_login("alice")
    s2 = c2.session()
    assert s2.display == 10 and s2.logind_id != sid, s2


def test_a_desktop_that_cannot_be_asked_ends_in_xrdps_order(xfce_host, rdp_login):
    """xfce4-session stopped (SIGSTOP): the Logout call times out, and the
    session is ended by signals, in xrdp's order; chansrv unmounts."""
    h = xfce_host
    c = rdp_login("alice")
    s = c.session()
    sid, manager = s.logind_id, s.pids_of("xfce4-session")
    chansrv = s.pids_of("xrdp-chansrv")
    assert chansrv and s.fuse, s
    h.kill_pids(manager, "STOP")
    cp = logoff(h, ":10", "/v")
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    assert f"Could not ask the Xfce session manager (pid {manager[0]}) to log out" in out, out
    assert "Sent SIGTERM and SIGCONT to" in out, out
    assert "Left 1 root helper of the session to exit by itself once the user's processes were gone: 1 did" in out, out
    assert f"Asked logind to terminate session {sid} once its processes were gone" in out, out
    assert f"Asked logind to terminate session {sid}\n" not in out, out
    assert_nothing_broken(h, c, s, out)


def test_listing_and_dry_run_name_the_desktop(xfce_host, rdp_login):
    h = xfce_host
    c = rdp_login("alice")
    s = c.session()
    manager = s.pids_of("xfce4-session")
    row = rows_of(h, "alice")[0]
    assert (row["name"], row["type"], row["state"]) == (":10", "rdp", "active"), row
    cp = logoff(h, ":10", "--dry-run", "--warn")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert f"would ask the Xfce session manager (pid {manager[0]}) to log out" in cp.stdout, cp.stdout
    assert "would warn its user on its terminals and on its desktop, and wait 2 minutes" in cp.stdout, cp.stdout
    assert "SIGTERM and SIGCONT, SIGHUP after" in cp.stdout, cp.stdout
    assert s.logind_id in list_json(h)


def test_warn_shows_a_critical_notification_then_logs_off(xfce_host, rdp_login):
    """--warn on a desktop: a critical notification on the session's bus,
    answered by the session's notification server (xfce4-notifyd, D-Bus
    activated), read back from the bus with dbus-monitor as alice; then the
    desktop is asked to log out once the grace period is over."""
    h = xfce_host
    c = rdp_login("alice")
    s = c.session()
    mon_log = "/tmp/lo-notify-monitor.log"
    h.run(["rm", "-f", mon_log])
    env = " ".join(f"{k}={v}" for k, v in XF.user_env("alice", s.display).items())
    h.sh(f"setsid -f setpriv --reuid=1000 --regid=1000 --init-groups -- env {env} "
         f"dbus-monitor --session \"interface='org.freedesktop.Notifications'\" "
         f"\"type='method_return'\" > {mon_log} 2>&1 < /dev/null")
    HS.wait_until(lambda: "NameAcquired" in h.run(["cat", mon_log], check=False).stdout, 10,
                  what="dbus-monitor on alice's bus")
    t0 = time.monotonic()
    cp = logoff(h, ":10", "/v", "--warn=Disks change at 02:00", "--grace=3")
    took = time.monotonic() - t0
    out = cp.stdout + cp.stderr
    h.run(["pkill", "-u", "alice", "-x", "dbus-monitor"], check=False)
    mon = h.run(["cat", mon_log], check=False).stdout
    assert cp.returncode == 0, out
    assert took >= 3, took
    assert "Showed it as a desktop notification on the session's bus" in out, out
    assert "Warned alice 1 time that session" in out and "The warning reached" not in out, out
    assert 'string "Your session will be logged off in 3 seconds"' in mon, mon
    assert "Disks change at 02:00" in mon and 'string "urgency"' in mon and "byte 2" in mon, mon
    # The server's answer: the notification's ID.
    assert "method return" in mon and "uint32 " in mon, mon
    assert out.index("Warned alice") < out.index("Asked the Xfce session manager"), out
    assert_nothing_broken(h, c, s, out)


def test_an_xsmp_client_is_asked_to_save_before_anything_is_signalled(xfce_host, rdp_login):
    """A real XSMP client (tests/xsmp-client.c, libSM) in the session's scope,
    as an editor with unsaved text is: xfce4-session asks it to save
    (SaveYourself, shutdown) and then to die, because logoff asked Xfce to log
    out; no signal reaches it, nor any other process of the session."""
    h = xfce_host
    client = BUILD / "tests" / "xsmp-client"
    assert client.exists(), f"{client} is not built: tests/run.sh installs libsm-dev for it"
    inside = "/usr/local/bin/logoff-test-xsmp-client"
    shutil.copy(client, h.root / inside.lstrip("/"))
    c = rdp_login("alice")
    s = c.session()
    try:
        wm = s.pids_of("xfwm4")
        assert wm, s.describe(s.scope_pids)
        env = h.run(["cat", f"/proc/{wm[0]}/environ"]).stdout.split("\0")
        manager = next((e for e in env if e.startswith("SESSION_MANAGER=")), None)
        assert manager, env
        cgroup = next(d for d in (f"/sys/fs/cgroup/unified{s.scope}", f"/sys/fs/cgroup{s.scope}")
                      if h.run(["test", "-f", f"{d}/cgroup.procs"], check=False).returncode == 0)
        log = "/tmp/lo-xsmp.log"
        h.run(["rm", "-f", log])
        user_env = " ".join(f"{k}={v}" for k, v in XF.user_env("alice", s.display).items())
        inner = (f"echo $$ > {cgroup}/cgroup.procs && exec setpriv --reuid=1000 --regid=1000 --init-groups -- "
                 f"env {user_env} {manager} {inside} {log}")
        h.sh(f"setsid -f sh -c {shlex.quote(inner)} </dev/null >/dev/null 2>&1")
        HS.wait_until(lambda: "registered" in h.run(["cat", log], check=False).stdout, 15,
                      what="the XSMP client to register with xfce4-session")
        assert any(p["comm"].startswith("logoff-test-xs") for p in XF.snapshot(h)["procs"]
                   if p["cgroup"].endswith(s.scope)), "the client is not in the session's scope"

        # A new client is asked for a first, local save at once (XSMP).
        HS.wait_until(lambda: "save-complete" in h.run(["cat", log], check=False).stdout, 15,
                      what="the XSMP client's first save to complete")
        before = h.run(["cat", log]).stdout.splitlines()
        cp = logoff(h, ":10", "/v")
        out = cp.stdout + cp.stderr
        assert cp.returncode == 0, out
        lines = h.run(["cat", log]).stdout.splitlines()[len(before):]
        # The logout's save (global, shutdown, the user may be asked), then Die.
        assert [ln.split()[0] for ln in lines] == ["save-yourself", "die"], (before, lines)
        assert "type=2 shutdown=1" in lines[0], lines
        assert not any(ln.startswith("signal") for ln in before + lines), lines
        assert "Sent SIGTERM and SIGCONT to 0 processes" in out, out
        assert "The desktop logged out by itself in" in out, out
        assert_nothing_broken(h, c, s, out)
    finally:
        (h.root / inside.lstrip("/")).unlink(missing_ok=True)

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

import shutil
import time

import hosts as HS
import xfce as XF
from conftest import BUILD, NotifyMonitor, assert_nothing_broken, list_json, logoff, rows_of, start_in_session


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
    monitor = NotifyMonitor(h, s)
    t0 = time.monotonic()
    cp = logoff(h, ":10", "/v", "--warn=Disks change at 02:00", "--grace=3")
    took = time.monotonic() - t0
    out = cp.stdout + cp.stderr
    mon = monitor.stop()
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


def start_xsmp_client(h, s, inside):
    """tests/xsmp-client (installed at inside) in session s's scope, registered with its
    xfce4-session and done with the first, local save every new client is asked for;
    returns its log's path."""
    wm = s.pids_of("xfwm4")
    assert wm, s.describe(s.scope_pids)
    env = h.run(["cat", f"/proc/{wm[0]}/environ"]).stdout.split("\0")
    manager = next((e for e in env if e.startswith("SESSION_MANAGER=")), None)
    assert manager, env
    log = "/tmp/lo-xsmp.log"
    h.run(["rm", "-f", log])
    start_in_session(h, s, ["env", manager, inside, log])
    HS.wait_until(lambda: "registered" in h.run(["cat", log], check=False).stdout, 15,
                  what="the XSMP client to register with xfce4-session")
    assert any(p["comm"].startswith("logoff-test-xs") for p in XF.snapshot(h)["procs"]
               if p["cgroup"].endswith(s.scope)), "the client is not in the session's scope"
    HS.wait_until(lambda: "save-complete" in h.run(["cat", log], check=False).stdout, 15,
                  what="the XSMP client's first save to complete")
    return log


def assert_asked_to_save_only(h, log, before, out):
    """The XSMP client's log after logoff: the logout's save (global, shutdown, the
    user may be asked), then Die; no signal, to it or any process of the session.
    Returns its new lines."""
    lines = h.run(["cat", log]).stdout.splitlines()[len(before):]
    assert [ln.split()[0] for ln in lines] == ["save-yourself", "die"], (before, lines)
    assert "type=2 shutdown=1" in lines[0], lines
    assert not any(ln.startswith("signal") for ln in before + lines), lines
    assert "Sent SIGTERM and SIGCONT to 0 processes" in out, out
    assert "The desktop logged out by itself in" in out, out
    return lines


def install_xsmp_client(h):
    client = BUILD / "tests" / "xsmp-client"
    assert client.exists(), f"{client} is not built: tests/run.sh installs libsm-dev for it"
    inside = "/usr/local/bin/logoff-test-xsmp-client"
    shutil.copy(client, h.root / inside.lstrip("/"))
    return inside


def test_an_xsmp_client_is_asked_to_save_before_anything_is_signalled(xfce_host, rdp_login):
    """A real XSMP client (tests/xsmp-client.c, libSM) in the session's scope,
    as an editor with unsaved text is: xfce4-session asks it to save
    (SaveYourself, shutdown) and then to die, because logoff asked Xfce to log
    out; no signal reaches it, nor any other process of the session."""
    h = xfce_host
    inside = install_xsmp_client(h)
    c = rdp_login("alice")
    s = c.session()
    try:
        log = start_xsmp_client(h, s, inside)
        before = h.run(["cat", log]).stdout.splitlines()
        cp = logoff(h, ":10", "/v")
        out = cp.stdout + cp.stderr
        assert cp.returncode == 0, out
        assert_asked_to_save_only(h, log, before, out)
        assert_nothing_broken(h, c, s, out)
    finally:
        (h.root / inside.lstrip("/")).unlink(missing_ok=True)


def test_warned_asked_saved_logged_off(xfce_host, rdp_login):
    """The whole story on a real Xfce session over xrdp: an editor-like XSMP client
    runs in it; logoff --warn --grace=12 shows a critical notification, shows it again
    at 10 s left in place of the first one (replaces_id), then asks Xfce to log out;
    the client is asked to save, then to die; nothing is signalled; the listing and
    the mount table before and after tell it."""
    h = xfce_host
    inside = install_xsmp_client(h)
    c = rdp_login("alice")
    s = c.session()
    try:
        log = start_xsmp_client(h, s, inside)
        saved_before = h.run(["cat", log]).stdout.splitlines()
        listing_before = logoff(h, "--list").stdout
        mounts = ["findmnt", "-rn", "-o", "TARGET,SOURCE,FSTYPE", "-t", "fuse.xrdp-chansrv"]
        mounts_before = h.run(mounts, check=False).stdout
        assert f"{s.home}/thinclient_drives" in mounts_before, mounts_before
        monitor = NotifyMonitor(h, s)
        t0 = time.monotonic()
        cp = logoff(h, ":10", "/v", "--warn=Disks change at 02:00: save your work", "--grace=12")
        took = time.monotonic() - t0
        out = cp.stdout + cp.stderr
        mon = monitor.stop()
        assert cp.returncode == 0, out
        assert took >= 12, took
        shown = NotifyMonitor.notifications(mon)
        assert [n[1] for n in shown] == ["Your session will be logged off in 12 seconds",
                                         "Your session will be logged off in 10 seconds"], (shown, mon)
        first_id = shown[0][4]
        assert shown[0][0] == 0 and first_id, shown
        # the second replaces the first: one notification on the screen, updated
        assert shown[1][0] == first_id and shown[1][4] == first_id, shown
        assert all("Disks change at 02:00: save your work" in n[2] and "byte 2" in n[3] for n in shown), shown
        assert "Warned alice 2 times that session" in out, out
        lines = assert_asked_to_save_only(h, log, saved_before, out)
        assert out.index("Warned alice") < out.index("Asked the Xfce session manager"), out
        assert_nothing_broken(h, c, s, out)
        listing_after = logoff(h, "--list").stdout
        mounts_after = h.run(mounts, check=False).stdout
        assert mounts_after.strip() == "", mounts_after
        print(f"\nlisting before:\n{listing_before}\nfuse.xrdp-chansrv mounts before:\n{mounts_before}\n"
              f"the XSMP client's log before: {saved_before}\n"
              f"logoff :10 /v --warn=... --grace=12 ({took:.2f} s):\n{out}\n"
              f"notifications on alice's bus (replaces_id, summary, answered id): "
              f"{[(n[0], n[1], n[4]) for n in shown]}\n"
              f"the XSMP client's log after: {lines}\n"
              f"listing after:\n{listing_after}\nfuse.xrdp-chansrv mounts after:\n{mounts_after or '(none)'}")
    finally:
        (h.root / inside.lstrip("/")).unlink(missing_ok=True)

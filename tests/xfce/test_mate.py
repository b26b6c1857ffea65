"""logoff and the GNOME family of session managers, on a real one: MATE's
mate-session 1.26 (org.gnome.SessionManager, the interface GNOME and Cinnamon
serve too), in a session logged in over xrdp on the systemd-logind host
(tests/hosts.py XfceHost; bob's ~/.xsession starts mate-session).

* logoff asks it, as bob, on his session's bus, through the bus name of the
  mate-session of that very session: Logout(1), no confirmation;
* the inhibitors its applications hold (GetInhibitors; made here by MATE's own
  mate-session-inhibit) are named in the dry run and in /v, as clean text
  whatever the application put in its reason.  mate-session 1.26 logs out at
  once all the same when asked Logout(1) (checked here: its session manager
  exits within a second with a logout inhibitor held); what it leaves in the
  session (the inhibitors' commands, which no X server's end reaches) is ended
  by logoff 12 s after the session manager went, not 30 s, and /v says so."""

import re
import time

import hosts as HS
import xfce as XF
from conftest import assert_nothing_broken, logoff, start_in_session

DBUS_SM = ["dbus-send", "--session", "--print-reply", "--reply-timeout=5000", "--dest=org.gnome.SessionManager"]


def inhibitor_paths(h, s):
    cp = XF.run_as_user(h, s.user, [*DBUS_SM, "/org/gnome/SessionManager", "org.gnome.SessionManager.GetInhibitors"],
                        s.display, check=False)
    assert cp.returncode == 0, cp.stderr
    return [ln.split('"')[1] for ln in cp.stdout.splitlines() if "object path" in ln]


def test_mate_is_asked_to_log_out_and_logs_out(xfce_host, rdp_login):
    h = xfce_host
    c = rdp_login("bob", desktop="mate")
    s = c.session()
    manager = s.pids_of("mate-session")
    assert len(manager) == 1 and not s.pids_of("xfce4-session"), s.describe(s.scope_pids)
    cp = logoff(h, s.name, "--dry-run")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert f"would ask the MATE session manager (pid {manager[0]}) to log out" in cp.stdout, cp.stdout
    assert "names an inhibitor" not in cp.stdout, cp.stdout
    cp = logoff(h, s.name, "/v")
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    assert (f"Asked the MATE session manager (pid {manager[0]}) to log out on unix:path=/run/user/1001/bus, "
            "so that its applications save") in out, out
    assert "The desktop logged out by itself in" in out, out
    assert "Sent SIGTERM and SIGCONT to 0 processes" in out, out
    assert_nothing_broken(h, c, s, out)


def test_mate_inhibitors_are_named_and_what_the_desktop_leaves_is_ended(xfce_host, rdp_login):
    h = xfce_host
    c = rdp_login("bob", desktop="mate")
    s = c.session()
    manager = s.pids_of("mate-session")
    assert len(manager) == 1, s.describe(s.scope_pids)
    # An application's reason is its own text: an escape sequence in it reaches no terminal.
    start_in_session(h, s, ["mate-session-inhibit", "--app-id", "org.example.Burner", "--reason",
                            "Burning a disc\x1b]0;owned\x07", "--inhibit", "logout:suspend", "sleep", "600"])
    start_in_session(h, s, ["mate-session-inhibit", "--app-id", "org.example.Player", "--reason", "Playing a film",
                            "--inhibit", "idle", "sleep", "600"])
    HS.wait_until(lambda: len(inhibitor_paths(h, s)) == 2, 15, what="mate-session to hold both inhibitors")
    burner = 'org.example.Burner inhibits logout, suspend: "Burning a disc ]0;owned "'
    player = 'org.example.Player inhibits idle: "Playing a film"'

    cp = logoff(h, s.name, "--dry-run")
    dry = cp.stdout
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert f"  the MATE session manager names an inhibitor: {burner}\n" in cp.stdout, cp.stdout
    assert f"  the MATE session manager names an inhibitor: {player}\n" in cp.stdout, cp.stdout
    assert "\x1b" not in cp.stdout and "\x07" not in cp.stdout
    assert len(inhibitor_paths(h, s)) == 2 and XF.session_of(h, "bob") is not None, "the dry run changed something"

    t0 = time.monotonic()
    cp = logoff(h, s.name, "/v")
    took = time.monotonic() - t0
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    assert "\x1b" not in out
    assert f"The MATE session manager names an inhibitor: {burner}\n" in out, out
    assert out.index("names an inhibitor") < out.index("Asked the MATE session manager"), out
    # left: the two inhibitors' mate-session-inhibit and sleep, and Xsession's ssh-agent
    # until its own parent check (up to 10 s) sees the session manager gone
    m = re.search(r"The MATE session manager logged out in ([0-9.]+) s, but ([0-9]) processes of the user's were "
                  r"still running ([0-9.]+) s later, ended below", out)
    assert m and float(m.group(1)) < 5 and 4 <= int(m.group(2)) <= 5 and 12 <= float(m.group(3)) < 13, out
    assert "the desktop had not logged out" not in out and "may have held it off" not in out, out
    assert re.search(r"Sent SIGTERM and SIGCONT to [2-5] processes", out), out
    assert took < 25, took
    assert_nothing_broken(h, c, s, out)
    print(f"\nlogoff {s.name} --dry-run:\n{dry}\nlogoff {s.name} /v ({took:.2f} s):\n{out}")

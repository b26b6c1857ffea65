"""Debian 13: systemd 257 built without utmp, login history in wtmpdb.

After logoff the session's login record is closed in wtmpdb, whoever closes it:
sshd itself when it gets to run its logout, or logoff when the login process
died before it could (the case that leaves "still logged in" for ever).
"""

import re
import time

import hosts as HS
from conftest import assert_sanitizer_clean, list_json, logoff


def wtmpdb_record(h, user, line):
    """The newest wtmpdb row of user on line: (login text, logout text) as `wtmpdb last` prints them."""
    out = h.run(["wtmpdb", "last"], check=False).stdout
    rows = [l for l in out.splitlines() if re.match(rf"^{user}\s+{re.escape(line)}\s", l)]
    assert rows, f"no wtmpdb record of {user} on {line}:\n{out}"
    return rows[0]


def test_no_utmp_sessions_still_listed_and_named(trixie_host):
    h = trixie_host
    s = h.login("alice")
    assert h.run(["test", "-e", "/run/utmp"], check=False).returncode != 0, "Debian 13 keeps no utmp"
    js = list_json(h)
    assert s.logind_id in js, js
    assert js[s.logind_id]["name"] == s.tty[len("/dev/"):]
    assert js[s.logind_id]["backend"] == "logind"
    assert "still logged in" in wtmpdb_record(h, "alice", s.tty[len("/dev/"):])


def test_logout_recorded_when_sshd_closes_it(trixie_host):
    h = trixie_host
    s = h.login("alice", "(trap '' HUP TERM; exec sleep 100004) & exec bash -i")
    line = s.tty[len("/dev/"):]
    cp = logoff(h, s.logind_id, "/v", "--timeout=0.5")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    s.wait_client_exit(10)
    h.wait_session_gone(s.logind_id, 5)
    rec = wtmpdb_record(h, "alice", line)
    assert "still logged in" not in rec and " - " in rec, rec


def test_logout_recorded_by_logoff_when_the_login_process_died(trixie_host):
    """sshd's monitor SIGKILLed (a crash): nothing else will ever close the record."""
    h = trixie_host
    s = h.login("alice", "(trap '' HUP TERM; exec sleep 100004) & exec bash -i")
    line = s.tty[len("/dev/"):]
    monitor = h.session_prop(s.logind_id, "Leader")
    assert monitor and monitor != "0", "the session has a leader (sshd's monitor)"
    h.run(["kill", "-KILL", monitor])
    HS.wait_until(lambda: h.run(["kill", "-0", monitor], check=False).returncode != 0, 10,
                  what=f"sshd's monitor {monitor} to die")
    time.sleep(0.5)
    assert "still logged in" in wtmpdb_record(h, "alice", line)
    # another user's open record on another line must stay open
    other = h.login("bob")
    other_line = other.tty[len("/dev/"):]

    cp = logoff(h, s.logind_id, "/v", "--timeout=0.5")
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert f"Closed the login record of session {s.logind_id} in wtmpdb" in cp.stdout, cp.stdout
    s.wait_client_exit(10)
    h.wait_session_gone(s.logind_id, 5)
    rec = wtmpdb_record(h, "alice", line)
    assert "still logged in" not in rec and " - " in rec, rec
    assert "still logged in" in wtmpdb_record(h, "bob", other_line)

    # Nothing left to close: a second run finds no session and writes nothing.
    cp = logoff(h, s.logind_id)
    assert cp.returncode == 3, cp.stdout + cp.stderr


def test_user_manager_session_of_systemd_257_is_not_listed(trixie_host):
    """systemd 256+ makes each user manager a session of class "manager": no login."""
    h = trixie_host
    s = h.login("alice")
    managers = [r["session"] for r in h.loginctl_sessions() if h.session_prop(r["session"], "Class") == "manager"]
    assert managers, f"systemd 257 lists alice's user manager as a session: {h.loginctl_sessions()}"
    js = list_json(h)
    assert set(js) == {s.logind_id}, js
    cp = logoff(h, managers[0])
    assert cp.returncode == 3, cp.stdout + cp.stderr
    assert h.run(["systemctl", "is-active", "user@1000.service"], check=False).stdout.strip() == "active"

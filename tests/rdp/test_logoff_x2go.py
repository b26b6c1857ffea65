"""logoff on real X2Go sessions (issue 8): x2goserver behind a private sshd,
pyhoca-cli as the client.  A session is its display, X2Go's own state
(running or suspended), the client's address, and one session across a
resume from a new connection; logging it off goes through X2Go's own
x2goterminate-session, so X2Go's database marks it finished."""

import json
import os
import subprocess

import pytest

import harness as HR
import rdp as RD
from conftest import LOGOFF, assert_counts_add_up

UNSET = 4294967295


def run_logoff(*args, timeout=90):
    return subprocess.run([LOGOFF, *args], capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)


def rows_of(user):
    cp = run_logoff("--list", "--json")
    assert cp.returncode == 0, cp.stderr
    return [s for s in json.loads(cp.stdout)["sessions"] if s["user"] == user.name]


def the_row(user, **want):
    """The user's one session, once it shows what is wanted."""
    seen = []

    def check():
        seen[:] = rows = rows_of(user)
        return rows[0] if len(rows) == 1 and all(rows[0][k] == v for k, v in want.items()) else None
    try:
        return HR.wait_until(check, 15, interval=0.2, what=f"{user.name}'s X2Go session to show {want}")
    except HR.HarnessError:
        raise AssertionError(f"{user.name}'s sessions: {seen}") from None


def logins_of(uid):
    """Audit sessions of the user's processes."""
    return {HR.proc_sessionid(p) for p in RD.user_pids(uid)} - {None, UNSET}


def test_x2go_session_listed_running_suspended_resumed(x2go, rdp_users):
    u, other = rdp_users(2)
    c = x2go.client(u).start("xterm")
    agent, display = c.agent_pid(), c.display()
    sid = str(HR.proc_sessionid(agent))
    row = the_row(u, state="active")
    assert (row["id"], row["name"], row["type"], row["remote_host"]) == (sid, f":{display}", "x2go", "127.0.0.1"), row
    assert row["desktop_session"] == c.session_id, row
    # Listing needs no root, though the agent's sockets cannot be read then.
    cp = subprocess.run(["setpriv", f"--reuid={other.uid}", f"--regid={other.gid}", "--init-groups",
                         "--inh-caps=-all", "--", LOGOFF, "--list", "--json"], capture_output=True, text=True,
                        timeout=60, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, cp.stderr
    seen = [r for r in json.loads(cp.stdout)["sessions"] if r["user"] == u.name]
    assert [(r["id"], r["name"], r["type"]) for r in seen] == [(sid, f":{display}", "x2go")], seen

    c.suspend()
    row = the_row(u, state="disconnected")
    assert (row["id"], row["name"], row["remote_host"]) == (sid, f":{display}", None), row
    cp = run_logoff("--list", f":{display}")
    assert cp.returncode == 0 and " Disc " in cp.stdout and " x2go " in cp.stdout, cp.stdout

    c.resume()
    # The resume is a new ssh login: a second audit session, still one session.
    HR.wait_until(lambda: len(logins_of(u.uid)) == 2, 15, what="the resume's ssh login")
    row = the_row(u, state="active")
    assert (row["id"], row["name"], row["remote_host"]) == (sid, f":{display}", "127.0.0.1"), row
    # X2Go's resume starts and ends helpers for a moment: the listing and
    # /proc agree once they have settled.
    def counted():
        row = the_row(u, state="active")
        real = len(RD.user_pids(u.uid)) + len(
            [p for p in RD._all_pids() if HR.proc_uid(p) == 0 and HR.proc_sessionid(p) in logins_of(u.uid)])
        return row if row["processes"] == real else None
    row = HR.wait_until(counted, 10, what="the listing's process count to match /proc")


@pytest.mark.parametrize("state", ["running", "suspended", "resumed"])
def test_logoff_ends_an_x2go_session_through_x2go(x2go, rdp_users, state):
    (u,) = rdp_users(1)
    c = x2go.client(u).start("xterm")
    display = c.display()
    if state in ("suspended", "resumed"):
        c.suspend()
    if state == "resumed":
        c.resume()
        HR.wait_until(lambda: len(logins_of(u.uid)) == 2, 15, what="the resume's ssh login")
        the_row(u, state="active")

    cp = run_logoff(f":{display}", "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert f"Ran /usr/bin/x2goterminate-session {c.session_id} as {u.name}" in cp.stdout, cp.stdout
    assert f"name :{display}, user {u.name}" in cp.stdout and "type x2go" in cp.stdout, cp.stdout
    assert_counts_add_up(cp.stdout)
    HR.wait_until(lambda: not RD.user_pids(u.uid), 10, what=f"processes of {u.name} to end")
    assert rows_of(u) == []
    # X2Go's own view: finished, in its database and in its root listing.
    assert [r["status"] for r in RD.x2go_db_sessions(u)] == ["F"]
    assert {r["status"] for r in RD.x2go_list_sessions() if r["session"] == c.session_id} <= {"F"}
    if state in ("running", "resumed"):
        HR.wait_until(lambda: not c.alive(), 20, what="the X2Go client to see the session end")


def test_plain_logoff_inside_an_x2go_desktop(x2go, rdp_users):
    (u,) = rdp_users(1)
    out, trigger = f"{u.home}/.logoff.out", f"{u.home}/.run-logoff"
    # X2Go runs only commands it finds in the PATH.
    script = "/usr/local/bin/logoff-test-x2go-desktop"
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                f'while [ ! -e "{trigger}" ]; do sleep 0.1; done\n'
                f'{LOGOFF} /v > "{out}" 2>&1\n'
                "exec sleep 100000\n")
    os.chmod(script, 0o755)
    try:
        c = x2go.client(u).start(os.path.basename(script))
        display = c.display()
        sid = str(HR.proc_sessionid(c.agent_pid()))
        the_row(u, state="active")
        with open(trigger, "w"):
            pass
        HR.wait_until(lambda: not RD.user_pids(u.uid), 30, what=f"processes of {u.name} to end")
        text = HR._read(out) or ""
        assert f"Session {sid}: name :{display}, user {u.name}" in text, text
        assert f"Session {sid} logged off in" in text, text
        assert [r["status"] for r in RD.x2go_db_sessions(u)] == ["F"]
        HR.wait_until(lambda: not c.alive(), 20, what="the X2Go client to see the session end")
    finally:
        for f in (trigger, out, script):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass

"""However it is installed (issue 9): with cap_kill as a file capability the
caller is not trusted, and closed standard fds do not send output into the
login records."""

import os
import shutil
import stat
import subprocess
import tempfile

import pytest

import harness as H
from conftest import LOGOFF, USER1, USER2
from test_logoff import assert_logged_out


@pytest.fixture
def logoff_with_cap_kill():
    """A copy of logoff carrying cap_kill as a file capability."""
    d = tempfile.mkdtemp(prefix="logoff-caps-")
    os.chmod(d, 0o755)
    path = os.path.join(d, "logoff")
    shutil.copy(LOGOFF, path)
    os.chmod(path, 0o755)
    subprocess.run(["setcap", "cap_kill+ep", path], check=True)
    assert "cap_kill" in subprocess.run(["getcap", path], capture_output=True, text=True).stdout
    yield path
    shutil.rmtree(d)


def as_user(user, argv, env=None):
    e = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", **(env or {})}
    return subprocess.run(["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--init-groups", "--", *argv],
                          capture_output=True, text=True, timeout=60, env=e, stdin=subprocess.DEVNULL)


def test_file_capability_does_not_make_a_user_an_admin(mksession, users, logoff_with_cap_kill):
    theirs = mksession("sleep", "100000", user=USER2)
    mine = mksession("sleep", "100000", user=USER1)
    cp = as_user(users[USER1], [logoff_with_cap_kill, str(theirs.sid)])
    assert cp.returncode == 4, cp.stdout + cp.stderr
    assert "Access is denied" in cp.stderr and theirs.alive()
    # Its CAP_KILL still serves the caller's own sessions, root helper included.
    cp = as_user(users[USER1], [logoff_with_cap_kill, str(mine.sid), "/v"])
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert mine.pids() == []


def test_environment_is_not_trusted_under_file_capabilities(users, logoff_with_cap_kill, tmp_path):
    marker = tmp_path / "ran"
    evil = tmp_path / "evil-ssh"
    evil.write_text(f"#!/bin/sh\ntouch {marker}\nexit 255\n")
    evil.chmod(0o755)
    os.chmod(tmp_path, 0o1777)  # the user's evil ssh may write there
    env = {"LOGOFF_SSH": str(evil), "LOGOFF_REMOTE_COMMAND": "touch /tmp/never"}
    cp = as_user(users[USER1], [logoff_with_cap_kill, "pts/9", "/server:127.0.0.1"], env)
    assert not marker.exists(), "LOGOFF_SSH was honoured under a file capability"
    # The same binary without the capability honours it (the test's control).
    cp = as_user(users[USER1], [LOGOFF, "pts/9", "/server:127.0.0.1"], env)
    assert marker.exists(), cp.stdout + cp.stderr


def test_closed_standard_fds_do_not_send_output_into_the_records(mksession):
    import time
    since = int(time.time())
    s = mksession("sleep", "100000", user=USER1, opts=["-R"])
    before = {p: os.stat(p).st_size for p in (H.UTMP_PATH, H.WTMP_PATH)}
    cp = subprocess.run(["sh", "-c", f'exec 0<&- 1>&- 2>&-; exec {LOGOFF} {s.sid} /v'], timeout=60)
    assert cp.returncode == 0
    assert_logged_out(s.tty, s.leader, since)
    for p in (H.UTMP_PATH, H.WTMP_PATH):
        data = open(p, "rb").read()
        assert len(data) % 384 == 0, f"{p} is no longer whole records"
        assert b"logged off" not in data and b"Session " not in data, p
    assert os.stat(H.WTMP_PATH).st_size == before[H.WTMP_PATH] + 384

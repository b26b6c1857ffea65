"""The x2goterminate-session that logoff runs for an X2Go session is a
process of the user's, not of the admin who runs logoff (issue 13, point
9c): it inherits no descriptor of logoff's beyond 0-2 (stdin on
/dev/null), it is no member of the admin's audit session and no new login
either (no audit session at all: a listing does not show it), and it runs
in a cgroup of its own, not the admin's, removed once it has been reaped.

X2Go's real tool is run, through a wrapper bind-mounted over it in a
private mount namespace of logoff's that writes down what it was given and
then runs the real one, so X2Go still marks the session finished."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import harness as HR
import rdp as RD
from conftest import LOGOFF, assert_counts_add_up

TOOL = "/usr/bin/x2goterminate-session"
CGROUP2 = "/sys/fs/cgroup/unified" if os.path.ismount("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
UNSET = "4294967295"
ADMIN_FILE = "/etc/hostname"

WRAPPER = """#!/bin/sh
out={dir}/seen
{{
  echo "sessionid=$(cat /proc/self/sessionid)"
  echo "loginuid=$(cat /proc/self/loginuid)"
  grep '^0::' /proc/self/cgroup
  # By what they name, not by number: dash keeps the script and saved
  # descriptors of its own at 10 and up.
  for f in /proc/$$/fd/*; do echo "fdname=$(readlink "$f")"; done
  echo "stdin=$(readlink /proc/$$/fd/0)"
  echo "uid=$(id -u)"
}} > "$out.tmp"
# What a listing shows while it runs (as the user: listing needs no root).
{logoff} --list --json > {dir}/listing 2>&1
mv "$out.tmp" "$out"
exec {dir}/real "$@"
"""


@pytest.fixture
def wrapped_tool():
    d = Path(tempfile.mkdtemp(prefix="logoff-x2go-term-", dir="/tmp"))
    os.chmod(d, 0o777)
    (d / "real").touch()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def admin_preexec(cgroup_dir):
    """The admin's logoff: in an audit session of its own (root writing
    loginuid gets a fresh one) and in a cgroup of its own."""
    def setup():
        with open("/proc/self/loginuid", "w") as f:
            f.write("0")
        with open(cgroup_dir / "cgroup.procs", "w") as f:
            f.write("0")
    return setup


def test_x2goterminate_session_is_a_process_of_the_users(x2go, rdp_users, wrapped_tool):
    (u,) = rdp_users(1)
    c = x2go.client(u).start("xterm")
    display = c.display()
    d = wrapped_tool
    admin_cg = Path(CGROUP2) / f"logoff-test-admin-{os.getpid()}-{time.monotonic_ns()}"
    admin_cg.mkdir()
    # A descriptor of the admin's logoff that is not close-on-exec, at a
    # number far from the ones the shells use for themselves.
    opened = os.open(ADMIN_FILE, os.O_RDONLY)
    fd = os.dup2(opened, 213, inheritable=True)
    os.close(opened)
    w = d / "wrapper"
    w.write_text(WRAPPER.format(dir=d, logoff=LOGOFF))
    os.chmod(w, 0o755)
    try:
        setup = (f"mount --bind {TOOL} {d}/real && mount --bind {d}/wrapper {TOOL} && "
                 f"cat /proc/self/sessionid > {d}/admin-sid && exec \"$@\"")
        p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "--", "sh", "-c", setup, "sh",
                              LOGOFF, f":{display}", "/v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, stdin=subprocess.DEVNULL, pass_fds=(fd,),
                             env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
                             preexec_fn=admin_preexec(admin_cg))
        out, _ = p.communicate(timeout=120)
        logoff_pid = p.pid  # sh execs logoff: the same process
    finally:
        os.close(fd)
    try:
        assert p.returncode == 0, out
        assert f"Ran {TOOL} {c.session_id} as {u.name}" in out, out
        assert_counts_add_up(out)
        lines = (d / "seen").read_text().splitlines()
        seen = dict(line.split("=", 1) if "=" in line else ("cgroup", line)
                    for line in lines if not line.startswith("fdname="))
        fd_names = [line.split("=", 1)[1] for line in lines if line.startswith("fdname=")]
        admin_sid = (d / "admin-sid").read_text().strip()
        assert admin_sid != UNSET, "the admin's logoff needs an audit session for this test"
        assert ADMIN_FILE not in fd_names, fd_names
        assert seen["stdin"] == "/dev/null", seen
        assert seen["uid"] == str(u.uid), seen
        # No audit session: neither the admin's nor one of its own.
        assert (seen["sessionid"], seen["loginuid"]) == (UNSET, UNSET), (seen, admin_sid)
        # A cgroup of its own (this host has no user slices: at the root).
        assert seen["cgroup"] == f"0::/logoff-x2goterminate-session-{logoff_pid}", seen
        assert not (Path(CGROUP2) / f"logoff-x2goterminate-session-{logoff_pid}").exists()
        # While it ran, the user had one session: the X2Go one.
        listing = (d / "listing").read_text()
        rows = [r for r in json.loads(listing)["sessions"] if r["user"] == u.name]
        assert [r["type"] for r in rows] == ["x2go"], listing
        # X2Go's own view: finished.
        HR.wait_until(lambda: not RD.user_pids(u.uid), 10, what=f"processes of {u.name} to end")
        assert [r["status"] for r in RD.x2go_db_sessions(u)] == ["F"]
    finally:
        HR.wait_until(lambda: not (admin_cg / "cgroup.procs").read_text().split(), 15, what=f"{admin_cg} to empty")
        admin_cg.rmdir()

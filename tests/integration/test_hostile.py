"""What issue 9 measured as good, kept that way: few file descriptors, a
process whose name looks like stat(5) fields, and many sessions at once."""

import json
import os
import subprocess
import sys
import time

import harness as H
from conftest import LOGOFF, USER1, run_logoff


def test_twelve_file_descriptors_still_end_102_processes(mksession):
    s = mksession("sh", "-c", "for i in $(seq 100); do sleep 100000 & done; wait", user=USER1)
    H.wait_until(lambda: len(s.pids()) >= 102, 20, what="102 processes")
    cp = subprocess.run(["sh", "-c", f'ulimit -n 12 && exec {LOGOFF} {s.sid} /v'], capture_output=True,
                        text=True, timeout=60, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert s.pids() == []


NAMER = ("import ctypes, time; libc = ctypes.CDLL(None); "
         "libc.prctl(15, b') S 1 1 1 (x', 0, 0, 0); time.sleep(100000)")


def test_a_process_named_like_stat_fields_changes_nothing(mksession):
    s = mksession(sys.executable, "-c", NAMER, user=USER1)
    H.wait_until(lambda: any(H.proc_comm(p) == ") S 1 1 1 (x" for p in s.pids()), 10, what="the renamed process")
    odd = next(p for p in s.pids() if H.proc_comm(p) == ") S 1 1 1 (x")
    row = {r["id"]: r for r in json.loads(run_logoff("--list", "--json").stdout)["sessions"]}[str(s.sid)]
    assert row["processes"] == len(s.pids()) and row["leader"] in s.pids(), row
    cp = run_logoff(str(s.sid), "--dry-run")
    assert cp.returncode == 0 and f"would end pid {odd} () S 1 1 1 (x), uid {H.pwd.getpwnam(USER1).pw_uid}" in cp.stdout, \
        cp.stdout
    cp = run_logoff(str(s.sid), "/v")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert s.pids() == []


def test_two_hundred_sessions_list_quickly_and_exactly(mksession):
    made = [mksession("sleep", "100000", user=USER1, opts=["-N"]) for _ in range(200)]
    t0 = time.monotonic()
    cp = run_logoff("--list", "--json")
    took = time.monotonic() - t0
    assert cp.returncode == 0, cp.stderr
    ids = {r["id"] for r in json.loads(cp.stdout)["sessions"]}
    assert {str(s.sid) for s in made} <= ids
    assert took < 2.0, f"listing 200 sessions took {took:.2f} s"


def test_leftovers_in_a_pid_namespace_of_their_own_are_listed_and_ended(mksession):
    """unshare -Urpf, its parent killed, the login over: the remnant keeps the
    session's audit ID and is that session's, though none of its processes is
    in our PID namespace any more (issue 13, point 6).  A container's login is
    told by where it began, not by where its processes are now."""
    s = mksession("sh", "-c", "unshare -Urpf sleep 100000 & exec sleep 100001", user=USER1, opts=["-R"])
    H.wait_until(lambda: [p for p in s.pids() if H.proc_cmdline(p) == "sleep 100000"], 10,
                 what="unshare's sleep")
    unshare = [p for p in s.pids() if H.proc_comm(p) == "unshare"]
    inner = [p for p in s.pids() if H.proc_cmdline(p) == "sleep 100000"]
    assert unshare and inner, H.describe_pids(s.pids())
    nspid = [l for l in open(f"/proc/{inner[0]}/status").read().splitlines() if l.startswith("NSpid:")]
    assert nspid and nspid[0].split()[-1] == "1", nspid
    # The login ends and the unshare parent is killed: what is left lives
    # only in the namespace.
    for p in unshare + [p for p in s.pids() if p not in inner]:
        try:
            os.kill(p, 9)
        except ProcessLookupError:
            pass
    H.wait_until(lambda: s.pids() == inner, 10, what="only the namespace's init left")

    rows = {r["id"]: r for r in json.loads(run_logoff("--list", "--json").stdout)["sessions"]}
    assert str(s.sid) in rows, rows
    assert rows[str(s.sid)]["processes"] == 1, rows[str(s.sid)]
    cp = run_logoff(str(s.sid), "/v", "--timeout=1")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert s.pids() == []

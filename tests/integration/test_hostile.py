"""What issue 9 measured as good, kept that way: few file descriptors, a
process whose name looks like stat(5) fields, and many sessions at once."""

import json
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

#!/usr/bin/python3
"""Load benchmark: logoff under load, next to the system's own tools.

In one run, on real login sessions (tests/mksession), as root:

* listing 1,000 sessions: ``logoff --list``, ``logoff --list --json``, ``w``
  and ``who`` (median of --list-reps runs each);
* ending a session of 100,000 processes: ``logoff SID --timeout=0 /v``,
  ``logoff SID /v``, ``pkill -KILL -s <POSIX session>`` and a bare
  ``cgroup.kill``, a fresh session for each;
* a fork storm held at the pid_max of a PID namespace of its own:
  ``logoff SID --timeout=0 /v``, ``logoff SID /v``, ``pkill -KILL -s``.

For each it records wall time and max RSS (os.wait4 rusage) and, for ending,
what each method left alive.  Run after ``ninja -C build``::

    /usr/bin/python3 bench/bench_load.py [--json bench/results-load.json]
    /usr/bin/python3 bench/bench_load.py --quick          # smoke run, about 2 minutes

See bench/README.md, section "Load".  Standard library only, plus
tests/harness.py of this project.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness as h  # noqa: E402
import common  # noqa: E402
from common import (BenchError, cg_populated, cg_procs, cg_remove, cg_remove_prefixed,  # noqa: E402
                    cgroup2_mount, compile_c, fmt, kill_user, loadavg, log, logoff_line, machine_line,
                    med, mounts, nprocs, posix_sid, print_report, private_copy, raise_on_signals, read,
                    run_bench, save_json, user_pids, write)

PID_MAX_PATH = "/proc/sys/kernel/pid_max"
BIG_PID_MAX = 4194304
#: What a SIGKILLed run leaves for --cleanup: the pid_max to put back.
STATE_FILE = "/run/logoff-bench-load.state"
CGROUP_PREFIX = "logoff-bench-load-"
#: After its first wrap the kernel hands out pids from 300 on, in a
#: namespace too: a full namespace holds pid_max - 300 .. pid_max - 1.
RESERVED_PIDS = 300

LIST_TOOLS = {
    "logoff-list": "logoff --list",
    "logoff-json": "logoff --list --json",
    "w": "w",
    "who": "who",
}
END_METHODS = {
    "logoff-t0": "logoff --timeout=0",
    "logoff": "logoff (grace 5 s)",
    "pkill-s": "pkill -KILL -s",
    "cgroup.kill": "cgroup.kill",
}
STORM_METHODS = ["logoff-t0", "logoff", "pkill-s"]


#: The small helper (bench/load-helper.c: `rusage` and `reap`), compiled at
#: setup next to spawn.
HELPER_SRC = os.path.join(HERE, "load-helper.c")


# ---------------------------------------------------------------------------
# /proc and host helpers (the shared ones are in common.py)
# ---------------------------------------------------------------------------

def meminfo() -> Dict[str, int]:
    out = {}
    for line in read("/proc/meminfo").splitlines():
        k, _, v = line.partition(":")
        out[k] = int(v.split()[0])
    return out


def mem_cost(before: Dict[str, int], after: Dict[str, int]) -> Dict[str, int]:
    """MB the kernel gave a session: MemAvailable used, and its main parts."""
    d = {k: round((after[k] - before[k]) / 1024) for k in ("PageTables", "KernelStack", "Slab")}
    d["MemAvailable_used"] = round((before["MemAvailable"] - after["MemAvailable"]) / 1024)
    return d


def sessionid_map(sids) -> Dict[int, List[int]]:
    """One /proc walk: live pids of each audit session in sids."""
    out: Dict[int, List[int]] = {s: [] for s in sids}
    for n in os.listdir("/proc"):
        if n.isdigit():
            sid = h.proc_sessionid(n)
            if sid in out and h.proc_alive(int(n)):
                out[sid].append(int(n))
    return out


def utmp_logout_many(leaders) -> int:
    """harness.utmp_logout for many leaders under one lock and one read:
    their USER_PROCESS entries become DEAD_PROCESS, with wtmp records."""
    leaders = set(leaders)
    try:
        fd = os.open(h.UTMP_PATH, os.O_RDWR)
    except FileNotFoundError:
        return 0
    done = []
    size = h._UTMP.size
    try:
        h.wait_until(lambda: h._try_lock(fd), 10, interval=0.02, what="utmp lock")
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        now = time.time()
        for i in range(len(data) // size):
            rec = h._unpack(data[i * size:(i + 1) * size], i)
            if rec.type == h.USER_PROCESS and rec.pid in leaders:
                dead = h.UtmpRecord(h.DEAD_PROCESS, rec.pid, rec.line, rec.id, "", "", 0, 0, rec.session,
                                    int(now), int(now % 1 * 1e6), rec.addr_v6)
                os.pwrite(fd, dead.pack(), i * size)
                done.append(dead)
    finally:
        os.close(fd)
    if done:
        wfd = os.open(h.WTMP_PATH, os.O_WRONLY | os.O_APPEND)
        try:
            h.wait_until(lambda: h._try_lock(wfd), 10, interval=0.02, what="wtmp lock")
            os.write(wfd, b"".join(h.UtmpRecord(h.DEAD_PROCESS, r.pid, r.line, "", "", "", 0, 0, 0, r.tv_sec,
                                                r.tv_usec, bytes(16)).pack() for r in done))
        finally:
            os.close(wfd)
    return len(done)


# ---------------------------------------------------------------------------
# cgroups: v2 for cgroup.kill, the v1 pids controller to count
# ---------------------------------------------------------------------------

def pids_v1_mount() -> str:
    """The cgroup v1 hierarchy of the pids controller.  Its pids.current
    counts a session's tasks (until reaped) in one read, where a /proc walk
    of 100,000 entries takes seconds; logoff looks at cgroup v2 only, so
    this changes nothing for it."""
    for point, fstype, opts in mounts():
        if fstype == "cgroup" and "pids" in opts.split(","):
            return point
    raise BenchError("no cgroup v1 pids hierarchy (the benchmark counts a session's processes with "
                     "its pids.current; a pure cgroup v2 host is not supported)")


# ---------------------------------------------------------------------------
# Running a command, timed
# ---------------------------------------------------------------------------

def read_rss(path: str) -> Optional[int]:
    try:
        return int(read(path))
    except (OSError, ValueError):
        return None


def run_timed(helper: str, argv: List[str], timeout: float, outf: str) -> Dict:
    """Run argv (stdout+stderr to outf) under `helper rusage`: wall time,
    exit status, max RSS."""
    rss = outf + ".rss"
    if os.path.exists(rss):
        os.unlink(rss)
    with open(outf, "wb") as out:
        t0 = time.monotonic()
        p = subprocess.Popen([helper, "rusage", rss, *argv], stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, env=dict(os.environ, LC_ALL="C"))
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        try:
            _, status, _ = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    with open(outf, "rb") as f:
        text = f.read().decode(errors="replace")
    return {"argv": argv, "rc": p.returncode, "time_s": round(wall, 4), "maxrss_kb": read_rss(rss),
            "killed_at_timeout": wall >= timeout, "output": text}


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------

class Bench:
    def __init__(self, a):
        self.a = a
        self.logoff = os.path.abspath(a.logoff)
        self.mksession = os.path.abspath(a.mksession)
        self.pkill = shutil.which("pkill") or "/usr/bin/pkill"
        self.user = None
        self.tmp = None
        self.spawn = None
        self.helper = None
        self.pid_max_old = None
        self.cg2_base = None
        self.pids_base = None
        self.seq = 0
        self.sessions: List[Dict] = []
        self.results: List[Dict] = []
        self.notes: List[str] = []
        self.scenarios: List[Dict] = []

    # -- setup / teardown ----------------------------------------------------
    def setup(self):
        if os.geteuid() != 0:
            raise BenchError("run as root")
        for p in (self.logoff, self.mksession):
            if not os.access(p, os.X_OK):
                raise BenchError(f"{p} missing: build first (ninja -C build), or pass --logoff/--mksession")
        for tool in ("cc", "setcap", "unshare", "nsenter", "setpriv", "w", "who"):
            if not shutil.which(tool):
                raise BenchError(f"{tool} is needed")
        h.ensure_utmp()
        cg2 = cgroup2_mount()
        pids = pids_v1_mount()
        self.user = h.create_user(self.a.user)
        if user_pids(self.user.uid):
            raise BenchError(f"user {self.a.user} already has processes; run bench_load.py --cleanup")

        self.tmp = tempfile.mkdtemp(prefix="logoff-bench-load-")
        os.chown(self.tmp, 0, self.user.gid)
        os.chmod(self.tmp, 0o750)          # root and the test user only: spawn is privileged
        for attr in ("logoff", "mksession"):  # private copies: a rebuild changes nothing
            setattr(self, attr, private_copy(getattr(self, attr), os.path.join(self.tmp, attr), 0o755))
        # spawn.c, static (less page-table memory, faster forks), with
        # cap_sys_admin+ep: root has no CAP_SYS_RESOURCE here to raise the
        # hard RLIMIT_NPROC, and kernel/fork.c lets CAP_SYS_ADMIN past it.
        self.spawn = os.path.join(self.tmp, "spawn")
        compile_c(os.path.join(HERE, "spawn.c"), self.spawn, "-static")
        os.chown(self.spawn, 0, self.user.gid)
        os.chmod(self.spawn, 0o750)
        h.run(["setcap", "cap_sys_admin+ep", self.spawn])
        self.helper = os.path.join(self.tmp, "helper")
        compile_c(HELPER_SRC, self.helper, "-static")
        os.chmod(self.helper, 0o755)

        self.cg2_base = os.path.join(cg2, f"{CGROUP_PREFIX}{os.getpid()}")
        self.pids_base = os.path.join(pids, f"{CGROUP_PREFIX}{os.getpid()}")
        os.mkdir(self.cg2_base)
        os.mkdir(self.pids_base)

    def raise_pid_max(self, value: int) -> None:
        cur = int(read(PID_MAX_PATH))
        if cur >= value:
            return
        if self.pid_max_old is None:
            self.pid_max_old = cur
            with open(STATE_FILE, "w") as f:
                f.write(f"pid_max={cur}\n")
        write(PID_MAX_PATH, str(value))

    def restore_pid_max(self) -> None:
        if self.pid_max_old is not None:
            write(PID_MAX_PATH, str(self.pid_max_old))
            self.pid_max_old = None
            try:
                os.unlink(STATE_FILE)
            except FileNotFoundError:
                pass

    def teardown(self):
        errors = []
        if self.user is not None:
            try:
                kill_user(self.user.uid, self.user.gid)
            except Exception as e:          # noqa: BLE001 - keep cleaning up
                errors.append(f"kill user processes: {e}")
        try:
            self.end_sessions([s for s in self.sessions if not s.get("ended")])
        except Exception as e:              # noqa: BLE001
            errors.append(f"sessions: {e}")
        for d in (self.cg2_base, self.pids_base):
            if d:
                try:
                    cg_remove(d, timeout=20.0, v1=True)
                except Exception as e:      # noqa: BLE001
                    errors.append(f"cgroup {d}: {e}")
        try:
            self.restore_pid_max()
        except Exception as e:              # noqa: BLE001
            errors.append(f"pid_max: {e}")
        if self.user is not None:
            try:
                h.wait_until(lambda: not user_pids(self.user.uid), 60, interval=0.2,
                             what=f"processes of {self.user.name} to be reaped")
            except TimeoutError as e:
                errors.append(str(e))
            stale = [r.pid for r in h.utmp_user_entries(self.user.name) if not h.proc_alive(r.pid)]
            utmp_logout_many(stale)
            if self.user.created and not self.a.keep_user and not self.user.remove():
                errors.append(f"could not remove user {self.user.name}")
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        for e in errors:
            log(f"cleanup: {e}")

    # -- sessions --------------------------------------------------------------
    def new_session(self, argv: List[str], as_user: Optional[str] = None, notty: bool = False,
                    cg2: bool = False, count: bool = False, reap: bool = False) -> Dict:
        """A session from mksession; reap: below a subreaper of ours
        (s["reaper"]); count: in a v1 pids cgroup of its own (s["pids"]);
        cg2: in a cgroup v2 of its own (s["cgroup"]), leader included, from
        the start."""
        self.seq += 1
        s = {"cgroup": None, "pids": None, "reaper": None}
        if cg2:
            s["cgroup"] = os.path.join(self.cg2_base, f"s{self.seq}")
            os.mkdir(s["cgroup"])
        if count:
            s["pids"] = os.path.join(self.pids_base, f"s{self.seq}")
            os.mkdir(s["pids"])
        dirs = [d for d in (s["cgroup"], s["pids"]) if d]
        argv = [self.mksession, "-u", as_user or self.user.name, *(["-N"] if notty else []), "--", *argv]
        if reap:
            # mksession and all it leaves run below a subreaper of ours, in
            # the cgroups (the reaper itself is in none of them).
            err = open(os.path.join(self.tmp, f"reaper-{self.seq}.err"), "w+")
            cgs = [x for d in dirs for x in ("-c", d)]
            p = subprocess.Popen([self.helper, "reap", *cgs, *argv], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=err, text=True)
            line = p.stdout.readline()
            p.stdout.close()
            s["reaper"] = p
            if not line.startswith("sid="):
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                err.seek(0)
                for d in dirs:
                    cg_remove(d, timeout=20.0, v1=True)
                raise BenchError(f"mksession failed: {line!r} {err.read().strip()}")
            err.close()
        else:
            if dirs:
                raise BenchError("cgroups need the reaper")
            cp = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            if cp.returncode != 0:
                raise BenchError(f"mksession failed (rc={cp.returncode}): {cp.stderr.strip()}")
            line = cp.stdout
        kv = dict(w.split("=", 1) for w in line.split())
        s.update(sid=int(kv["sid"]), leader=int(kv["leader"]), pid=int(kv["pid"]), tty=kv["tty"])
        self.sessions.append(s)
        return s

    def end_sessions(self, sessions: List[Dict], timeout: float = 60) -> None:
        """SIGKILL what is left of these sessions (one /proc walk a pass),
        mark their utmp entries dead, remove their cgroups."""
        if not sessions:
            return
        sids = {s["sid"] for s in sessions}
        if h.proc_sessionid("self") in sids or h.UNSET_SESSIONID in sids:
            raise BenchError("refusing to kill our own session")
        for s in sessions:                 # cheap first: whole cgroups at once
            for d in (s["cgroup"], s["pids"]):
                if d:
                    for pid in cg_procs(d):
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
        h.kill_until_gone(lambda: [p for ps in sessionid_map(sids).values() for p in ps], timeout,
                          f"{len(sids)} sessions")
        leaders = {s["leader"] for s in sessions}
        try:
            h.wait_until(lambda: not any(h.proc_alive(p) for p in leaders), 10, interval=0.05,
                         what="the leaders to die")
        except TimeoutError:
            pass
        utmp_logout_many(leaders)
        for s in sessions:
            for d in (s["cgroup"], s["pids"]):
                if d:
                    cg_remove(d, timeout=20.0, v1=True)
            if s["reaper"] is not None:     # it exits once it has nothing left to reap
                try:
                    s["reaper"].wait(30)
                except subprocess.TimeoutExpired:
                    s["reaper"].kill()
                    s["reaper"].wait(10)
            s["ended"] = True

    def wait_calm(self, what: str) -> None:
        """Nothing of the user left, zombies included (PID 1 reaps slowly)."""
        try:
            h.wait_until(lambda: not user_pids(self.user.uid), self.a.calm_timeout, interval=0.2,
                         what=f"processes of {self.user.name} to be reaped")
        except TimeoutError:
            self.notes.append(f"{what}: {len(user_pids(self.user.uid))} processes of {self.user.name} "
                              f"still there before it")

    # -- listing -----------------------------------------------------------------
    def listing(self):
        n = self.a.sessions
        scn = {"name": "list", "title": f"Listing {n:,} sessions (each a root leader and `sleep` of "
                                        f"{self.user.name} on a pty of its own, with a utmp entry)"}
        self.scenarios.append(scn)
        log(f"== {scn['title']}")
        self.wait_calm("list")
        t = time.monotonic()
        made: List[Dict] = []
        lock = threading.Lock()

        def one(_):
            s = self.new_session(["sleep", "100000"])
            with lock:
                made.append(s)
        try:
            with ThreadPoolExecutor(16) as ex:
                list(ex.map(one, range(n)))
            sids = {s["sid"] for s in made}
            ready = h.wait_until(lambda: (lambda m: m if all(len(p) == 2 for p in m.values()) else None)(
                sessionid_map(sids)), 120, interval=0.2, what=f"{n} sessions to run their sleep")
            in_utmp = len([r for r in h.utmp_user_entries(self.user.name) if r.pid in
                           {s["leader"] for s in made}])
            scn["made_s"] = round(time.monotonic() - t, 1)
            scn["host_processes"] = nprocs()
            scn["utmp_entries"] = in_utmp
            log(f"   {n} sessions made in {scn['made_s']} s, {in_utmp} utmp entries, "
                f"{scn['host_processes']} processes on the host, load {loadavg()}")
            argvs = {"logoff-list": [self.logoff, "--list"], "logoff-json": [self.logoff, "--list", "--json"],
                     "w": [shutil.which("w")], "who": [shutil.which("who")]}
            outf = os.path.join(self.tmp, "out.txt")
            for rep in range(1, self.a.list_reps + 1):
                for tool, argv in argvs.items():
                    rec = run_timed(self.helper, argv, self.a.list_timeout, outf)
                    text = rec.pop("output")
                    rec.update(scenario="list", method=tool, rep=rep, loadavg=loadavg())
                    lines = text.splitlines()
                    if tool == "logoff-json":
                        try:
                            listed = {int(x["id"]): x for x in json.loads(text)["sessions"]
                                      if x["id"].isdigit()}
                            rec["rows"] = len(listed)
                            rec["ours_listed"] = len(sids & listed.keys())
                            rec["ours_exact"] = sum(1 for sid in sids & listed.keys()
                                                    if listed[sid]["processes"] == len(ready[sid]))
                        except ValueError as e:
                            rec["error"] = f"bad JSON: {e}"
                    elif tool == "logoff-list":
                        rec["rows"] = len(lines) - 1
                        end = lines[0].index(" ID ") + 3 if lines else 0   # the ID column ends there
                        ids = [ln[:end].split()[-1] for ln in lines[1:] if ln[:end].split()]
                        rec["ours_listed"] = sum(1 for i in ids if i.isdigit() and int(i) in sids)
                    elif tool == "w":
                        rec["rows"] = len(lines) - 2
                        rec["ours_listed"] = sum(1 for ln in lines[2:] if ln.split()[:1] == [self.user.name])
                    else:
                        rec["rows"] = len(lines)
                        rec["ours_listed"] = sum(1 for ln in lines if ln.split()[:1] == [self.user.name])
                    self.results.append(rec)
                    log(f"   rep {rep} {LIST_TOOLS[tool]:<22} {rec['time_s']:8.3f} s  max RSS "
                        f"{rec['maxrss_kb']:>7} kB  rows {rec.get('rows')}  ours {rec.get('ours_listed')}"
                        f"{'  rc=' + str(rec['rc']) if rec['rc'] else ''}")
        finally:
            self.end_sessions(made)

    # -- ending a big session ------------------------------------------------------
    def build_big(self, method: str) -> Dict:
        n, det = self.a.procs, self.a.detached
        half, dhalf = n // 2, det // 2
        # Two spawns fork in parallel (a core each); together exactly n
        # processes of the user in one POSIX session, det of them setsid'd.
        cmd = ["/bin/sh", "-c", f'"$0" {half} {dhalf} & exec "$0" {n - half} {det - dhalf}', self.spawn]
        mem0 = meminfo()
        t = time.monotonic()
        s = self.new_session(cmd, cg2=(method == "cgroup.kill"), count=True, reap=True)
        want = n + 1                       # + the root leader
        try:
            h.wait_until(lambda: int(read(os.path.join(s["pids"], "pids.current"))) >= want,
                         self.a.ready_timeout, interval=0.2, what=f"session {s['sid']} to hold {want} tasks")
            h.wait_until(lambda: len(h.session_pids(s["sid"])) == want, 60, interval=0.5,
                         what=f"session {s['sid']} to hold exactly {want} processes")
        except TimeoutError as e:
            raise BenchError(f"{e}: pids.current {read(os.path.join(s['pids'], 'pids.current')).strip()}")
        s["made_s"] = round(time.monotonic() - t, 1)
        s["mem_mb"] = mem_cost(mem0, meminfo())
        s["posix_sid"] = posix_sid(s["pid"])
        if s["posix_sid"] != s["pid"]:
            raise BenchError(f"session command {s['pid']} is not a POSIX session leader")
        return s

    def build_storm(self) -> Dict:
        nsmax = self.a.storm_pid_max
        inner = (f'echo {nsmax} > {PID_MAX_PATH} && test "$(cat {PID_MAX_PATH})" = {nsmax} || exit 98; '
                 f'exec setpriv --reuid={self.user.uid} --regid={self.user.gid} --init-groups -- '
                 f'/bin/bash -c "$0"')
        storm = (f"ulimit -u {nsmax * 4} || exit 99; trap '' HUP TERM; "
                 "storm() { while :; do storm & done; }; storm 2>/dev/null")
        s = self.new_session(["unshare", "-p", "-f", "/bin/sh", "-c", inner, storm], as_user="root",
                             count=True, reap=True)
        t = time.monotonic()
        # 2 root processes: the leader and unshare.
        try:
            current = os.path.join(s["pids"], "pids.current")
            h.wait_until(lambda: int(read(current)) - 2 >= nsmax - RESERVED_PIDS, self.a.ready_timeout,
                         interval=0.05, what=f"storm {s['sid']} to reach pid_max {nsmax}")
        except TimeoutError as e:
            raise BenchError(f"{e} (shell exit 98: the namespace's pid_max could not be set)") from None
        time.sleep(0.5)
        s["made_s"] = round(time.monotonic() - t, 1)
        init = None                        # PID 1 of the namespace: NSpid: <host pid> 1
        for pid in h.session_pids(s["sid"]):
            for line in (h._read(f"/proc/{pid}/status") or "").splitlines():
                if line.startswith("NSpid:") and line.split()[2:] == ["1"]:
                    init = pid
        if init is None:
            raise BenchError(f"storm {s['sid']}: no process is PID 1 of a child namespace")
        s["ns_init"] = init
        refused = 0
        for _ in range(5):
            cp = h.run(["nsenter", "-t", init, "-p", "--", "/bin/true"], check=False, timeout=30)
            refused += cp.returncode != 0 and "Resource temporarily unavailable" in cp.stderr
        s["eagain"] = f"{refused}/5"
        s["posix_sid"] = posix_sid(s["pid"])
        return s

    def measure_end(self, scn: Dict, method: str, rep: int) -> Dict:
        self.wait_calm(f"{scn['name']} / {method} / rep {rep}")
        load = loadavg()
        s = None
        try:
            s = self.build_big(method) if scn["name"] == "end" else self.build_storm()
            pids_current = os.path.join(s["pids"], "pids.current")
            rec = {"scenario": scn["name"], "method": method, "rep": rep, "sid": s["sid"],
                   "loadavg_before": load, "made_s": s["made_s"], "posix_sid": s["posix_sid"]}
            for k in ("mem_mb", "eagain", "ns_init"):
                if k in s:
                    rec[k] = s[k]
            n_start = int(read(pids_current))
            rec["n_start"] = n_start
            argv = {"logoff-t0": [self.logoff, str(s["sid"]), "--timeout=0", "/v"],
                    "logoff": [self.logoff, str(s["sid"]), "/v"],
                    "pkill-s": [self.pkill, "-KILL", "-s", str(s["posix_sid"])]}.get(method)
            rec["argv"] = argv
            outf = os.path.join(self.tmp, "out.txt")
            rss = outf + ".rss"
            if os.path.exists(rss):
                os.unlink(rss)
            out = open(outf, "wb")
            cmd = None
            t_cmd = None
            timed_out = False
            last = n_start
            t0 = time.monotonic()
            t_last = t0
            try:
                if argv:
                    cmd = subprocess.Popen([self.helper, "rusage", rss, *argv], stdin=subprocess.DEVNULL,
                                           stdout=out, stderr=subprocess.STDOUT,
                                           env=dict(os.environ, LC_ALL="C"))
                else:
                    write(os.path.join(s["cgroup"], "cgroup.kill"), "1")
                while True:
                    now = time.monotonic()
                    if t_cmd is None:
                        if cmd is not None:
                            pid, status, _ = os.wait4(cmd.pid, os.WNOHANG)
                            if pid:
                                t_cmd = now
                                cmd.returncode = rec["rc"] = os.waitstatus_to_exitcode(status)
                                rec["maxrss_kb"] = read_rss(rss)
                        elif not cg_populated(s["cgroup"]):
                            t_cmd = now
                    c = int(read(pids_current))
                    if c < last:
                        last, t_last = c, now
                    if t_cmd is not None and (c == 0 or now - max(t_cmd, t_last) >= self.a.settle):
                        break
                    if now - t0 >= self.a.max_wait:
                        timed_out = True
                        break
                    time.sleep(0.002)
            finally:
                if cmd is not None and t_cmd is None:
                    cmd.kill()
                    _, status, _ = os.wait4(cmd.pid, 0)
                    cmd.returncode = rec["rc"] = os.waitstatus_to_exitcode(status)
                out.close()
            rec["timed_out"] = timed_out
            rec["cmd_s"] = round(t_cmd - t0, 4) if t_cmd is not None else None
            rec["gone_s"] = round(t_last - t0, 4)
            rec["time_s"] = round(max(t_last, t_cmd if t_cmd is not None else t0) - t0, 4) \
                if not timed_out else self.a.max_wait
            rec["tasks_after"] = int(read(pids_current))
            left = h.session_pids(s["sid"])
            rec["survivors"] = len(left)
            rec["survivor_kinds"] = {}
            for pid in left:
                kind = ("root" if h.proc_uid(pid) == 0 else
                        "own POSIX session" if posix_sid(pid) != s["posix_sid"] else "shell's POSIX session")
                rec["survivor_kinds"][kind] = rec["survivor_kinds"].get(kind, 0) + 1
            with open(outf, "rb") as f:
                rec["output"] = f.read()[-3000:].decode(errors="replace")
            return rec
        finally:
            if s is not None:
                self.end_sessions([s], timeout=120)

    def ending(self):
        n = self.a.procs
        self.raise_pid_max(BIG_PID_MAX if n > 20000 else 0)
        try:
            scn = {"name": "end",
                   "title": f"Ending a session of {n:,} processes of {self.user.name} + its root leader "
                            f"({self.a.detached} of them setsid'd, the rest plain children of two `spawn`s "
                            f"on the session's pty)"}
            self.scenarios.append(scn)
            log(f"== {scn['title']}")
            for rep in range(1, self.a.end_reps + 1):
                for m in END_METHODS:
                    rec = self.measure_end(scn, m, rep)
                    self.results.append(rec)
                    self._log_end(rec)
        finally:
            self.restore_pid_max()

    def storm(self):
        scn = {"name": "storm",
               "title": f"Fork storm (bash, SIGHUP/SIGTERM ignored, as {self.user.name}) in a PID "
                        f"namespace whose pid_max is {self.a.storm_pid_max}"}
        self.scenarios.append(scn)
        log(f"== {scn['title']}")
        cp = h.run(["unshare", "-p", "-f", "sh", "-c",
                    f"echo {self.a.storm_pid_max} > {PID_MAX_PATH} && cat {PID_MAX_PATH}"], check=False)
        if cp.stdout.strip() != str(self.a.storm_pid_max):
            raise BenchError(f"a PID namespace cannot have its own pid_max here ({cp.stderr.strip()}): "
                             f"no fork storm without that bound")
        for rep in range(1, self.a.storm_reps + 1):
            for m in STORM_METHODS:
                rec = self.measure_end(scn, m, rep)
                self.results.append(rec)
                self._log_end(rec)

    def _log_end(self, rec):
        log(f"   rep {rec['rep']} {END_METHODS[rec['method']]:<20} {rec['time_s']:8.3f} s  cmd "
            f"{rec['cmd_s'] if rec['cmd_s'] is not None else '-':>7}  start {rec['n_start']:>6}  "
            f"survivors {rec['survivors']:>5}  max RSS {rec.get('maxrss_kb', '-')}"
            f"{'  rc=' + str(rec['rc']) if rec.get('rc') else ''}{'  TIMEOUT' if rec['timed_out'] else ''}"
            f"  (made in {rec['made_s']} s{', ' + str(rec['mem_mb']) if 'mem_mb' in rec else ''}"
            f"{', EAGAIN ' + rec['eagain'] if 'eagain' in rec else ''})")

    def run(self):
        if "list" in self.a.scenarios:
            self.listing()
        if "end" in self.a.scenarios:
            self.ending()
        if "storm" in self.a.scenarios:
            self.storm()


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def report(b: Bench) -> str:
    L = []
    for scn in b.scenarios:
        recs = [r for r in b.results if r["scenario"] == scn["name"]]
        if not recs:
            continue
        L += ["", scn["title"]]
        if scn["name"] == "list":
            L.append(f"  made in {scn.get('made_s')} s; {scn.get('utmp_entries')} utmp entries; "
                     f"{scn.get('host_processes')} processes on the host; {b.a.list_reps} reps")
            m = {t: med([r["time_s"] for r in recs if r["method"] == t]) for t in LIST_TOOLS}
            hdr = (f"  {'tool':<22} {'median s':>9} {'min s':>8} {'max s':>8} {'max RSS kB':>11} "
                   f"{'x w':>7} {'x who':>8} {'rows':>6} {'ours':>6}")
            L += [hdr, "  " + "-" * (len(hdr) - 2)]
            for t, label in LIST_TOOLS.items():
                rs = [r for r in recs if r["method"] == t]
                if not rs:
                    continue
                ts = [r["time_s"] for r in rs]

                def ratio(ref):
                    return f"{m[t] / m[ref]:.3g}" if m.get(ref) else "-"
                flag = " (rc!=0)" if any(r["rc"] for r in rs) else ""
                L.append(f"  {label:<22} {m[t]:>9.3f} {min(ts):>8.3f} {max(ts):>8.3f} "
                         f"{max(r['maxrss_kb'] for r in rs):>11} {ratio('w'):>7} {ratio('who'):>8} "
                         f"{rs[-1].get('rows', '-'):>6} {rs[-1].get('ours_listed', '-'):>6}{flag}")
            js = [r for r in recs if r["method"] == "logoff-json"]
            if js:
                L.append(f"  logoff --list --json: every session listed with its exact process count in "
                         f"{sum(r.get('ours_exact') == b.a.sessions for r in js)}/{len(js)} runs")
            continue
        methods = [m for m in END_METHODS if any(r["method"] == m for r in recs)]
        starts = [r["n_start"] for r in recs]
        line = f"  tasks at the start of timing (leader included): median {statistics.median(starts):g}, " \
               f"range {min(starts)}-{max(starts)}; {len(recs) // max(len(methods), 1)} reps"
        L.append(line)
        mems = [r["mem_mb"] for r in recs if "mem_mb" in r]
        if mems:
            mem = {k: med([x[k] for x in mems])
                   for k in ("MemAvailable_used", "PageTables", "KernelStack", "Slab")}
            L.append(f"  kernel memory of one such session (median): MemAvailable "
                     f"-{mem['MemAvailable_used']:,.0f} MB (PageTables {mem['PageTables']:,.0f}, KernelStack "
                     f"{mem['KernelStack']:,.0f}, Slab {mem['Slab']:,.0f} MB); made in "
                     f"{med([r['made_s'] for r in recs]):.1f} s (median)")
        if any("eagain" in r for r in recs):
            L.append(f"  fork refused with EAGAIN in the namespace (nsenter probes before timing): "
                     f"{', '.join(r['eagain'] for r in recs)}")
        mm = {m: med([r["time_s"] for r in recs if r["method"] == m]) for m in methods}
        hdr = (f"  {'method':<20} {'time s':>8} {'cmd s':>8} {'gone s':>8} {'max RSS kB':>11} "
               f"{'x pkill -s':>11} {'x cgroup.kill':>14} {'survivors':>10} {'(max)':>6} {'rc':>4}")
        L += [hdr, "  " + "-" * (len(hdr) - 2)]
        for m in methods:
            rs = [r for r in recs if r["method"] == m]

            def ratio(ref):
                return f"{mm[m] / mm[ref]:.2f}" if mm.get(ref) else "-"
            rss = [r.get("maxrss_kb") for r in rs if r.get("maxrss_kb") is not None]
            rcs = sorted({r.get("rc") for r in rs if r.get("rc") is not None})
            L.append(f"  {END_METHODS[m]:<20} {mm[m]:>8.3f} {fmt(med([r['cmd_s'] for r in rs]), 8)} "
                     f"{fmt(med([r['gone_s'] for r in rs]), 8)} {(max(rss) if rss else '-'):>11} "
                     f"{ratio('pkill-s'):>11} {ratio('cgroup.kill'):>14} "
                     f"{med([r['survivors'] for r in rs]):>10g} {max(r['survivors'] for r in rs):>6} "
                     f"{','.join(map(str, rcs)) or '-':>4}"
                     f"{' (timeouts)' if any(r['timed_out'] for r in rs) else ''}")
    if L:
        L += ["",
              "time s: median wall time from starting the method until it has returned AND its victims "
              "are",
              "  gone (reaped; the session's pids.current stopped falling); cmd s: until the command "
              "returned",
              "  (cgroup.kill: until cgroup.events said populated 0); gone s: until the session's task count",
              "  last fell; max RSS: ru_maxrss of the command (os.wait4); x ...: ratio of median times;",
              "  survivors: live processes of the session afterwards (median, max); rc: exit statuses."]
    return "\n".join(L)


def anomalies(b: Bench) -> List[str]:
    out = list(b.notes)
    for r in b.results:
        tag = f"{r['scenario']} / {r['method']} / rep {r['rep']}"
        if r["method"].startswith("logoff") and r["scenario"] != "list":
            if r.get("rc") != 0:
                out.append(f"{tag}: logoff exit status {r.get('rc')}: "
                           f"{r['output'].strip().splitlines()[-3:]}")
            if r["survivors"]:
                out.append(f"{tag}: {r['survivors']} survivors {r['survivor_kinds']}")
        if r["scenario"] == "list" and r["rc"] != 0:
            out.append(f"{tag}: exit status {r['rc']}")
        if r["scenario"] == "list" and r["method"] == "logoff-json" and r.get("ours_exact") != b.a.sessions:
            out.append(f"{tag}: {r.get('ours_listed')} of {b.a.sessions} listed, {r.get('ours_exact')} exact")
        if r.get("timed_out"):
            out.append(f"{tag}: hit the {b.a.max_wait:g} s limit")
    return out


def machine_facts(a) -> Dict:
    f = common.machine_facts(a.logoff, versions=[("pkill", ["pkill", "-V"]), ("w", ["w", "-V"]),
                                                 ("who", ["who", "--version"])])
    f["pid_max"] = int(read(PID_MAX_PATH))
    return f


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def parse_args(argv=None):
    build = os.environ.get("LOGOFF_BUILD", os.path.join(ROOT, "build"))
    p = argparse.ArgumentParser(description="logoff under load, next to w, who, pkill -s and cgroup.kill "
                                            "(real sessions; run as root).")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 100 sessions, 10,000 processes, storm at pid_max 1000, one rep each")
    p.add_argument("--scenarios", default="list,end,storm", help="subset of list,end,storm")
    p.add_argument("--sessions", type=int, help="sessions to list (1000)")
    p.add_argument("--list-reps", type=int, default=3, help="runs of each listing tool (3)")
    p.add_argument("--list-timeout", type=float, default=600,
                   help="kill a listing tool after this long (600 s)")
    p.add_argument("--procs", type=int, help="processes of the big session (100000)")
    p.add_argument("--detached", type=int, help="of those, setsid'd with a double fork (100)")
    p.add_argument("--end-reps", type=int, help="fresh big sessions per method (1)")
    p.add_argument("--storm-pid-max", type=int, help="pid_max of the storm's PID namespace (3000)")
    p.add_argument("--storm-reps", type=int, help="storms per method (3)")
    p.add_argument("--max-wait", type=float, default=180,
                   help="give up on one method after this long (180 s)")
    p.add_argument("--settle", type=float, default=2.0,
                   help="after the command returned, stop once no task has gone for this long (2 s)")
    p.add_argument("--ready-timeout", type=float, default=300, help="bound on building one session (300 s)")
    p.add_argument("--calm-timeout", type=float, default=120,
                   help="bound on waiting for the last session's zombies to be reaped (120 s)")
    p.add_argument("--user", default="loloadb",
                   help="test user, created if missing (loloadb; w shows 8 characters of a name)")
    p.add_argument("--keep-user", action="store_true")
    p.add_argument("--logoff", default=os.path.join(build, "logoff"))
    p.add_argument("--mksession", default=os.path.join(build, "tests", "mksession"))
    p.add_argument("--json", metavar="FILE", help="machine facts and raw results")
    p.add_argument("--cleanup", action="store_true",
                   help="only clean up after a run killed with SIGKILL: the user's processes, cgroups, "
                        "stale utmp entries, pid_max, the user")
    a = p.parse_args(argv)
    quick = {"sessions": 100, "procs": 10000, "detached": 10, "end_reps": 1, "storm_pid_max": 1000,
             "storm_reps": 1}
    full = {"sessions": 1000, "procs": 100000, "detached": 100, "end_reps": 1, "storm_pid_max": 3000,
            "storm_reps": 3}
    for k, v in (quick if a.quick else full).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    if not set(a.scenarios) <= {"list", "end", "storm"}:
        p.error("--scenarios: list,end,storm")
    if not 1 <= a.sessions <= 3000:
        p.error("--sessions: 1..3000")
    if not 10 <= a.procs <= 150000 or not 0 <= a.detached <= a.procs // 10:
        p.error("--procs 10..150000, --detached 0..procs/10")
    if not 1000 <= a.storm_pid_max <= 10000:
        p.error("--storm-pid-max: 1000..10000 (at least 301 for the kernel; the storm's bound)")
    return a


def cleanup_only(a) -> int:
    try:
        pw = pwd.getpwnam(a.user)
    except KeyError:
        pw = None
    if pw:
        kill_user(pw.pw_uid, pw.pw_gid)
    for mount in (cgroup2_mount(), pids_v1_mount()):
        cg_remove_prefixed(mount, CGROUP_PREFIX, timeout=20.0, v1=True)
    try:
        old = read(STATE_FILE).strip().split("=", 1)[1]
        write(PID_MAX_PATH, old)
        os.unlink(STATE_FILE)
        log(f"pid_max back to {old}")
    except FileNotFoundError:
        pass
    if pw:
        try:
            h.wait_until(lambda: not user_pids(pw.pw_uid), 60, interval=0.2, what="reaping")
        except TimeoutError as e:
            log(str(e))
        utmp_logout_many(r.pid for r in h.utmp_user_entries(a.user) if not h.proc_alive(r.pid))
        h.run(["userdel", "-r", a.user], check=False, timeout=30)
    log("cleaned up (storm sessions run as root: kill their audit sessions by hand if any is left)")
    return 0


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.cleanup:
        return cleanup_only(a)

    raise_on_signals()
    facts = machine_facts(a)
    print(machine_line(facts, f" pid_max={facts['pid_max']}"))
    print(logoff_line(a.logoff, facts))
    print(f"{facts.get('pkill', '?')}; {facts.get('w', '?')}; {facts.get('who', '?')}")
    print(f"scenarios={','.join(a.scenarios)} sessions={a.sessions} list-reps={a.list_reps} procs={a.procs} "
          f"detached={a.detached} end-reps={a.end_reps} storm-pid-max={a.storm_pid_max} "
          f"storm-reps={a.storm_reps}{' (quick)' if a.quick else ''}")
    sys.stdout.flush()

    b = Bench(a)
    rc, duration = run_bench(b, "bench_load")
    facts["after"] = {"loadavg": loadavg(), "host_processes": nprocs(), "pid_max": int(read(PID_MAX_PATH))}
    facts["duration_s"] = duration
    notes = anomalies(b)
    print_report(report(b), notes)
    print(f"\nafter: load={facts['after']['loadavg']} processes={facts['after']['host_processes']} "
          f"pid_max={facts['after']['pid_max']} duration={facts['duration_s']:g}s")
    save_json(a.json, {"facts": facts, "args": vars(a), "scenarios": b.scenarios,
                       "methods": {**LIST_TOOLS, **END_METHODS}, "results": b.results, "notes": notes})
    return rc


if __name__ == "__main__":
    sys.exit(main())

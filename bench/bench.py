#!/usr/bin/python3
"""Benchmark: how fast and how completely does ``logoff`` end a login session?

Compares, in one run and on fresh sessions of the same shape, ``logoff`` with
what an administrator would otherwise use: ``pkill -s``, ``pkill -t`` and a
bare cgroup v2 ``cgroup.kill``.  Run as root after ``ninja -C build``::

    /usr/bin/python3 bench/bench.py [--reps 5] [--sizes 1000,10000] [--json FILE]

See bench/README.md for what is measured and how to read the numbers.
Standard library only (plus tests/harness.py of this project).
"""

from __future__ import annotations

import argparse
import errno
import os
import pwd
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness as h  # noqa: E402
from common import (STORM_CAP, STORM_SCRIPT, BenchError, Watch, cg_populated,  # noqa: E402
                    cg_remove, cg_remove_prefixed, cgroup2_mount, compile_c, kill_user, loadavg,
                    log, logoff_line, machine_facts, machine_line, nprocs, posix_sid,
                    print_report, private_copy, proc_cgroup, raise_nofile, raise_on_signals,
                    run_bench, save_json, stat_fields, user_pids, write)

# The fork storm is common.STORM_SCRIPT: ALWAYS with its ulimit -u guard.
CGROUP_PREFIX = "logoff-bench-"

METHODS = {
    # key: (label, description)
    "logoff-t0": ("logoff --timeout=0", "logoff SID --timeout=0 /v (no grace: straight to stop/kill)"),
    "logoff": ("logoff (grace 5 s)", "logoff SID /v (default grace period)"),
    "pkill-s": ("pkill -KILL -s", "pkill -KILL -s <POSIX session id of the session's shell>"),
    "pkill-t": ("pkill -KILL -t", "pkill -KILL -t pts/N"),
    "cgroup.kill": ("cgroup.kill", "processes moved to a fresh cgroup beforehand (untimed); "
                                   "timed: write 1 to cgroup.kill until cgroup.events says populated 0"),
    "logoff-cg": ("logoff -t0, own cgroup", "extra: logoff SID --timeout=0 /v on a session moved to a cgroup "
                                            "of its own beforehand (as logind would), so logoff takes its "
                                            "cgroup.freeze + cgroup.kill path"),
}
DEFAULT_METHODS = ["logoff-t0", "logoff", "pkill-s", "pkill-t", "cgroup.kill", "logoff-cg"]
CGROUP_METHODS = {"cgroup.kill", "logoff-cg"}


# ---------------------------------------------------------------------------
# Small /proc and cgroup helpers of this script (the shared ones are in
# common.py, the session-level ones in harness.py)
# ---------------------------------------------------------------------------

def describe(pid: int, shell_pid: int) -> Dict:
    f = stat_fields(pid)
    d = {"pid": pid, "comm": h.proc_comm(pid), "uid": h.proc_uid(pid)}
    if f:
        d.update(state=f[0], ppid=int(f[1]), pgrp=int(f[2]), posix_sid=int(f[3]), tty_nr=int(f[4]))
        if d["uid"] == 0:
            kind = "root (leader)"
        elif int(f[4]) == 0:
            kind = ("no tty, own POSIX session" if int(f[3]) != shell_pid
                    else "shell's POSIX session, tty gone")
        else:
            kind = "on the pty"
        d["kind"] = kind
    return d


def cg_move_session(sid: int, cgdir: str, rel: str, max_passes: int = 50) -> int:
    """Move every live process of audit session sid into cgdir; a few passes,
    since a forking process may have a child on the way.  Returns the passes
    needed; raises if the session does not settle into the cgroup."""
    procs = os.path.join(cgdir, "cgroup.procs")
    fd = os.open(procs, os.O_WRONLY)
    try:
        for n in range(1, max_passes + 1):
            moved = 0
            for pid in h.session_pids(sid):
                if proc_cgroup(pid) == rel:
                    continue
                try:
                    os.write(fd, str(pid).encode())
                    moved += 1
                except OSError as e:
                    if e.errno not in (errno.ESRCH, errno.ENOENT):
                        raise
            if moved == 0:
                return n
    finally:
        os.close(fd)
    raise BenchError(f"session {sid} kept escaping {cgdir} after {max_passes} passes")


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        self.logoff = os.path.abspath(args.logoff)
        self.mksession = os.path.abspath(args.mksession)
        self.pkill = shutil.which("pkill") or "/usr/bin/pkill"
        self.user = None                  # harness.TestUser
        self.tmp = None
        self.spawn = None
        self.cg_mount = None
        self.cg_base = None
        self.seq = 0
        self.sessions: List[Dict] = []    # every session ever made, for cleanup
        self.results: List[Dict] = []
        self.notes: List[str] = []

    # -- setup / teardown ------------------------------------------------------
    def setup(self):
        if os.geteuid() != 0:
            raise BenchError("run as root (mksession sets loginuid, cgroup writes, useradd)")
        for p in (self.logoff, self.mksession):
            if not os.access(p, os.X_OK):
                raise BenchError(f"{p} missing: build first (meson setup build && ninja -C build)")
        self.cg_mount = cgroup2_mount()
        if not os.path.exists(os.path.join(self.cg_mount, "cgroup.kill")) and \
                not os.path.isdir(self.cg_mount):
            raise BenchError(f"no usable cgroup2 hierarchy at {self.cg_mount}")
        h.ensure_utmp()
        # One pidfd per process of the biggest session, plus slack.
        raise_nofile(max(self.a.sizes + [STORM_CAP * 2]) + 1024)

        self.tmp = tempfile.mkdtemp(prefix="logoff-bench-")
        os.chmod(self.tmp, 0o755)             # the test user must run the spawner
        for attr in ("logoff", "mksession"):  # private copies
            setattr(self, attr, private_copy(getattr(self, attr), os.path.join(self.tmp, attr)))
        self.spawn = os.path.join(self.tmp, "spawn")
        compile_c(os.path.join(HERE, "spawn.c"), self.spawn)
        os.chmod(self.spawn, 0o755)

        self.user = h.create_user(self.a.user)
        if user_pids(self.user.uid):
            raise BenchError(f"user {self.a.user} already has processes; "
                             f"run bench.py --cleanup or pick another --user")
        self.cg_base = os.path.join(self.cg_mount, f"{CGROUP_PREFIX}{os.getpid()}")
        os.mkdir(self.cg_base)

    def teardown(self):
        errors = []
        if self.user is not None:
            try:
                kill_user(self.user.uid, self.user.gid)
            except Exception as e:             # noqa: BLE001 - keep cleaning up
                errors.append(f"kill user processes: {e}")
        for s in self.sessions:
            try:
                self.end_session(s)
            except Exception as e:             # noqa: BLE001
                errors.append(f"session {s['sid']}: {e}")
        if self.cg_base:
            try:
                cg_remove(self.cg_base)
            except Exception as e:             # noqa: BLE001
                errors.append(f"cgroup {self.cg_base}: {e}")
        if self.user is not None:
            try:
                h.wait_until(lambda: not user_pids(self.user.uid), 30, interval=0.1,
                             what=f"processes of {self.user.name} to be reaped")
            except TimeoutError as e:
                errors.append(str(e))
            fix_stale_utmp(self.user.name)
            if self.user.created and not self.a.keep_user:
                if not self.user.remove():
                    errors.append(f"could not remove user {self.user.name}")
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        for e in errors:
            log(f"cleanup: {e}")

    # -- sessions --------------------------------------------------------------
    def new_session(self, argv: List[str]) -> Dict:
        cp = h.run([self.mksession, "-u", self.user.name, "--", *argv], timeout=30)
        kv = dict(w.split("=", 1) for w in cp.stdout.split())
        s = {"sid": int(kv["sid"]), "leader": int(kv["leader"]), "pid": int(kv["pid"]),
             "tty": kv["tty"], "cgroup": None}
        self.sessions.append(s)
        return s

    def end_session(self, s: Dict) -> None:
        """SIGKILL whatever is left of session s, mark its utmp entry dead,
        remove its cgroup.  Idempotent."""
        if s.get("ended"):
            return
        try:
            h.kill_session(s["sid"], timeout=20)
        except TimeoutError:
            # A storm that outruns one-by-one SIGKILL: kill(-1) as the user
            # cannot be outrun, then sweep the root leader again.
            kill_user(self.user.uid, self.user.gid)
            h.kill_session(s["sid"], timeout=20)
        try:
            h.wait_until(lambda: not h.proc_alive(s["leader"]), 10, what=f"leader {s['leader']} to die")
        except TimeoutError:
            pass
        if any(r.pid == s["leader"] for r in h.utmp_user_entries(self.user.name)):
            h.utmp_logout(s["leader"])
        if s["cgroup"]:
            cg_remove(s["cgroup"])
        s["ended"] = True

    def wait_calm(self) -> Optional[str]:
        """Before a run: no process of the test user left, zombies included
        (PID 1 reaps slowly; thousands of zombies would slow every /proc scan,
        and they count against the storm's ulimit -u)."""
        try:
            h.wait_until(lambda: not user_pids(self.user.uid), self.a.calm_timeout, interval=0.1,
                         what=f"processes of {self.user.name} to be reaped")
            return None
        except TimeoutError:
            n = len(user_pids(self.user.uid))
            return f"{n} processes of {self.user.name} still there before the run"

    def build(self, scn: Dict, cgroup: bool) -> Dict:
        """A fresh session of the scenario's shape, complete; with cgroup, all
        of it in a fresh cgroup of its own (s["cgroup"])."""
        if scn["kind"] == "static":
            n, det = scn["n"], scn["detached"]
            s = self.new_session([self.spawn, str(n), str(det)])
            want = n + 1                   # + the root leader
            try:
                h.wait_until(lambda: len(h.session_pids(s["sid"])) >= want, self.a.ready_timeout,
                             interval=0.1, what=f"session {s['sid']} to hold {want} processes")
            except TimeoutError as e:
                raise BenchError(f"{e}: has {len(h.session_pids(s['sid']))}") from None
            time.sleep(0.05)               # anything still forking would show up now
            got = len(h.session_pids(s["sid"]))
            if got != want:
                raise BenchError(f"session {s['sid']} holds {got} processes, expected exactly {want}")
            if cgroup:
                s["cg_move_s"], s["cg_passes"] = self.into_cgroup(s)
        else:
            s = self.new_session(["/bin/bash", "-c", STORM_SCRIPT])
            if cgroup:
                # While the storm is still small, so that it grows inside the
                # cgroup and reaches the same size as for the other methods.
                s["cg_move_s"], s["cg_passes"] = self.into_cgroup(s)
            want = scn["min"] + 1
            try:
                h.wait_until(lambda: len(h.session_pids(s["sid"])) >= want, self.a.ready_timeout,
                             interval=0.05, what=f"fork storm {s['sid']} to pass {scn['min']} processes")
            except TimeoutError as e:
                raise BenchError(f"{e}: has {len(h.session_pids(s['sid']))} (shell exit 99 = the "
                                 f"ulimit guard failed)") from None
            if cgroup:
                # Check that nothing escaped (it cannot: children are born
                # in their parent's cgroup); a pass that moves nothing.
                t, n = self.into_cgroup(s)
                s["cg_move_s"] += t
                s["cg_passes"] += n
        s["posix_sid"] = posix_sid(s["pid"])
        if s["posix_sid"] != s["pid"]:
            raise BenchError(f"session shell {s['pid']} is not a POSIX session leader")
        return s

    def into_cgroup(self, s: Dict):
        """Move every process of session s into its own cgroup (made on first
        use); returns (seconds, passes)."""
        if not s["cgroup"]:
            self.seq += 1
            s["cgroup"] = os.path.join(self.cg_base, f"s{self.seq}-{s['sid']}")
            os.mkdir(s["cgroup"])
        rel = s["cgroup"][len(self.cg_mount):]
        t = time.monotonic()
        passes = cg_move_session(s["sid"], s["cgroup"], rel)
        return time.monotonic() - t, passes

    # -- one measurement -------------------------------------------------------
    def measure(self, scn: Dict, method: str, rep: int) -> Dict:
        calm = self.wait_calm()
        if calm:
            self.notes.append(f"{scn['name']} / {method} / rep {rep}: {calm}")
        load = loadavg()
        s = None
        outf = os.path.join(self.tmp, "out.txt")
        w = None
        try:
            s = self.build(scn, method in CGROUP_METHODS)
            rec = {"scenario": scn["name"], "method": method, "rep": rep, "sid": s["sid"],
                   "leader": s["leader"], "shell": s["pid"], "tty": s["tty"],
                   "loadavg_before": load}
            if s["cgroup"]:
                rec["cgroup"] = s["cgroup"]
                rec["cg_passes"] = s["cg_passes"]
                rec["cg_move_s"] = round(s["cg_move_s"], 4)
            snap = h.session_pids(s["sid"])
            rec["n_start"] = len(snap)
            w = Watch(lambda pid, sid=s["sid"]: h.proc_sessionid(pid) == sid)
            w.add(snap)

            argv = None
            if method == "logoff-t0" or method == "logoff-cg":
                argv = [self.logoff, str(s["sid"]), "--timeout=0", "/v"]
            elif method == "logoff":
                argv = [self.logoff, str(s["sid"]), "/v"]
            elif method == "pkill-s":
                argv = [self.pkill, "-KILL", "-s", str(s["posix_sid"])]
            elif method == "pkill-t":
                argv = [self.pkill, "-KILL", "-t", s["tty"]]
            rec["argv"] = argv

            out = open(outf, "wb")
            cmd = None
            cmdfd = None
            t_cmd = None
            timed_out = False
            t0 = time.monotonic()
            try:
                if argv:
                    cmd = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=subprocess.STDOUT)
                    cmdfd = os.pidfd_open(cmd.pid)
                    w.ep.register(cmdfd, select.EPOLLIN)
                else:                       # bare cgroup.kill
                    write(os.path.join(s["cgroup"], "cgroup.kill"), "1")
                t_last = t0
                deadline = t0 + self.a.max_wait
                while True:
                    now = time.monotonic()
                    if now >= deadline:
                        timed_out = True
                        break
                    evs = w.ep.poll(0.001 if cmd is None else 0.004)
                    now = time.monotonic()
                    for fd, _ in evs:
                        if fd == cmdfd:
                            w.ep.unregister(cmdfd)
                            t_cmd = now
                        else:
                            w.exited(fd)
                            t_last = now
                    if cmd is None and t_cmd is None and not cg_populated(s["cgroup"]):
                        t_cmd = time.monotonic()
                    if t_cmd is None:
                        continue
                    if not len(w):
                        # Every process we knew of is gone: did anything new
                        # (a storm's late child) appear meanwhile?
                        left = h.session_pids(s["sid"])
                        if not left:
                            break
                        w.add(left)
                    if now - max(t_cmd, t_last) >= self.a.settle:
                        break            # survivors: nothing has ended for a while
            finally:
                if cmd is not None:
                    if cmd.poll() is None:
                        cmd.kill()
                        self.notes.append(f"{scn['name']} / {method} / rep {rep}: command still "
                                          f"running after {self.a.max_wait:g} s, killed")
                    try:
                        cmd.wait(10)
                    except subprocess.TimeoutExpired:
                        pass
                    rec["rc"] = cmd.returncode
                if cmdfd is not None:
                    os.close(cmdfd)
                out.close()

            end = max(t_last, t_cmd if t_cmd is not None else t0)
            rec["timed_out"] = timed_out
            rec["time_s"] = round(self.a.max_wait if timed_out else end - t0, 4)
            rec["cmd_s"] = round(t_cmd - t0, 4) if t_cmd is not None else None
            rec["last_exit_s"] = round(t_last - t0, 4)
            surv = h.session_pids(s["sid"])
            rec["survivors"] = len(surv)
            kinds: Dict[str, int] = {}
            detail = []
            for pid in surv:
                d = describe(pid, s["pid"])
                kinds[d.get("kind", "gone")] = kinds.get(d.get("kind", "gone"), 0) + 1
                if len(detail) < 10:
                    detail.append(d)
            rec["survivor_kinds"] = kinds
            rec["survivor_sample"] = detail
            rec["utmp_stale_after"] = any(r.pid == s["leader"]
                                          for r in h.utmp_user_entries(self.user.name)) \
                and not h.proc_alive(s["leader"])
            with open(outf, "rb") as f:
                rec["output"] = f.read()[-3000:].decode(errors="replace")
        finally:
            if w is not None:
                w.close()
            if s is not None:
                self.end_session(s)
        return rec

    def run(self):
        scns = []
        for n in self.a.sizes:
            det = round(n * self.a.detached_pct / 100)
            scns.append({"name": f"{n} processes", "kind": "static", "n": n, "detached": det,
                         "title": f"Session of {n:,} processes + root leader: {n - 1 - det:,} plain "
                                  f"children of the shell on the pty, {det:,} setsid'd (double fork, "
                                  f"no tty, parent PID 1)"})
        if not self.a.no_storm:
            scns.append({"name": "fork storm", "kind": "storm", "min": self.a.storm_min,
                         "title": f"Fork storm (bash, ulimit -u {STORM_CAP}, SIGHUP/SIGTERM ignored), "
                                  f"measured once past {self.a.storm_min:,} processes"})
        self.scenarios = scns
        for scn in scns:
            log(f"== {scn['title']}")
            calm = self.wait_calm()
            if calm:
                self.notes.append(f"{scn['name']}: {calm}")
            log(f"   load average {loadavg()}, {nprocs()} processes on the host")
            for rep in range(1, self.a.reps + 1):
                for m in self.a.methods:
                    rec = self.measure(scn, m, rep)
                    self.results.append(rec)
                    log(f"   rep {rep} {METHODS[m][0]:<24} {rec['time_s']:8.3f} s  "
                        f"start {rec['n_start']:>6}  survivors {rec['survivors']:>5}"
                        f"{'  rc=' + str(rec['rc']) if 'rc' in rec else ''}"
                        f"{'  TIMEOUT' if rec['timed_out'] else ''}")


def fix_stale_utmp(user: str) -> None:
    for r in h.utmp_user_entries(user):
        if not h.proc_alive(r.pid):
            h.utmp_logout(r.pid)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def report(bench: Bench) -> str:
    lines = []
    for scn in getattr(bench, "scenarios", []):
        recs = [r for r in bench.results if r["scenario"] == scn["name"]]
        if not recs:
            continue
        lines.append("")
        lines.append(scn["title"])
        starts = [r["n_start"] for r in recs]
        lines.append(f"  processes at the start of timing (leader included): median "
                     f"{statistics.median(starts):g}, range {min(starts)}-{max(starts)}; "
                     f"{len(recs) // max(len(bench.a.methods), 1)} reps")
        med = {}
        for m in bench.a.methods:
            ts = [r["time_s"] for r in recs if r["method"] == m]
            if ts:
                med[m] = statistics.median(ts)
        hdr = (f"  {'method':<24} {'median s':>9} {'min s':>8} {'x cgroup.kill':>14} "
               f"{'x pkill -s':>11} {'survivors':>10} {'(max)':>6} {'gone s':>8}")
        lines.append(hdr)
        lines.append("  " + "-" * (len(hdr) - 2))
        for m in bench.a.methods:
            rs = [r for r in recs if r["method"] == m]
            if not rs:
                continue
            ts = [r["time_s"] for r in rs]
            sv = statistics.median([r["survivors"] for r in rs])
            gone = statistics.median([r["last_exit_s"] for r in rs])

            def ratio(ref):
                return f"{med[m] / med[ref]:.2f}" if ref in med and med[ref] > 0 else "-"
            flag = " (timeouts)" if any(r["timed_out"] for r in rs) else ""
            lines.append(f"  {METHODS[m][0]:<24} {med[m]:>9.3f} {min(ts):>8.3f} "
                         f"{ratio('cgroup.kill'):>14} {ratio('pkill-s'):>11} {sv:>10g} "
                         f"{max(r['survivors'] for r in rs):>6} {gone:>8.3f}{flag}")
    if lines:
        lines += ["",
                  "median/min s: wall time from starting the method until it has returned AND the",
                  "  session's processes are gone (or, with survivors, until the last process that",
                  "  did end ended); x cgroup.kill / x pkill -s: ratio of medians; survivors: median",
                  "  (and max) live processes of the session left; gone s: median time until the last",
                  "  process that ended had exited (for logoff, the rest is its own final scans and",
                  "  utmp)."]
    return "\n".join(lines)


def anomalies(bench: Bench) -> List[str]:
    out = list(bench.notes)
    for r in bench.results:
        tag = f"{r['scenario']} / {METHODS[r['method']][0]} / rep {r['rep']}"
        if r["method"].startswith("logoff") or r["method"] == "cgroup.kill":
            if r["survivors"]:
                out.append(f"{tag}: {r['survivors']} survivors {r['survivor_kinds']} "
                           f"e.g. {r['survivor_sample'][:3]}")
        if r["method"].startswith("logoff"):
            if r.get("rc") not in (0, None):
                out.append(f"{tag}: logoff exit status {r.get('rc')}: "
                           f"{r['output'].strip().splitlines()[-3:]}")
            if r.get("utmp_stale_after"):
                out.append(f"{tag}: utmp entry of the leader still USER_PROCESS after logoff")
        if r["timed_out"]:
            out.append(f"{tag}: hit the {bench.a.max_wait:g} s limit")
    return out


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Benchmark logoff against pkill and cgroup.kill "
                                            "on real login sessions (run as root).")
    p.add_argument("--reps", type=int, default=5, help="repetitions per scenario and method (5)")
    p.add_argument("--sizes", default="1000,10000",
                   help="session sizes in processes, comma-separated (1000,10000)")
    p.add_argument("--detached-pct", type=float, default=10.0,
                   help="percent of the processes started with setsid (10)")
    p.add_argument("--no-storm", action="store_true", help="skip the fork-storm scenario")
    p.add_argument("--storm-min", type=int, default=1000,
                   help="start timing once the storm has this many processes (1000)")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help=f"comma-separated subset of {','.join(METHODS)}")
    p.add_argument("--max-wait", type=float, default=30.0,
                   help="give up waiting for a session to end after this many seconds (30)")
    p.add_argument("--settle", type=float, default=2.0,
                   help="after the command is done, stop waiting once no process has ended "
                        "for this long; what is left are survivors (2)")
    p.add_argument("--ready-timeout", type=float, default=60.0,
                   help="bound on building one session (60)")
    p.add_argument("--calm-timeout", type=float, default=30.0,
                   help="bound on waiting for the previous run's zombies to be reaped (30)")
    p.add_argument("--user", default="lobench", help="test user, created if missing (lobench)")
    p.add_argument("--keep-user", action="store_true", help="do not remove a user this run created")
    p.add_argument("--logoff", default=os.path.join(ROOT, "build", "logoff"))
    p.add_argument("--mksession", default=os.path.join(ROOT, "build", "tests", "mksession"))
    p.add_argument("--json", metavar="FILE", help="save machine facts and raw results here")
    p.add_argument("--cleanup", action="store_true",
                   help="only clean up after an interrupted run (kill the test user's processes, "
                        "remove logoff-bench-* cgroups and stale utmp entries, delete the user)")
    a = p.parse_args(argv)
    try:
        a.sizes = [int(x) for x in a.sizes.split(",") if x.strip()]
    except ValueError:
        p.error("--sizes wants numbers like 1000,10000")
    if any(n < 2 or n > 20000 for n in a.sizes):
        p.error("--sizes: each between 2 and 20000")
    a.methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    bad = [m for m in a.methods if m not in METHODS]
    if bad or not a.methods:
        p.error(f"--methods: unknown {bad}; choose from {','.join(METHODS)}")
    if a.reps < 1 or a.reps > 100:
        p.error("--reps: 1..100")
    if not 0 < a.max_wait <= 600 or not 0 < a.settle <= 60:
        p.error("--max-wait 0..600, --settle 0..60")
    if not 10 <= a.storm_min <= STORM_CAP - 100:
        p.error(f"--storm-min: 10..{STORM_CAP - 100}")
    return a


def cleanup_only(a) -> int:
    try:
        pw = pwd.getpwnam(a.user)
    except KeyError:
        pw = None
    if pw:
        kill_user(pw.pw_uid, pw.pw_gid)
    cg_remove_prefixed(cgroup2_mount(), CGROUP_PREFIX)
    if pw:
        try:
            h.wait_until(lambda: not user_pids(pw.pw_uid), 30, interval=0.1, what="reaping")
        except TimeoutError as e:
            log(str(e))
        fix_stale_utmp(a.user)
        h.run(["userdel", "-r", a.user], check=False, timeout=30)
    log("cleaned up")
    return 0


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.cleanup:
        return cleanup_only(a)

    raise_on_signals()
    facts = machine_facts(a.logoff, versions=[("pkill", ["pkill", "-V"])])
    print(machine_line(facts))
    print(logoff_line(a.logoff, facts))
    print(f"{facts.get('pkill', 'pkill ?')}; "
          f"reps={a.reps} sizes={a.sizes} storm={'no' if a.no_storm else 'yes'} "
          f"max-wait={a.max_wait:g}s settle={a.settle:g}s")
    sys.stdout.flush()

    b = Bench(a)
    rc, duration = run_bench(b, "bench")
    facts["after"] = {"loadavg": loadavg(), "host_processes": nprocs()}
    facts["duration_s"] = duration
    notes = anomalies(b)
    print_report(report(b), notes)
    print(f"\nafter: load={facts['after']['loadavg']} processes={facts['after']['host_processes']} "
          f"duration={facts['duration_s']:g}s")
    save_json(a.json, {"facts": facts, "args": {k: v for k, v in vars(a).items()},
                       "methods": {m: METHODS[m][1] for m in a.methods},
                       "results": b.results, "notes": notes})
    return rc


if __name__ == "__main__":
    sys.exit(main())

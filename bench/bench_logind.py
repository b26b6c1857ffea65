#!/usr/bin/python3
"""Benchmark on a real systemd-logind host: how fast does a session end, and
when has logind forgotten it?  (Issue 7, item 7.)

On the booted Debian 12 container of tests/hosts.py (systemd 252,
systemd-logind, sshd with pam_systemd), for fresh ``ssh -tt`` login sessions of
the same shape, in one run, it times:

  * ``logoff ID --timeout=0 /v``   (run as root inside, in no session)
  * ``logoff ID --timeout=1 /v``   (a short grace period)
  * ``loginctl terminate-session ID``
  * a bare ``cgroup.kill`` of the session's scope (written from this host)

from the start of the method until every process of the session has exited
AND logind has forgotten the session (its state file
/run/systemd/sessions/ID is gone: logind unlinks it when it frees the
session).  Run as root after ``ninja -C build``::

    /usr/bin/python3 bench/bench_logind.py [--reps 5] [--json FILE]

See bench/README.md ("Benchmark on a systemd-logind host").  Standard library
only (plus tests/hosts.py of this project).
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import hosts  # noqa: E402
from common import (STORM_CAP, STORM_SCRIPT, BenchError, Watch, built_time, cg_populated,  # noqa: E402
                    cg_procs, compile_c, fmt, loadavg, log, logoff_line, machine_facts, med,
                    print_report, private_copy, proc_cgroup, raise_nofile, raise_on_signals,
                    run_bench, save_json, sha256_file, stat_fields)

CG2 = "/sys/fs/cgroup/unified"
# A cgroup and machine name of our own: other people boot the shared
# SystemdHost (cgroup logoff-host-systemd, machine lo-systemd) at the same
# time, from /var/tmp/logoff-hosts; two containers in one cgroup would break both.
BENCH_CGROUP = "logoff-bench-host-systemd"
BENCH_MACHINE = "lo-bench-systemd"
USER = "alice"
UID = hosts.USERS[USER]

# The fork storm is bench.py's, common.STORM_SCRIPT: ALWAYS with the ulimit
# guard.  Note that RLIMIT_NPROC counts every process of uid 1000 on the
# machine (the container has no user namespace), so the cap is shared with
# other containers' alice.

METHODS = {
    # key: (label, description)
    "logoff-t0": ("logoff --timeout=0", "logoff ID --timeout=0 /v, as root inside the container, in no session"),
    "logoff-t1": ("logoff --timeout=1", "logoff ID --timeout=1 /v, as root inside the container, in no session"),
    "loginctl": ("loginctl terminate-session", "loginctl terminate-session ID, as root inside the container"),
    "cgroup.kill": ("cgroup.kill (scope)", "write 1 to the session scope's cgroup.kill (from this host)"),
}
DEFAULT_METHODS = ["logoff-t0", "logoff-t1", "loginctl", "cgroup.kill"]
SCENARIOS = ("stubborn", "graceful", "storm")

RX_GRACE = re.compile(r"Sent SIGHUP, SIGTERM and SIGCONT to (\d+) process(?:es)?; waited ([\d.]+) s")
RX_ELAPSED = re.compile(r"Session \S+ logged off in ([\d.]+) s")
RX_FORCED = re.compile(r"Ended what the grace period left in ([\d.]+) s")


# ---------------------------------------------------------------------------
# The host: tests/hosts.py's SystemdHost with a cgroup and machine name of its own
# ---------------------------------------------------------------------------

class BenchHost(hosts.SystemdHost):
    """SystemdHost under its own base directory (its own cached root and locks),
    booted into cgroup BENCH_CGROUP with machine name BENCH_MACHINE."""

    hostname = BENCH_MACHINE

    def __init__(self, base: Path):
        super().__init__(base)
        self.cgroup = BENCH_CGROUP

    def inside_argv(self, argv: List[str]) -> List[str]:
        """What Host.run executes, for a Popen we time ourselves."""
        e = {"PATH": hosts.PATH, "LANG": "C.UTF-8", "TERM": "xterm"}
        return ["nsenter", "--target", str(self.leader), *self.nsenter_ns, "--root", "--wd", "--",
                "/usr/bin/env", "-i", *[f"{k}={v}" for k, v in e.items()], *[str(a) for a in argv]]


# ---------------------------------------------------------------------------
# cgroup and /proc helpers (host side)
# ---------------------------------------------------------------------------

def cg_kill(d: str) -> bool:
    try:
        fd = os.open(os.path.join(d, "cgroup.kill"), os.O_WRONLY)
    except FileNotFoundError:
        return False
    try:
        os.write(fd, b"1")
    except OSError as e:
        if e.errno not in (errno.ENOENT, errno.ENODEV):
            raise
        return False
    finally:
        os.close(fd)
    return True


def proc_state_uid(pid: int):
    """(state letter, uid) of a process, or None."""
    f = stat_fields(pid)
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    return (f[0], uid) if f else None


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        self.host: Optional[BenchHost] = None
        self.tmp = None
        self.logoff_inside = None
        self.spawn_inside = "/usr/local/bin/spawn"
        self.cg_base = None            # host path of the container's cgroup root (payload)
        self.pidns = None
        self.results: List[Dict] = []
        self.notes: List[str] = []
        self.live: List[Dict] = []     # sessions not cleaned up yet
        self.loads: List[str] = []

    # -- setup / teardown ------------------------------------------------------
    def setup(self):
        if os.geteuid() != 0:
            raise BenchError("run as root (nspawn, cgroup writes)")
        if not os.access(self.a.logoff, os.X_OK):
            raise BenchError(f"{self.a.logoff} missing: build first (ninja -C build)")
        raise_nofile(STORM_CAP * 3 + 1024)
        self.tmp = tempfile.mkdtemp(prefix="logoff-bench-logind-")
        # A private copy, in a directory whose name becomes the installed name
        # (install_logoff: /usr/local/bin/logoff-<dir name>).
        bdir = os.path.join(self.tmp, "bench-logind")
        os.mkdir(bdir)
        self.logoff_sha256 = sha256_file(private_copy(self.a.logoff, os.path.join(bdir, "logoff")))
        self.logoff_built = built_time(self.a.logoff)
        spawn = os.path.join(self.tmp, "spawn")
        compile_c(os.path.join(HERE, "spawn.c"), spawn)

        self.host = BenchHost(Path(self.a.base))
        t = time.monotonic()
        log(f"starting the systemd host from {self.a.base} (first use builds the root: a few minutes)")
        self.host.start()
        log(f"   host up in {time.monotonic() - t:.1f} s {dict((k, round(v, 1)) for k, v in self.host.timings.items())}")
        self.logoff_inside = self.host.install_logoff(bdir)
        dst = self.host.root / self.spawn_inside.lstrip("/")
        shutil.copyfile(spawn, dst)
        os.chmod(dst, 0o755)
        self.host.installed.append(dst)
        leader = self.host.leader
        self.pidns = os.readlink(f"/proc/{leader}/ns/pid")
        # The container's cgroup root as this host sees it: the leader's
        # cgroup here, minus the part the container sees.
        outside = proc_cgroup(leader)
        inside = self.host.run(["cat", "/proc/1/cgroup"]).stdout
        inside = next((ln[3:] for ln in inside.splitlines() if ln.startswith("0::")), None)
        if not outside or not inside or not outside.endswith(inside):
            raise BenchError(f"cannot place the container's cgroup: here {outside!r}, inside {inside!r}")
        self.cg_base = CG2 + outside[: len(outside) - len(inside)]
        self.facts_inside = {
            "systemd": self.host.run(["systemctl", "--version"]).stdout.splitlines()[0],
            "container_cgroup": self.cg_base,
            "logoff_inside": self.logoff_inside,
        }
        # Linger: alice's user manager stays up all run, so each login finds
        # the same state (no user@1000.service start, no 10 s stop delay).
        self.host.run(["loginctl", "enable-linger", USER])
        hosts.wait_until(lambda: self.host.run(["systemctl", "is-active", f"user@{UID}.service"],
                                               check=False).stdout.strip() == "active",
                         30, interval=0.2, what=f"user@{UID}.service to start")

    def teardown(self):
        errors = []
        for s in list(self.live):
            try:
                self.end_session(s)
            except Exception as e:             # noqa: BLE001 - keep cleaning up
                errors.append(f"session {s.get('id')}: {e}")
        if self.host is not None and self.host.running():
            try:
                self.host.run(["loginctl", "disable-linger", USER], check=False)
                self.host.reset_users([USER], timeout=60)
            except Exception as e:             # noqa: BLE001
                errors.append(f"reset_users: {e}")
        if self.host is not None:
            try:
                self.host.stop()
            except Exception as e:             # noqa: BLE001
                errors.append(f"stopping the host: {e}")
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        for e in errors:
            log(f"cleanup: {e}")

    # -- the container's processes and sessions, from this host -------------
    def state_file(self, sid: str) -> str:
        return f"/proc/{self.host.leader}/root/run/systemd/sessions/{sid}"

    def user_leftovers(self):
        """(live processes of alice outside user@UID.service, zombies of alice)
        in the container, scanned from this host."""
        live = zombies = 0
        keep = f"/user@{UID}.service/"
        for n in os.listdir("/proc"):
            if not n.isdigit():
                continue
            su = proc_state_uid(int(n))
            if not su or su[1] != UID:
                continue
            try:
                if os.readlink(f"/proc/{n}/ns/pid") != self.pidns:
                    continue
            except OSError:
                continue
            if su[0] in ("Z", "X"):
                zombies += 1
            elif keep not in (proc_cgroup(int(n)) or keep):
                live += 1
        return live, zombies

    def user_sessions(self) -> List[str]:
        d = f"/proc/{self.host.leader}/root/run/systemd/sessions"
        out = []
        for n in os.listdir(d):
            if n.endswith(".ref"):
                continue
            try:
                with open(os.path.join(d, n)) as f:
                    if f"UID={UID}\n" in f.read():
                        out.append(n)
            except OSError:
                pass
        return out

    def wait_calm(self) -> Optional[str]:
        """No process of the test user left (zombies included) but its user
        manager, and no session of it."""
        def calm():
            live, zombies = self.user_leftovers()
            return not live and not zombies and not self.user_sessions()
        try:
            hosts.wait_until(calm, self.a.calm_timeout, interval=0.1, what="the test user to be idle")
            return None
        except TimeoutError:
            live, zombies = self.user_leftovers()
            return (f"{live} live + {zombies} zombie processes and sessions {self.user_sessions()} "
                    f"of {USER} still there before the run")

    # -- sessions --------------------------------------------------------------
    def build(self, scn: Dict) -> Dict:
        if scn["kind"] == "storm":
            cmd = STORM_SCRIPT
        else:
            cmd = (f"exec {self.spawn_inside} {'-i ' if scn['ignore'] else ''}"
                   f"{scn['n']} {scn['detached']}")
        t = time.monotonic()
        login = self.host.login(USER, cmd, timeout=60)
        s = {"login": login, "id": login.logind_id, "audit": login.sid, "tty": login.tty}
        self.live.append(s)
        s["login_s"] = round(time.monotonic() - t, 3)
        scope_unit = self.host.session_prop(s["id"], "Scope")
        cg = self.host.run(["systemctl", "show", "-p", "ControlGroup", "--value", "--", scope_unit]).stdout.strip()
        s["scope_unit"], s["scope_inside"] = scope_unit, cg
        s["scope"] = self.cg_base + cg
        s["scope_rel"] = s["scope"][len(CG2):]
        if not os.path.isdir(s["scope"]):
            raise BenchError(f"scope cgroup {s['scope']} of session {s['id']} not found")
        want = scn["n"] + 2 if scn["kind"] != "storm" else scn["min"]
        # + 2: sshd's privileged monitor (root) and its user process are in the scope too
        try:
            hosts.wait_until(lambda: len(cg_procs(s["scope"])) >= want, self.a.ready_timeout, interval=0.05,
                             what=f"session {s['id']} to hold {want} processes")
        except TimeoutError as e:
            raise BenchError(f"{e}: has {len(cg_procs(s['scope']))}; client output "
                             f"{login.output()[-500:]!r}") from None
        if scn["kind"] != "storm":
            time.sleep(0.05)
            got = len(cg_procs(s["scope"]))
            if got != want:
                raise BenchError(f"session {s['id']} holds {got} processes, expected {want}")
        return s

    def end_session(self, s: Dict) -> None:
        """Kill whatever is left in the scope, close the ssh client, wait until
        logind has forgotten the session.  Idempotent."""
        if s.get("ended"):
            return
        for _ in range(50):
            if not cg_populated(s["scope"]):
                break
            cg_kill(s["scope"])
            time.sleep(0.05)
        s["login"].close()
        try:
            hosts.wait_until(lambda: not os.path.exists(self.state_file(s["id"])), 30, interval=0.05,
                             what=f"logind to forget session {s['id']}")
        except TimeoutError:
            self.host.run(["loginctl", "terminate-session", s["id"]], check=False)
            cg_kill(s["scope"])
            hosts.wait_until(lambda: not os.path.exists(self.state_file(s["id"])), 30, interval=0.1,
                             what=f"logind to forget session {s['id']} (after terminate-session)")
        s["ended"] = True
        if s in self.live:
            self.live.remove(s)

    # -- one measurement -------------------------------------------------------
    def measure(self, scn: Dict, method: str, rep: int) -> Dict:
        calm = self.wait_calm()
        if calm:
            self.notes.append(f"{scn['name']} / {method} / rep {rep}: {calm}")
        load = loadavg()
        self.loads.append(load)
        s = self.build(scn)
        w = None
        rec = {"scenario": scn["name"], "method": method, "rep": rep, "session": s["id"], "audit": s["audit"],
               "tty": s["tty"], "scope": s["scope_inside"], "login_s": s["login_s"], "loadavg_before": load}
        try:
            w = Watch(lambda pid, rel=s["scope_rel"]: proc_cgroup(pid) == rel)
            snap = cg_procs(s["scope"])
            w.add(snap)
            rec["n_start"] = len(snap)
            rec["n_watched"] = len(w)
            statef = self.state_file(s["id"])
            if not os.path.exists(statef):
                raise BenchError(f"no state file {statef} for session {s['id']}")
            argv = None
            if method == "logoff-t0":
                argv = [self.logoff_inside, s["id"], "--timeout=0", "/v"]
            elif method == "logoff-t1":
                argv = [self.logoff_inside, s["id"], "--timeout=1", "/v"]
            elif method == "loginctl":
                argv = ["loginctl", "terminate-session", s["id"]]
            rec["argv"] = argv
            outf = os.path.join(self.tmp, "out.txt")
            out = open(outf, "wb")
            cmd = cmdfd = None
            t_cmd = t_gone = t_forgot = None
            timed_out = False
            t0 = time.monotonic()
            try:
                if argv:
                    cmd = subprocess.Popen(self.host.inside_argv(argv), stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=subprocess.STDOUT)
                    cmdfd = os.pidfd_open(cmd.pid)
                    w.ep.register(cmdfd, select.EPOLLIN)
                else:
                    cg_kill(s["scope"])
                t_last = t0
                deadline = t0 + self.a.max_wait
                while True:
                    evs = w.ep.poll(0.001)
                    now = time.monotonic()
                    for fd, _ in evs:
                        if fd == cmdfd:
                            w.ep.unregister(cmdfd)
                            t_cmd = now
                        else:
                            w.exited(fd)
                            t_last = now
                    if t_gone is None and not len(w):
                        # every process we knew of is gone: anything new (a storm's late child)?
                        left = cg_procs(s["scope"])
                        if not left:
                            t_gone = t_last
                        else:
                            w.add(left)
                    if t_forgot is None and not os.path.exists(statef):
                        t_forgot = now
                    if t_gone is not None and t_forgot is not None and (cmd is None or t_cmd is not None):
                        break
                    if now >= deadline:
                        timed_out = True
                        break
            finally:
                if cmd is not None:
                    if cmd.poll() is None:
                        self.notes.append(f"{scn['name']} / {method} / rep {rep}: command still running "
                                          f"after {self.a.max_wait:g} s, killed")
                        cmd.kill()
                    try:
                        cmd.wait(10)
                    except subprocess.TimeoutExpired:
                        pass
                    rec["rc"] = cmd.returncode
                if cmdfd is not None:
                    os.close(cmdfd)
                out.close()
            rec["timed_out"] = timed_out
            rec["cmd_s"] = round(t_cmd - t0, 4) if t_cmd is not None else None
            rec["gone_s"] = round(t_gone - t0, 4) if t_gone is not None else None
            rec["forgotten_s"] = round(t_forgot - t0, 4) if t_forgot is not None else None
            rec["last_exit_s"] = round(t_last - t0, 4)
            ends = [t for t in (t_cmd, t_gone, t_forgot) if t is not None]
            rec["time_s"] = None if timed_out else round(max(ends) - t0, 4)
            rec["survivors"] = len(cg_procs(s["scope"]))
            if t_forgot is None:
                rec["state_after"] = self.host.session_prop(s["id"], "State")
            else:
                cp = self.host.run(["loginctl", "show-session", s["id"]], check=False)
                rec["loginctl_confirms_gone"] = cp.returncode != 0
            with open(outf, "rb") as f:
                rec["output"] = f.read()[-4000:].decode(errors="replace")
            if method.startswith("logoff"):
                m = RX_GRACE.search(rec["output"])
                e = RX_ELAPSED.search(rec["output"])
                if m:
                    rec["v_hangup"] = int(m.group(1))
                    rec["v_waited_s"] = float(m.group(2))
                if e:
                    rec["v_elapsed_s"] = float(e.group(1))
                f = RX_FORCED.search(rec["output"])
                if f:
                    rec["v_forced_s"] = float(f.group(1))
                elif m and e:
                    rec["v_forced_s"] = round(rec["v_elapsed_s"] - rec["v_waited_s"], 3)
        finally:
            if w is not None:
                w.close()
            self.end_session(s)
        return rec

    def run(self):
        scns = []
        n, det = self.a.size, round(self.a.size * self.a.detached_pct / 100)
        for name in self.a.scenarios:
            if name == "stubborn":
                scns.append({"name": name, "kind": "static", "n": n, "detached": det, "ignore": True,
                             "title": f"Session of {n:,} processes IGNORING SIGHUP and SIGTERM ({det:,} setsid'd, "
                                      f"double fork) + sshd's 2: the forced phase"})
            elif name == "graceful":
                scns.append({"name": name, "kind": "static", "n": n, "detached": det, "ignore": False,
                             "title": f"Session of {n:,} processes, default dispositions ({det:,} setsid'd) "
                                      f"+ sshd's 2: the graceful path"})
            elif name == "storm":
                scns.append({"name": name, "kind": "storm", "min": self.a.storm_min,
                             "title": f"Fork storm (bash, ulimit -u {STORM_CAP}, SIGHUP/SIGTERM ignored), "
                                      f"timed once its scope passes {self.a.storm_min:,} processes"})
        self.scenarios = scns
        for scn in scns:
            log(f"== {scn['title']}")
            for rep in range(1, self.a.reps + 1):
                for m in self.a.methods:
                    rec = self.measure(scn, m, rep)
                    self.results.append(rec)
                    t = f"{rec['time_s']:8.3f} s" if rec["time_s"] is not None else \
                        f"not ended within {self.a.max_wait:g} s"
                    extra = ""
                    if "v_forced_s" in rec:
                        extra = f"  /v: waited {rec['v_waited_s']:.2f} s, logged off in {rec['v_elapsed_s']:.2f} s"
                    log(f"   rep {rep} {METHODS[m][0]:<27} {t}  start {rec['n_start']:>5}  "
                        f"gone {fmt(rec['gone_s'])}  forgotten {fmt(rec['forgotten_s'])}  "
                        f"survivors {rec['survivors']}{'  rc=' + str(rec['rc']) if 'rc' in rec else ''}{extra}")


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def report(b: Bench) -> str:
    lines = []
    mw = b.a.max_wait
    for scn in getattr(b, "scenarios", []):
        recs = [r for r in b.results if r["scenario"] == scn["name"]]
        if not recs:
            continue
        lines += ["", scn["title"]]
        starts = [r["n_start"] for r in recs]
        lines.append(f"  processes in the scope at the start of timing: median {statistics.median(starts):g}, "
                     f"range {min(starts)}-{max(starts)}; {b.a.reps} reps")
        medians: Dict[str, Optional[float]] = {}
        for m in b.a.methods:
            rs = [r for r in recs if r["method"] == m]
            if rs:
                ts = [r["time_s"] if r["time_s"] is not None else float("inf") for r in rs]
                medians[m] = statistics.median(ts)
        hdr = (f"  {'method':<27} {'median s':>9} {'min s':>8} {'x cgroup.kill':>13} {'x loginctl':>10} "
               f"{'gone s':>7} {'forgot s':>8} {'forced s':>8} {'survivors':>9} {'not ended':>9}")
        lines.append(hdr)
        lines.append("  " + "-" * (len(hdr) - 2))
        for m in b.a.methods:
            rs = [r for r in recs if r["method"] == m]
            if not rs:
                continue
            ended = [r["time_s"] for r in rs if r["time_s"] is not None]
            nte = len(rs) - len(ended)
            mm = medians[m]
            ms = f"{mm:9.3f}" if mm != float("inf") else f"{'>' + format(mw, 'g'):>9}"
            mins = f"{min(ended):8.3f}" if ended else f"{'-':>8}"

            def ratio(ref):
                if ref not in medians:
                    return "-"
                a, r = mm, medians[ref]
                if a == float("inf") and r == float("inf"):
                    return "-"
                if r == float("inf"):
                    return f"<{a / mw:.3f}"
                if a == float("inf"):
                    return f">{mw / r:.0f}"
                return f"{a / r:.2f}" if r > 0 else "-"

            def mcol(key):
                return med([r.get(key) for r in rs])
            gone = mcol("gone_s")
            forg = mcol("forgotten_s")
            forced = mcol("v_forced_s") if m.startswith("logoff") else (gone if m == "cgroup.kill" else None)
            sv = [r["survivors"] for r in rs]
            lines.append(f"  {METHODS[m][0]:<27} {ms} {mins} {ratio('cgroup.kill'):>13} {ratio('loginctl'):>10} "
                         f"{fmt(gone, 7)} {fmt(forg, 8)} {fmt(forced, 8)} "
                         f"{statistics.median(sv):>5g}/{max(sv):<3} {str(nte) + '/' + str(len(rs)):>9}")
        lo = [r for r in recs if r["method"] == "logoff-t0" and r.get("v_forced_s") is not None]
        ck = [r["gone_s"] for r in recs if r["method"] == "cgroup.kill" and r.get("gone_s") is not None]
        if lo and ck and (scn["kind"] == "storm" or scn.get("ignore")):
            f = statistics.median([r["v_forced_s"] for r in lo])
            wall = statistics.median([r["time_s"] - r["v_waited_s"] for r in lo if r["time_s"] is not None])
            k = statistics.median(ck)
            lines.append(f"  logoff --timeout=0 forced phase (its /v: 'Ended what the grace period left in X s'): {f:.3f} s "
                         f"= {f / k:.2f} x bare cgroup.kill ({k:.3f} s until the scope is empty); "
                         f"wall minus grace: {wall:.3f} s")
    sample = next((r for r in b.results if r["method"] == "logoff-t0" and r["scenario"] == "stubborn"), None) \
        or next((r for r in b.results if r["method"].startswith("logoff")), None)
    if sample:
        lines += ["", f"/v output of logoff, {sample['scenario']} / {METHODS[sample['method']][0]} / rep "
                      f"{sample['rep']} (wall {fmt(sample['time_s'])} s):"]
        lines += ["  | " + ln for ln in sample["output"].strip().splitlines()]
    if lines:
        lines += ["",
                  "median/min s: from starting the method until every process of the session has exited AND",
                  f"  logind has forgotten the session (and the command has returned); '>{mw:g}': not ended",
                  "  within --max-wait in the majority of reps.  x cgroup.kill / x loginctl: ratio of medians",
                  "  ('<' when the reference did not end).  gone s: median time until the last process",
                  "  exited; forgot s: until logind's state file /run/systemd/sessions/ID was gone.",
                  "  forced s: for logoff, 'Ended what the grace period left in X s' from its /v output;",
                  "  for cgroup.kill, its gone time.  survivors: median/max processes left in the scope",
                  "  when the wait ended; not ended: reps that hit --max-wait."]
    return "\n".join(lines)


def anomalies(b: Bench) -> List[str]:
    out = list(b.notes)
    for r in b.results:
        tag = f"{r['scenario']} / {METHODS[r['method']][0]} / rep {r['rep']}"
        if r["time_s"] is None:
            out.append(f"{tag}: not ended within {b.a.max_wait:g} s: {r['survivors']} survivors in the scope, "
                       f"processes {'gone' if r['gone_s'] is not None else 'not gone'}, "
                       f"logind state {r.get('state_after') or 'forgotten'}")
        if r["method"].startswith("logoff") and r.get("rc") not in (0, None):
            out.append(f"{tag}: logoff exit status {r.get('rc')}: {r['output'].strip().splitlines()[-3:]}")
        if r.get("loginctl_confirms_gone") is False:
            out.append(f"{tag}: state file gone but loginctl show-session still answers")
    return out


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Benchmark logoff against loginctl terminate-session and a bare "
                                            "cgroup.kill on a booted systemd-logind container (run as root).")
    p.add_argument("--reps", type=int, default=5, help="repetitions per scenario and method (5)")
    p.add_argument("--size", type=int, default=1000, help="processes per static session (1000)")
    p.add_argument("--detached-pct", type=float, default=10.0, help="percent started with setsid (10)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   help=f"comma-separated subset of {','.join(SCENARIOS)} (all)")
    p.add_argument("--storm-min", type=int, default=1000,
                   help="start timing once the storm's scope holds this many processes (1000)")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help=f"comma-separated subset of {','.join(METHODS)}")
    p.add_argument("--max-wait", type=float, default=30.0,
                   help="record a method as 'not ended' after this many seconds (30)")
    p.add_argument("--ready-timeout", type=float, default=60.0, help="bound on building one session (60)")
    p.add_argument("--calm-timeout", type=float, default=30.0,
                   help="bound on waiting for the previous session's processes and zombies to go (30)")
    p.add_argument("--base", default="/var/tmp/logoff-bench-hosts",
                   help="directory of this benchmark's own cached root and locks (/var/tmp/logoff-bench-hosts)")
    p.add_argument("--logoff", default=os.path.join(ROOT, "build", "logoff"))
    p.add_argument("--json", metavar="FILE", help="save machine facts and raw results here")
    a = p.parse_args(argv)
    a.methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    if not a.methods or any(m not in METHODS for m in a.methods):
        p.error(f"--methods: choose from {','.join(METHODS)}")
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    if not a.scenarios or any(s not in SCENARIOS for s in a.scenarios):
        p.error(f"--scenarios: choose from {','.join(SCENARIOS)}")
    if not 1 <= a.reps <= 100:
        p.error("--reps: 1..100")
    if not 3 <= a.size <= 4000:
        p.error("--size: 3..4000 (the scope's TasksMax is about 4,900 here)")
    if not 0 < a.max_wait <= 600:
        p.error("--max-wait: 0..600")
    if not 10 <= a.storm_min <= STORM_CAP - 100:
        p.error(f"--storm-min: 10..{STORM_CAP - 100}")
    a.logoff = os.path.abspath(a.logoff)
    return a


def main(argv=None) -> int:
    a = parse_args(argv)

    raise_on_signals()
    facts = machine_facts()
    b = Bench(a)

    def ready():
        facts.update(b.facts_inside)
        facts["logoff_sha256"] = b.logoff_sha256
        facts["logoff_built"] = b.logoff_built
        print(f"machine: nproc={facts['nproc']} kernel={facts['kernel']} os={facts.get('os')} "
              f"load={facts['loadavg']}")
        print(f"host: {facts['systemd']}, container cgroup {facts['container_cgroup']}")
        print(logoff_line(a.logoff, facts))
        print(f"reps={a.reps} size={a.size} detached={a.detached_pct:g}% scenarios={a.scenarios} "
              f"max-wait={a.max_wait:g}s")
        sys.stdout.flush()

    rc, duration = run_bench(b, "bench", errors=(BenchError, hosts.HostError, TimeoutError), ready=ready)
    facts["after"] = {"loadavg": loadavg()}
    facts["duration_s"] = duration
    one = [float(x.split()[0]) for x in b.loads if x != "?"]
    if one:
        facts["loadavg_1min_during"] = {"median": statistics.median(one), "min": min(one), "max": max(one)}
    notes = anomalies(b)
    print_report(report(b), notes)
    during = facts.get("loadavg_1min_during")
    print(f"\nload (1 min) before the measurements: median {during['median']:.2f}, range "
          f"{during['min']:.2f}-{during['max']:.2f}" if during else "")
    print(f"after: load={facts['after']['loadavg']} duration={facts['duration_s']:g}s")
    save_json(a.json, {"facts": facts, "args": vars(a), "methods": {m: METHODS[m][1] for m in a.methods},
                       "results": b.results, "notes": notes})
    return rc


if __name__ == "__main__":
    sys.exit(main())

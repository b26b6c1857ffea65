"""Real xrdp + Xfce 4.18 desktops inside the systemd-logind host (tests/hosts.py :class:`XfceHost`).

Plain library code (standard library only, no pytest) run as root by Debian's
``/usr/bin/python3``; fixtures live in ``tests/xfce/conftest.py``.  What it
does was first checked by hand on logind-lab.sh's container (see
/work/shared/labs/README.md, "xrdp + Xfce inside the systemd-logind host"):

* :func:`start_xrdp`: makes ``/dev/fuse`` in the container if missing
  (``mknod -m 666 /dev/fuse c 10 229``: nspawn makes none, and xrdp-chansrv
  needs it to mount ``~/thinclient_drives``), then ``systemctl start
  xrdp-sesman xrdp`` (Debian's units; the root has them disabled) and waits
  until both listen (xrdp 127.0.0.1:3389 and sesman 3350, in the container's
  loopback-only network).
* :class:`XfceClient`: an ``Xvfb`` of its own (``:90`` and up) and ``xfreerdp``
  on it, both started *inside* the container as root (``nsenter``, so outside
  every session, in the test process's cgroup), with ``HOME=/root``.  It logs a
  user in with ``/u: /p: /d:Xorg /cert:ignore`` (FreeRDP 2.11 takes
  ``/cert:ignore``; ``/cert-ignore`` is its deprecated spelling) and waits for
  the desktop: the session's sesman child, its ``Xorg :N``, the client
  attached, ``xfce4-session``, ``xfwm4`` and ``xfce4-panel`` of the user
  running in the session's scope, the logind session listed by ``loginctl``
  and ``~/thinclient_drives`` mounted.  :meth:`XfceClient.disconnect` kills the
  client (the session stays, ``Disc``), :meth:`XfceClient.reconnect` starts a
  new one on the same Xvfb with the same size (sesman gives it the running
  session), :meth:`XfceClient.wait_exit` gives the client's exit status.
* :func:`sessions` / :func:`session_of`: what identifies a running xrdp session
  (:class:`XfceSession`), from one snapshot of the container's /proc,
  ``/proc/self/mountinfo`` and ``/proc/net/unix`` taken inside (a python3
  script run with the host's nsenter ``run``): the sesman child, the X server
  and display, the logind ID (the ``session-ID.scope`` of the sesman child's
  cgroup), the processes in that scope and the session's process tree, the
  FUSE mounts under the user's home, the display's X lock and socket.
* :func:`run_as_user` runs a command as the user on the session's D-Bus
  (``DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/UID/bus``, ``DISPLAY=:N``,
  via ``setpriv``: no PAM, no new session); :func:`logout` is a normal Xfce
  logout, ``xfce4-session-logout --logout`` there.
* :func:`reset` (after every test): ends the clients, the test users'
  processes and sessions, waits for the sesman children to exit, and removes
  what a killed session left (stale FUSE mounts, X locks of dead servers),
  saying what it found.

Facts (Debian 12 container: xrdp 0.9.21.1, xorgxrdp 0.9.19, Xfce 4.18
(xfce4-session 4.18.1, xfwm4 4.18.0, xfce4-panel 4.18.2), FreeRDP 2.11.7,
systemd 252; measured on 2 cores; a run of tests/xfce, 3 tests, takes about 30 s
with the root cached):

* :func:`start_xrdp`: 2.1 s (Debian's xrdp.service forks; the daemon listens
  about 2 s in).  An Xvfb: 0.15 s.
* Login (xfreerdp started to desktop ready, xfce4-session idle included):
  2.2-3.5 s.  The session is logind's ``c1`` (no pam_loginuid in Debian's
  /etc/pam.d/xrdp-sesman: audit session 4294967295), Type x11, Class user,
  Service xrdp-sesman, Remote no, Display ``:10``, Leader the sesman child,
  scope ``session-c1.scope`` holding the sesman child, ``Xorg :10``,
  xrdp-chansrv, ``ssh-agent x-session-manager`` (Xsession's), xfce4-session,
  xfwm4, xfsettingsd, xfce4-panel and its plugin wrappers, xfdesktop, Thunar,
  xfce4-notifyd.  ``DISPLAY`` there is ``:10.0``, ``XDG_SESSION_ID=c1``,
  ``XRDP_SESSION=1``.
* xfce4-session is still in its startup state for about a second after the
  panel shows, and refuses a logout until idle ("Session manager must be in
  idle state when requesting a shutdown"; xfce4-session-logout then shows an
  error dialog and never exits): :meth:`XfceClient.start` waits for
  ``org.xfce.Session.Manager.GetState`` = 1 (idle), :func:`logout` checks it.
* Disconnect (client killed): xrdp shows it at once; xrdp-chansrv keeps
  running but unmounts ``~/thinclient_drives``.  Reconnect: 1.6-1.9 s, the
  same sesman child, xfce4-session and logind ID, the drives mounted again; no
  pause is needed between the two (unlike Xvnc in tests/rdp.py).
* Logout (:func:`logout`): the client exits 0.8-0.9 s after the call, status 12
  after ``ERRINFO_LOGOFF_BY_USER``; the sesman child closes PAM, ends Xorg and
  xrdp-chansrv (which exits 0 and unmounts), removes the sockets and X lock
  and exits by itself; logind lists the session about 9 s longer, because
  Xsession's ``ssh-agent`` (``use-ssh-agent`` in /etc/X11/Xsession.options)
  stays in the scope until its 10-second check sees its parent gone.  The next
  login gets ``:10`` again.  xfce4-session saves the session at logout
  (``~/.cache/sessions``; the next login would restore it instead of the
  default session): :func:`reset` removes it.

Traps: ``xfreerdp`` prints nothing and exits 1 without ``HOME``;
``xfce4-session-logout`` without the session's bus address autolaunches a new
bus and hangs (so :func:`run_as_user` always sets it); the user's
``dbus-daemon`` and ``xfconfd`` run in ``user@UID.service``, not in the
session scope, and stay after a logout until the user manager stops (expected;
not part of the session); ``nsenter`` passes no signal on to the command it
forks, which runs in a process group of its own, so a client is ended by the
pid of nsenter's child (then nsenter exits with its status: -9 after SIGKILL); Debian's
``/etc/xrdp/startwm.sh`` runs ``/etc/X11/Xsession``, which runs
``x-session-manager``: the root is checked at build time to point it at
``xfce4-session``.

Every wait is bounded and raises :class:`TimeoutError` (or :class:`XfceError`)
naming what was awaited.

Typical use::

    with XfceHost() as h:
        start_xrdp(h)
        c = XfceClient(h, "alice").start()      # Xfce desktop up
        s = c.session()                          # XfceSession: s.logind_id, s.display, ...
        c.disconnect(); c.reconnect()
        logout(h, s); c.wait_exit()
        reset(h)
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import hosts as HS  # noqa: E402  (tests/, on the path of every user of this module)

__all__ = ["XfceError", "RDP_PORT", "SESMAN_PORT", "DESKTOP", "DESKTOPS", "start_xrdp", "ensure_fuse", "xrdp_running",
           "xrdp_logs", "snapshot", "XfceSession", "sessions", "session_of", "fuse_mounts", "x_files",
           "sesman_children", "user_env", "run_as_user", "SM_STATES", "session_manager_state", "logout",
           "mate_session_running",
           "XfceClient", "reset", "wait_until"]

wait_until = HS.wait_until

RDP_PORT = 3389           # Debian's xrdp.ini; the container's network is loopback only
SESMAN_PORT = 3350
#: the processes of an Xfce desktop that must run (as the user, in the session's scope)
DESKTOP = ("xfce4-session", "xfwm4", "xfce4-panel")
#: per desktop a client can ask for: what must run, and the ~/.xsession that starts it
#: (None: Debian's x-session-manager, startxfce4).  MATE is only its session manager
#: (mate-session-manager without recommends: no marco, panel or caja; it warns that
#: those required components are missing and runs on): enough for its D-Bus calls.
DESKTOPS = {"xfce": (DESKTOP, None), "mate": (("mate-session",), "exec mate-session\n")}
SOCKDIR = "/run/xrdp/sockdir"


class XfceError(HS.HostError):
    """An xrdp/Xfce harness operation failed."""


# ---------------------------------------------------------------------------
# xrdp inside the container
# ---------------------------------------------------------------------------

def ensure_fuse(host) -> bool:
    """Make /dev/fuse in the container if it is missing (nspawn makes none); True if made."""
    cp = host.sh("if [ -c /dev/fuse ]; then echo present; else mknod -m 666 /dev/fuse c 10 229 && echo made; fi")
    return cp.stdout.strip() == "made"


def _listening(host) -> Dict[int, bool]:
    out = host.run(["ss", "-Hltn"], check=False).stdout
    return {p: bool(re.search(rf":{p}\s", out)) for p in (RDP_PORT, SESMAN_PORT)}


def xrdp_running(host) -> bool:
    """xrdp and xrdp-sesman both active and listening."""
    states = [host.unit_state(u) for u in ("xrdp-sesman.service", "xrdp.service")]
    return states == ["active", "active"] and all(_listening(host).values())


def xrdp_logs(host, n: int = 25) -> str:
    """The last lines of xrdp's and sesman's logs inside, for messages."""
    return host.sh(f"for f in /var/log/xrdp-sesman.log /var/log/xrdp.log; do echo \"--- $f\"; "
                   f"tail -n {int(n)} $f 2>&1; done", check=False).stdout


def start_xrdp(host, timeout: float = 30.0) -> float:
    """/dev/fuse, then ``systemctl start xrdp-sesman xrdp`` inside; waits until both
    listen.  Seconds it took."""
    t0 = time.monotonic()
    ensure_fuse(host)
    cp = host.run(["systemctl", "start", "xrdp-sesman.service", "xrdp.service"], check=False, timeout=timeout)
    if cp.returncode != 0:
        raise XfceError(f"systemctl start xrdp-sesman xrdp failed (rc={cp.returncode}): {cp.stderr.strip()}\n"
                        + host.run(["systemctl", "status", "--no-pager", "-n", "20", "xrdp-sesman", "xrdp"],
                                   check=False).stdout)
    try:
        wait_until(lambda: all(_listening(host).values()), max(1.0, timeout - (time.monotonic() - t0)),
                   interval=0.1, what=f"xrdp on :{RDP_PORT} and xrdp-sesman on :{SESMAN_PORT} to listen "
                                      f"in the {host.name} container")
    except TimeoutError as e:
        raise TimeoutError(f"{e}\n{xrdp_logs(host)}") from None
    host.timings["xrdp_start"] = time.monotonic() - t0
    return host.timings["xrdp_start"]


# ---------------------------------------------------------------------------
# What is running inside: one snapshot
# ---------------------------------------------------------------------------

# Runs inside the container as root (python3 is in the root): every process with what
# identifies an xrdp session, the mounts, the connected unix sockets, the X files.
_PROBE = r'''
import json, os, re
procs = []
for n in os.listdir("/proc"):
    if not n.isdigit():
        continue
    d = "/proc/" + n
    try:
        stat = open(d + "/stat").read()
        rest = stat[stat.rfind(")") + 2:].split()
        status = open(d + "/status").read()
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        argv = [a.decode(errors="replace") for a in open(d + "/cmdline", "rb").read().split(b"\0") if a]
        comm = open(d + "/comm").read().strip()
        cg = open(d + "/cgroup").read()
    except (OSError, AttributeError):
        continue
    if rest[0] in ("Z", "X"):
        continue
    m = re.search(r"^1:name=systemd:(.*)$", cg, re.M) or re.search(r"^0::(.*)$", cg, re.M)
    env = {}
    try:
        for item in open(d + "/environ", "rb").read().split(b"\0"):
            k, _, v = item.partition(b"=")
            if k in (b"XRDP_SESSION", b"DISPLAY", b"XDG_SESSION_ID"):
                env[k.decode()] = v.decode(errors="replace")
    except OSError:
        pass
    procs.append({"pid": int(n), "ppid": int(rest[1]), "uid": uid, "state": rest[0], "comm": comm,
                  "argv": argv, "cgroup": m.group(1) if m else "", "env": env})
mounts = []
for line in open("/proc/self/mountinfo"):
    f = line.split()
    sep = f.index("-")
    mounts.append({"target": f[4].replace("\\040", " "), "fstype": f[sep + 1], "source": f[sep + 2]})
connected = []
for line in open("/proc/net/unix").read().splitlines()[1:]:
    f = line.split()
    if len(f) >= 8 and f[5] == "03":
        connected.append(f[7])
xfiles = {}
for d, rx in (("/tmp", r"^\.X(\d+)-lock$"), ("/tmp/.X11-unix", r"^X(\d+)$")):
    try:
        for e in os.listdir(d):
            if re.match(rx, e):
                p = os.path.join(d, e)
                try:
                    xfiles[p] = open(p).read().strip() if d == "/tmp" else ""
                except OSError:
                    xfiles[p] = ""
    except OSError:
        pass
try:
    sock = sorted(os.listdir("/run/xrdp/sockdir"))
except OSError:
    sock = []
print(json.dumps({"procs": procs, "mounts": mounts, "connected": connected, "xfiles": xfiles,
                  "sockdir": sock}))
'''


def snapshot(host) -> dict:
    """One look at the container (see _PROBE): procs, mounts, connected, xfiles, sockdir."""
    cp = host.run(["python3", "-c", _PROBE], timeout=30)
    return json.loads(cp.stdout)


def _comm_is(p: dict, name: str) -> bool:
    # /proc/PID/comm is cut at 15 characters ("xfce4-notifyd", "xfce4-session" fit)
    return p["comm"] == name[:15]


def _sesman_pids(snap: dict) -> List[int]:
    """xrdp-sesman daemons: comm xrdp-sesman, root, child of the container's init."""
    return [p["pid"] for p in snap["procs"] if _comm_is(p, "xrdp-sesman") and p["ppid"] == 1 and p["uid"] == 0]


def sesman_children(host, snap: Optional[dict] = None) -> List[int]:
    """PIDs (inside) of sesman's per-session root children (xrdp's session IDs)."""
    snap = snap or snapshot(host)
    daemons = set(_sesman_pids(snap))
    return sorted(p["pid"] for p in snap["procs"] if p["ppid"] in daemons and p["uid"] == 0)


def fuse_mounts(host, under: str, snap: Optional[dict] = None) -> List[dict]:
    """FUSE mounts (``fstype`` fuse*) at or below ``under`` in the container's mount
    namespace (/proc/self/mountinfo inside): [{target, fstype, source}]."""
    snap = snap or snapshot(host)
    u = under.rstrip("/")
    return [m for m in snap["mounts"] if m["fstype"].startswith("fuse")
            and (m["target"] == u or m["target"].startswith(u + "/"))]


def x_files(host, display: int, snap: Optional[dict] = None) -> Dict[str, str]:
    """The X lock (/tmp/.XN-lock, with the pid it names) and socket (/tmp/.X11-unix/XN)
    of display N that exist in the container."""
    snap = snap or snapshot(host)
    want = (f"/tmp/.X{display}-lock", f"/tmp/.X11-unix/X{display}")
    return {k: v for k, v in snap["xfiles"].items() if k in want}


@dataclasses.dataclass
class XfceSession:
    """A running xrdp session inside the container (PIDs are the container's).

    ``sesman_child``: sesman's per-session root child (xrdp's session ID, the
    logind session's leader); ``x_pid``, ``backend`` ('Xorg'), ``display`` (N of
    ``:N``); ``uid``, ``user``, ``home``; ``logind_id`` ('c1', from the
    ``session-ID.scope`` of the sesman child's cgroup) and ``scope`` (that
    cgroup's path); ``scope_pids``: every process in the scope; ``members``:
    the sesman child's descendants plus the user's processes with
    ``XRDP_SESSION=1`` and ``DISPLAY=:N``/``:N.0``; ``connected``: a client is
    attached (xrdp's peer on ``/run/xrdp/sockdir/xrdp_display_N``);
    ``fuse``: FUSE mounts under ``home``; ``xfiles``: the display's X lock and
    socket; ``procs``: {pid: process} of the snapshot.
    """
    sesman_child: int
    x_pid: int
    backend: str
    display: int
    uid: int
    user: str
    home: str
    logind_id: Optional[str]
    scope: str
    scope_pids: List[int]
    members: List[int]
    connected: bool
    fuse: List[dict]
    xfiles: Dict[str, str]
    procs: Dict[int, dict] = dataclasses.field(repr=False)

    @property
    def name(self) -> str:
        return f":{self.display}"

    def pids_of(self, comm: str, in_scope: bool = True) -> List[int]:
        """PIDs of the user's processes named ``comm`` in the scope (or among the members)."""
        pool = self.scope_pids if in_scope else self.members
        return sorted(p for p in pool if _comm_is(self.procs[p], comm) and self.procs[p]["uid"] == self.uid)

    def desktop_missing(self, desktop: str = "xfce") -> List[str]:
        """Which of the processes :data:`DESKTOPS` names for ``desktop`` is not running in
        the session's scope."""
        return [c for c in DESKTOPS[desktop][0] if not self.pids_of(c)]

    def describe(self, pids: Sequence[int]) -> List[str]:
        return [f"{p} uid={self.procs[p]['uid']} {' '.join(self.procs[p]['argv'])[:80] or self.procs[p]['comm']}"
                for p in pids if p in self.procs]


def _home_of(host, uid: int) -> Tuple[str, str]:
    for line in (host.root / "etc/passwd").read_text().splitlines():
        f = line.split(":")
        if len(f) >= 7 and f[2] == str(uid):
            return f[0], f[5]
    return str(uid), ""


def _sessions_from(host, snap: dict) -> List[XfceSession]:
    procs = {p["pid"]: p for p in snap["procs"]}
    kids: Dict[int, List[int]] = {}
    for p in snap["procs"]:
        kids.setdefault(p["ppid"], []).append(p["pid"])

    def descendants(pid):
        out, todo = [], list(kids.get(pid, []))
        while todo:
            q = todo.pop()
            out.append(q)
            todo.extend(kids.get(q, []))
        return out
    out = []
    for child in sesman_children(host, snap):
        for x in kids.get(child, []):
            argv = procs[x]["argv"]
            backend = os.path.basename(argv[0]) if argv else ""
            m = re.fullmatch(r":(\d+)", argv[1]) if len(argv) > 1 else None
            if backend not in ("Xorg", "Xvnc") or not m:
                continue
            n, uid = int(m.group(1)), procs[x]["uid"]
            user, home = _home_of(host, uid)
            scope = procs[child]["cgroup"]
            sm = re.search(r"/session-([^/]+)\.scope$", scope)
            members = set(descendants(child))
            for p in snap["procs"]:
                if p["uid"] == uid and p["pid"] not in members and p["env"].get("XRDP_SESSION") == "1" \
                        and p["env"].get("DISPLAY") in (f":{n}", f":{n}.0"):
                    members.add(p["pid"])
            scope_pids = sorted(p["pid"] for p in snap["procs"] if sm and p["cgroup"] == scope)
            connected = f"{SOCKDIR}/xrdp_display_{n}" in snap["connected"]
            out.append(XfceSession(child, x, backend, n, uid, user, home, sm.group(1) if sm else None, scope,
                                   scope_pids, sorted(members), connected,
                                   fuse_mounts(host, home, snap) if home else [], x_files(host, n, snap), procs))
    return out


def sessions(host, snap: Optional[dict] = None) -> List[XfceSession]:
    """Every running xrdp session in the container (one snapshot)."""
    return _sessions_from(host, snap or snapshot(host))


def session_of(host, user: str, snap: Optional[dict] = None) -> Optional[XfceSession]:
    """The xrdp session of ``user``; None if there is none; XfceError if several."""
    found = [s for s in sessions(host, snap) if s.user == user]
    if len(found) > 1:
        raise XfceError(f"{user} has {len(found)} xrdp sessions: {[(s.name, s.sesman_child) for s in found]}")
    return found[0] if found else None


# ---------------------------------------------------------------------------
# As the user, on the session's bus
# ---------------------------------------------------------------------------

def user_env(user: str, display: int) -> Dict[str, str]:
    """The environment a command needs to talk to the user's desktop: its X display
    and the session bus of ``user@UID.service`` (where xfce4-session registered)."""
    uid = HS.USERS[user]
    return {"HOME": f"/home/{user}", "USER": user, "LOGNAME": user, "SHELL": "/bin/bash",
            "DISPLAY": f":{display}", "XDG_RUNTIME_DIR": f"/run/user/{uid}",
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path=/run/user/{uid}/bus"}


def run_as_user(host, user: str, argv: Sequence[str], display: int, timeout: float = 30,
                check: bool = True) -> subprocess.CompletedProcess:
    """Run ``argv`` inside as ``user`` (``setpriv``: uid, gid and groups only; no PAM,
    so no new session) with :func:`user_env`."""
    uid = HS.USERS[user]
    return host.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--init-groups", "--", *argv],
                    env=user_env(user, display), timeout=timeout, check=check)


#: xfce4-session's states (org.xfce.Session.Manager.GetState)
SM_STATES = {0: "startup", 1: "idle", 2: "checkpoint", 3: "shutdown", 4: "shutdown phase 2"}


def session_manager_state(host, session: XfceSession) -> Optional[str]:
    """xfce4-session's state as it says on the session bus ('startup', 'idle', ...);
    None if it does not answer."""
    cp = run_as_user(host, session.user, ["dbus-send", "--session", "--print-reply", "--reply-timeout=5000",
                                          "--dest=org.xfce.SessionManager", "/org/xfce/SessionManager",
                                          "org.xfce.Session.Manager.GetState"], session.display,
                     timeout=15, check=False)
    m = re.search(r"uint32 (\d+)", cp.stdout)
    return SM_STATES.get(int(m.group(1)), m.group(1)) if cp.returncode == 0 and m else None


def mate_session_running(host, session: XfceSession) -> bool:
    """mate-session's ``org.gnome.SessionManager.IsSessionRunning`` on the session bus:
    true once its startup phases are over (it takes a logout from then on)."""
    cp = run_as_user(host, session.user, ["dbus-send", "--session", "--print-reply", "--reply-timeout=5000",
                                          "--dest=org.gnome.SessionManager", "/org/gnome/SessionManager",
                                          "org.gnome.SessionManager.IsSessionRunning"], session.display,
                     timeout=15, check=False)
    return cp.returncode == 0 and "boolean true" in cp.stdout


def logout(host, session: XfceSession, timeout: float = 30) -> subprocess.CompletedProcess:
    """A normal Xfce logout: ``xfce4-session-logout --logout`` as the user on the
    session's bus; returns once xfce4-session took the request.  xfce4-session
    refuses it unless idle ("Session manager must be in idle state when requesting
    a shutdown"), and xfce4-session-logout then shows an error dialog and never
    exits: so the state is checked first."""
    state = session_manager_state(host, session)
    if state != "idle":
        raise XfceError(f"xfce4-session of {session.user} on {session.name} is {state or 'not answering'}, "
                        f"not idle: it would refuse a logout")
    return run_as_user(host, session.user, ["xfce4-session-logout", "--logout"], session.display,
                       timeout=timeout)


# ---------------------------------------------------------------------------
# The client: Xvfb + xfreerdp inside the container
# ---------------------------------------------------------------------------

_clients: Dict[int, List["XfceClient"]] = {}     # id(host) -> clients not stopped yet


def _stop_inside(p: Optional[subprocess.Popen], sig=signal.SIGTERM, grace: float = 5.0) -> None:
    """End a command we started inside through nsenter: signal nsenter's child (the
    command; nsenter passes no signal on, and its child runs in a process group of its
    own), SIGKILL after ``grace``; nsenter then exits with the child's status.  Reaps it."""
    if p is None or p.poll() is not None:
        return
    for s in (sig, signal.SIGKILL):
        for pid in HS._children(p.pid) or [p.pid]:
            try:
                os.kill(pid, s)
            except ProcessLookupError:
                pass
        try:
            p.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue
    try:
        os.kill(p.pid, signal.SIGKILL)
        p.wait(grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        raise TimeoutError(f"pid {p.pid} ({' '.join(map(str, p.args))[-80:]}) survived SIGKILL") from None


class XfceClient:
    """``xfreerdp`` on an ``Xvfb`` of its own, both inside the container as root
    (``HOME=/root``), logging ``user`` in to the container's xrdp.

    :meth:`start` returns once the Xfce desktop runs (see the module docstring).
    ``timings``: 'xvfb', 'login' (client start to desktop ready), 'reconnect'.
    """

    #: the Xvfb displays of the clients start here (sesman's start at :10)
    FIRST_DISPLAY = 90

    def __init__(self, host, user: str, size: str = "1280x800", password: Optional[str] = None,
                 desktop: str = "xfce"):
        if desktop not in DESKTOPS:
            raise XfceError(f"no desktop {desktop!r}: one of {sorted(DESKTOPS)}")
        self.host, self.user, self.size, self.desktop = host, user, size, desktop
        self.password = password or host.password(user)
        self.proc: Optional[subprocess.Popen] = None
        self.xvfb: Optional[subprocess.Popen] = None
        self.xvfb_display: Optional[int] = None
        self.n = 0
        self.log_path: Optional[Path] = None
        self.timings: Dict[str, float] = {}
        self.session_seen: Optional[XfceSession] = None

    def argv(self) -> List[str]:
        return ["xfreerdp", f"/v:127.0.0.1:{RDP_PORT}", f"/u:{self.user}", f"/p:{self.password}", "/d:Xorg",
                "/cert:ignore", f"/size:{self.size}", "/log-level:INFO"]

    def __repr__(self):
        return f"<XfceClient {self.user} on :{self.xvfb_display} pid={self.proc and self.proc.pid}>"

    # -- Xvfb ------------------------------------------------------------------
    def _start_xvfb(self, timeout: float = 15.0) -> None:
        if self.xvfb is not None and self.xvfb.poll() is None:
            return
        t0 = time.monotonic()
        taken = {int(m.group(1)) for f in snapshot(self.host)["xfiles"]
                 for m in [re.search(r"X(\d+)(?:-lock)?$", f)] if m}
        n = next(i for i in range(self.FIRST_DISPLAY, self.FIRST_DISPLAY + 100) if i not in taken)
        log = self.host._log(f"xvfb-{n}.log")
        with open(log, "ab") as out:
            self.xvfb = subprocess.Popen(self.host.inside_argv(["Xvfb", f":{n}", "-screen", "0", "1600x1200x24",
                                                                "-nolisten", "tcp"]),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, close_fds=True)
        self.xvfb_display = n

        def ready():
            if self.xvfb.poll() is not None:
                raise XfceError(f"Xvfb :{n} inside exited with {self.xvfb.returncode}:\n"
                                f"{log.read_text(errors='replace')[-2000:]}")
            return self.host.run(["xdpyinfo", "-display", f":{n}"], check=False, timeout=10).returncode == 0
        wait_until(ready, timeout, interval=0.1, what=f"Xvfb :{n} in the {self.host.name} container to accept clients")
        self.timings["xvfb"] = time.monotonic() - t0

    # -- the RDP client ----------------------------------------------------------
    def _launch(self) -> None:
        self.n += 1
        self.log_path = self.host._log(f"xfreerdp-{self.user}-{self.xvfb_display}-{self.n}.log")
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(self.host.inside_argv(self.argv(), env={
                "HOME": "/root", "DISPLAY": f":{self.xvfb_display}"}), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        _clients.setdefault(id(self.host), [])
        if self not in _clients[id(self.host)]:
            _clients[id(self.host)].append(self)

    def _fail(self, e: Exception, snap_session: Optional[XfceSession]) -> Exception:
        extra = ""
        if snap_session is not None:
            extra = (f"\nsession {snap_session.name} (sesman child {snap_session.sesman_child}, logind "
                     f"{snap_session.logind_id}, connected {snap_session.connected}): missing "
                     f"{snap_session.desktop_missing()}, fuse {snap_session.fuse}\nits processes:\n  "
                     + "\n  ".join(snap_session.describe(snap_session.members)))
        return type(e)(f"{e}\nclient alive: {self.alive()} rc={self.proc and self.proc.returncode}\n"
                       f"client output:\n{self.output()[-2000:]}{extra}\n{xrdp_logs(self.host, 15)}")

    def start(self, timeout: float = 60.0, drives: bool = True) -> "XfceClient":
        """Connect; wait for a new Xfce desktop (or, if the user already has a session, for
        that one to have this client attached).  ``drives``: wait for
        ``~/thinclient_drives`` too.  A login xrdp refuses (a wrong password: xfreerdp
        stays on xrdp's login screen) fails at once, from sesman's and xrdp's logs."""
        had = session_of(self.host, self.user)
        xsession = DESKTOPS[self.desktop][1]
        if xsession is not None and had is None:
            # /etc/X11/Xsession runs it instead of x-session-manager; reset() removes it
            uid = HS.USERS[self.user]
            f = self.host.root / "home" / self.user / ".xsession"
            if f.is_symlink():
                raise XfceError(f"{f} is a symbolic link; refusing")
            f.write_text(xsession)
            os.chown(f, uid, uid)
        self._start_xvfb()
        logs = ("/var/log/xrdp-sesman.log", "/var/log/xrdp.log")
        sizes = [int(x) if x.isdigit() else 0 for x in self.host.sh(
            f"for f in {' '.join(logs)}; do stat -c %s $f 2>/dev/null || echo 0; done", check=False).stdout.split()]
        t0 = time.monotonic()
        self._launch()
        last: List[Optional[XfceSession]] = [None]

        def up():
            if self.proc.poll() is not None:
                raise XfceError(f"xfreerdp exited with status {self.proc.returncode} before the desktop was up")
            # a refused login leaves xfreerdp on xrdp's login screen: fail at once, not at the timeout
            new = self.host.sh("; ".join(f"tail -c +{n + 1} {f} 2>/dev/null" for f, n in zip(logs, sizes)),
                               check=False).stdout
            for bad in (f"AUTHFAIL: user={self.user} ", "Error connecting to user session"):
                if bad in new:
                    raise XfceError(f"xrdp refused {self.user}'s login ({bad.strip()!r} in its log)")
            s = session_of(self.host, self.user)
            last[0] = s
            if s is None or not s.connected or s.logind_id is None:
                return None
            if had is not None and s.sesman_child != had.sesman_child:
                raise XfceError(f"{self.user} got a new session {s.name} (sesman child {s.sesman_child}) "
                                f"instead of {had.name} (sesman child {had.sesman_child})")
            if s.desktop_missing(self.desktop):
                return None
            if drives and not any(m["target"] == f"{s.home}/thinclient_drives" for m in s.fuse):
                return None
            if s.logind_id not in self.host.session_ids():
                return None
            if self.desktop == "mate":
                return s if mate_session_running(self.host, s) else None
            return s if session_manager_state(self.host, s) == "idle" else None
        what = (f"{self.user}'s {self.desktop} desktop ({', '.join(DESKTOPS[self.desktop][0])} in the session "
                f"scope{', ~/thinclient_drives' if drives else ''}, the logind session, the client attached, "
                f"{'mate-session running' if self.desktop == 'mate' else 'xfce4-session idle'})")
        try:
            self.session_seen = wait_until(up, timeout, interval=0.2, what=what)
        except Exception as e:
            raise self._fail(e, last[0]) from None
        self.timings["reconnect" if had else "login"] = time.monotonic() - t0
        return self

    def session(self) -> XfceSession:
        """The user's session now (XfceError if there is none)."""
        s = session_of(self.host, self.user)
        if s is None:
            raise XfceError(f"no xrdp session of {self.user} in the {self.host.name} container")
        return s

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> Optional[int]:
        """The client's exit status (nsenter passes it on; negative: killed by that signal); None while it runs."""
        return None if self.proc is None else self.proc.poll()

    def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for xfreerdp to exit by itself; its exit status."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"xfreerdp of {self.user} (nsenter pid {self.proc.pid}) still running after "
                               f"{timeout:g}s; output tail:\n{self.output()[-1000:]}") from None

    def disconnect(self, timeout: float = 15.0) -> XfceSession:
        """Kill the client (SIGKILL, no goodbye); wait until xrdp shows the session
        without a client; returns it."""
        s = self.session()
        _stop_inside(self.proc, signal.SIGKILL)

        def gone():
            now = session_of(self.host, self.user)
            if now is None or now.sesman_child != s.sesman_child:
                raise XfceError(f"{self.user}'s session {s.name} ended at the disconnect")
            return now if not now.connected else None
        return wait_until(gone, timeout, interval=0.1, what=f"{self.user}'s session {s.name} to be disconnected")

    def reconnect(self, timeout: float = 60.0) -> "XfceClient":
        """A new xfreerdp on the same Xvfb, same user and size: sesman gives it the running session."""
        if self.alive():
            self.disconnect()
        return self.start(timeout)

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace") if self.log_path else ""
        except FileNotFoundError:
            return ""

    def last_error(self) -> Optional[str]:
        """The last ERRINFO_* xfreerdp printed (how it saw the end), if any."""
        m = re.findall(r"ERRINFO_[A-Z_]+", self.output())
        return m[-1] if m else None

    def stop(self) -> None:
        """End the client (SIGKILL) and its Xvfb (SIGTERM), by the pids of nsenter's children."""
        _stop_inside(self.proc, signal.SIGKILL)
        _stop_inside(self.xvfb, signal.SIGTERM)
        if self.xvfb_display is not None:
            self.host.run(["rm", "-f", f"/tmp/.X{self.xvfb_display}-lock", f"/tmp/.X11-unix/X{self.xvfb_display}"],
                          check=False)
        lst = _clients.get(id(self.host), [])
        if self in lst:
            lst.remove(self)


# ---------------------------------------------------------------------------
# Between tests
# ---------------------------------------------------------------------------

def reset(host, users: Sequence[str] = tuple(HS.USERS), timeout: float = 30.0) -> List[str]:
    """End every client, the users' processes and sessions (Host.reset_users), wait for
    sesman's children to exit (SIGKILL after ``timeout``), unmount FUSE mounts left
    under /home, remove X files of dead X servers, and make sure xrdp still runs.
    Returns notes on what had to be forced or cleaned."""
    notes: List[str] = []
    for c in list(_clients.get(id(host), [])):
        c.stop()
    # clients of an XfceClient this process lost track of: what nsenter started runs with
    # parent pid 0 inside (its parent is outside the container's pid namespace)
    stray = [p for p in snapshot(host)["procs"] if p["ppid"] == 0 and p["pid"] != 1
             and p["comm"] in ("xfreerdp", "Xvfb")]
    if stray:
        notes.append(f"stray clients killed: {[(p['pid'], ' '.join(p['argv'])[:60]) for p in stray]}")
        host.kill_pids([p["pid"] for p in stray])
    host.reset_users(users, timeout=timeout)
    try:
        wait_until(lambda: not sesman_children(host), timeout, interval=0.2,
                   what="sesman's session children to exit once their users' processes were gone")
    except TimeoutError:
        left = sesman_children(host)
        notes.append(f"sesman children {left} did not exit by themselves: SIGKILL")
        host.kill_pids(left)
        wait_until(lambda: not sesman_children(host), 10, what=f"sesman children {left} to die after SIGKILL")
    snap = snapshot(host)
    for m in sorted(fuse_mounts(host, "/home", snap), key=lambda m: -len(m["target"])):
        notes.append(f"stale FUSE mount {m['target']} ({m['fstype']}): umount -l")
        host.run(["umount", "-l", m["target"]], check=False)
    live = {p["pid"] for p in snap["procs"]}
    for f, holder in snap["xfiles"].items():
        m = re.search(r"\.X(\d+)-lock$", f)
        if m and not (holder.isdigit() and int(holder) in live):
            n = m.group(1)
            notes.append(f"stale X lock {f} (pid {holder or '?'}): removed")
            host.run(["rm", "-f", f, f"/tmp/.X11-unix/X{n}"], check=False)
    # a logout saves the session (xfce4-session's SaveOnExit): the next login would start
    # that instead of the default session
    host.run(["rm", "-rf", *[f"/home/{u}/.cache/sessions" for u in users]], check=False)
    # a client's desktop other than Xfce (DESKTOPS) is started by ~/.xsession
    host.run(["rm", "-f", *[f"/home/{u}/.xsession" for u in users]], check=False)
    if not xrdp_running(host):
        notes.append("xrdp was not running: started again")
        start_xrdp(host)
    return notes

"""Real remote desktop sessions for ``logoff``'s tests: xrdp (Xvnc, Xorg) with xfreerdp, and X2Go.

Plain library code (standard library only, no pytest) run as root by Debian's
``/usr/bin/python3``; fixtures live in ``tests/rdp/conftest.py``.  It does what
``/work/shared/labs/xrdp-lab.sh`` does by hand:

* :class:`Xrdp`: ``xrdp-sesman`` and ``xrdp`` 0.9.21 started in the foreground
  (``--nodaemon``, so their PIDs are the ones we started) with private copies of
  ``sesman.ini``/``xrdp.ini`` and a private certificate under a run directory;
  xrdp listens on 127.0.0.1 only, on a free port.  :meth:`Xrdp.set_pam_loginuid`
  switches ``/etc/pam.d/xrdp-sesman`` between Debian's file (no pam_loginuid)
  and one with ``session required pam_loginuid.so``; sesman reads the file at
  every login, so one server serves both setups.
* :class:`Xvfb`: the client side's private X display; :class:`RdpClient`:
  ``xfreerdp`` on it, logging a test user in with a password.
* :class:`XrdpSession`: what identifies a running xrdp session, read from /proc
  (see :meth:`Xrdp.sessions`).
* :class:`X2go`: x2goserver behind a private sshd (:class:`X2goSshd`, a
  :class:`harness.Sshd` with password logins) and :class:`X2goClient`
  (``pyhoca-cli``): new session, suspend, resume from a new connection,
  terminate; :func:`x2go_db_sessions` reads X2Go's own session database.

Packages: :data:`PACKAGES` (``tests/run.sh`` installs them; :func:`check_packages`
fails naming the package of any missing binary).  This module installs nothing.

Facts (Debian 12, xrdp 0.9.21.1, xorgxrdp 0.9.19, TigerVNC 1.12.0, FreeRDP 2.11.7,
x2goserver 4.1.0.3, pyhoca-cli 0.6.1.2; measured on 2 cores, install excluded;
the whole of tests/rdp, 7 tests, takes about 60 s):

* ``xrdp-sesman --nodaemon -c FILE`` and ``xrdp --nodaemon -c FILE`` write no pid
  file; xrdp (run as user ``xrdp`` like Debian's init script) listens at once
  (daemonized, it listens only ~2 s after its pid file appears).  Start of both:
  well under a second.
* sesman's port cannot be private: xrdp reads sesman's port from
  ``/etc/xrdp/sesman.ini`` (3350), and sesman with ``ListenAddress=127.0.0.1``
  actually listens on ``[::1]:3350``.  So only one :class:`Xrdp` at a time on a
  machine (and never next to a system xrdp).
* What xrdp touches outside the run directory: ``/run/xrdp`` (its runtime dir,
  made by ``/usr/share/xrdp/socksetup``; removed at stop if it did not exist
  before), ``/run/xrdp/sockdir/*_N`` sockets of session N, the X lock files
  ``/tmp/.X<N>-lock`` and ``/tmp/.X11-unix/X<N>``, ``~/thinclient_drives`` (FUSE,
  xrdp-chansrv) and ``~/.local/share/xrdp`` in the user's home,
  ``/etc/pam.d/xrdp-sesman`` (only through :meth:`Xrdp.set_pam_loginuid`; the
  original is kept in :data:`PAM_BACKUP` and restored byte for byte at stop, or
  at the next start of any :class:`Xrdp` if the test process died).  It only
  reads the rest of ``/etc/xrdp`` (keymaps, ``xrdp/xorg.conf``, ``reconnectwm.sh``).
* A session: sesman forks one root child per session (its pid is xrdp's
  session ID, :attr:`XrdpSession.sesman_child`); that child runs PAM, starts
  the X server (``Xvnc :N`` or ``Xorg :N``, as the user), ``xrdp-chansrv`` and
  the desktop (``~/startwm.sh``, which :meth:`Xrdp.install_desktop` writes), and
  cleans up (PAM close, sockets, X lock) by itself once the desktop exited.
  Displays start at :10.  ``DISPLAY`` in the desktop is ``:N.0``,
  ``XRDP_SESSION=1``.  Without pam_loginuid every process of the session has
  ``/proc/PID/sessionid`` 4294967295 and no utmp entry is written; with it the
  sesman child and everything it starts share one audit session.
* Login time (client start to desktop running and client attached, plus the
  1 s :attr:`RdpClient.STABLE` check): 2.9 s for Xvnc and Xorg alike; a
  reconnect 2.6 s after the 2 s :attr:`RdpClient.RECONNECT_PAUSE`; :meth:`Xrdp.end_session` of a
  desktop that honours SIGTERM: well under a second, the sesman child exits
  by itself (sesman log: ``cleanup_sockets``) and the client exits with
  status 12 after ``ERRINFO_LOGOFF_BY_USER``.  Xvfb start 0.25 s.  Disconnect (client killed): the desktop and
  X server keep running; the Xvnc session's TCP connection from xrdp to
  127.0.0.1:5900+N goes away at once (Xorg: the peer of
  ``/run/xrdp/sockdir/xrdp_display_N``).
* Ending a session cleanly (:meth:`Xrdp.end_session`): SIGTERM+SIGCONT to the
  user's processes, never to the root sesman child, which then exits by
  itself; SIGKILL only what is left after the grace time.  SIGHUP would kill
  ``xrdp-chansrv`` before it unmounts ``~/thinclient_drives`` (stale FUSE
  mount); killing the sesman child first leaves PAM open and the display
  number taken.
* The lab's "escapee": :meth:`Xrdp.install_desktop` makes the desktop start
  ``( setsid env -i /bin/sh -c 'echo $$ > ~/.rdp-escapee.pid; exec sleep 100004' & ) &``:
  a process of the user reparented to init, in a POSIX session of its own, with
  neither ``XRDP_SESSION`` nor ``DISPLAY``; :meth:`XrdpSession.escapee` finds it
  by that pid file.
* X2Go: the desktop runs under the audit session of the ssh login that
  started it (sshd's PAM has pam_loginuid); a resume from a new connection is
  a second audit session.  ``pyhoca-cli`` needs a DISPLAY (the Xvfb), runs
  only commands from /usr/local/bin:/usr/bin:/bin (so the session command is a
  plain name like ``xterm``), and keeps running while the session is
  connected.  It also needs the sftp subsystem in sshd (it tests sftp at
  every start and resume: "Channel closed" otherwise).  New session to
  running: 3.8 s; suspend (``pyhoca-cli -S NAME`` from a second connection,
  until the database says S) 7.8 s; resume (``-R NAME``) 2.6 s; terminate
  (``-T NAME``, until F) 8.8 s.  After a suspend the first client exits by
  itself; the agent (``x2goagent :50``) keeps running.  A terminate after a
  resume can leave ``x2gosetkeyboard`` (a ``sleep 1`` polling loop of the
  resume's ssh login) running for a while: :meth:`X2go.end_user` kills it.  X2Go's database is
  ``/var/lib/x2go/x2go_sessions`` (SQLite; status R running, S suspended,
  F finished); rows of the test users are deleted at :meth:`X2go.stop`
  (the only hand edit: X2Go never deletes rows).

* ``xrdp-chansrv`` mounts ``~/thinclient_drives`` (fuse.xrdp-chansrv) about a
  second into the session and unmounts it on SIGTERM.  The session's sockets
  in /run/xrdp/sockdir are ``xrdp_chansrv_audio_{in,out}_socket_N`` and
  ``xrdpapi_N`` (plus ``xrdp_display_N`` and ``xrdp_chansrv_socket_N`` for Xorg).
* Processes this module starts are recorded (pid and argv) in
  ``/var/tmp/logoff-rdp/pids.json``; the next start SIGKILLs those of a dead
  run whose command line still matches.

Traps: an Xvnc reconnect within about a second of killing the previous client
fails in 2 of 3 tries (xrdp.log: "VNC error 1 after security negotiation",
"Error connecting to user session"; xfreerdp stays connected to xrdp's error
screen and later ignores the session's end), and the failing VNC connection
is ESTABLISHED for a moment first: hence RECONNECT_PAUSE, STABLE and the log
check in :meth:`RdpClient.start`.  ``xfreerdp`` needs ``/cert:ignore`` for the private certificate and
``/d:Xvnc`` or ``/d:Xorg`` (the domain selects the xrdp.ini section, then the
login is automatic); a reconnect is matched by sesman on user and screen
geometry, so keep the size.  The escapee's intermediate shells take a
moment to exit: right after the marker file appears the escapee is still a
descendant of the sesman child; :meth:`RdpClient.start` waits until it is
reparented.  The desktop ``notty`` forks a new ``sleep 3`` every 3 s, so
compare :meth:`XrdpSession.wm_pid`, not the member list, across a
disconnect.  Zombies: as in harness.py, state Z counts as
dead everywhere.  ``/proc/PID/environ`` of another user's process is readable
by root only, so session facts need root.

Every wait is bounded and raises :class:`TimeoutError` (or :class:`RdpError`)
naming what was awaited.

Typical use::

    check_packages()
    with Xvfb(workdir / "xvfb") as xvfb, Xrdp(workdir / "xrdp") as xrdp:
        user = create_rdp_user("lordp1")
        xrdp.install_desktop(user, "xterm")
        xrdp.set_pam_loginuid(True)
        c = RdpClient(xrdp, xvfb, user).start()       # desktop up
        s = c.session()                                # XrdpSession
        c.disconnect(); xrdp.wait_connected(s, False)
        c.reconnect()
        xrdp.end_session(s)
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Union

import harness as HR  # noqa: E402  (tests/, on the path of every user of this module)

__all__ = ["RdpError", "PACKAGES", "BINARIES", "check_packages", "PAM_FILE", "PAM_BACKUP",
           "restore_pam", "set_password", "create_rdp_user", "password_of", "Xvfb", "Xrdp",
           "XrdpSession", "RdpClient", "X2goSshd", "X2go", "X2goClient", "x2go_db_sessions",
           "x2go_list_sessions", "user_pids", "kill_user_processes", "fuse_mounts_under",
           "proc_environ", "wait_until"]

wait_until = HR.wait_until

#: Debian packages the RDP/X2Go tests need (besides tests/run.sh's own list).
PACKAGES = ["xrdp", "xorgxrdp", "tigervnc-standalone-server", "freerdp2-x11", "xvfb", "xterm",
            "x11-utils", "x11-apps", "xdotool", "netpbm", "fuse3", "openssh-server",
            "openssh-client", "x2goserver", "pyhoca-cli", "openssl", "procps"]

#: binary -> package that provides it (checked by :func:`check_packages`).
BINARIES = {
    "/usr/sbin/xrdp": "xrdp", "/usr/sbin/xrdp-sesman": "xrdp", "/usr/sbin/xrdp-chansrv": "xrdp",
    "/usr/share/xrdp/socksetup": "xrdp",
    "/usr/lib/xorg/modules/drivers/xrdpdev_drv.so": "xorgxrdp",
    "/usr/bin/Xvnc": "tigervnc-standalone-server", "/usr/bin/xfreerdp": "freerdp2-x11",
    "/usr/bin/Xvfb": "xvfb", "/usr/bin/xterm": "xterm", "/usr/bin/xdpyinfo": "x11-utils",
    "/usr/bin/xwd": "x11-apps", "/usr/bin/xlogo": "x11-apps", "/usr/bin/xdotool": "xdotool",
    "/usr/bin/xwdtopnm": "netpbm", "/usr/bin/pnmtopng": "netpbm", "/usr/bin/fusermount3": "fuse3",
    "/usr/sbin/sshd": "openssh-server", "/usr/bin/ssh": "openssh-client",
    "/usr/bin/x2golistsessions": "x2goserver", "/usr/sbin/x2golistsessions_root": "x2goserver",
    "/usr/bin/x2goagent": "x2goserver-x2goagent", "/usr/bin/pyhoca-cli": "pyhoca-cli",
    "/usr/bin/openssl": "openssl", "/usr/sbin/chpasswd": "passwd", "/usr/bin/setsid": "util-linux",
}

PAM_FILE = Path("/etc/pam.d/xrdp-sesman")
#: Survives a dead test process; its presence means PAM_FILE is not the original.
STATE_DIR = Path("/var/tmp/logoff-rdp")
PAM_BACKUP = STATE_DIR / "xrdp-sesman.pam.orig"
PAM_LOGINUID_LINE = b"session required pam_loginuid.so\n"
RUN_XRDP = Path("/run/xrdp")
SOCKDIR = RUN_XRDP / "sockdir"
SESMAN_PORT = 3350        # fixed: xrdp reads it from /etc/xrdp/sesman.ini
USERS_FILE = STATE_DIR / "users.json"  # users whose processes/rows a stale run may have left


class RdpError(HR.HarnessError):
    """An RDP/X2Go harness operation failed."""


def check_packages() -> None:
    """Fail (RdpError) naming the Debian package of every missing binary."""
    missing = {}
    for path, pkg in BINARIES.items():
        if not os.path.exists(path):
            missing.setdefault(pkg, []).append(path)
    if missing:
        lines = "\n".join(f"  {pkg}: {', '.join(paths)}" for pkg, paths in sorted(missing.items()))
        raise RdpError(f"packages missing for the RDP/X2Go tests:\n{lines}\n"
                       f"install: apt-get install --no-install-recommends {' '.join(sorted(missing))}")


# ---------------------------------------------------------------------------
# /proc helpers
# ---------------------------------------------------------------------------

def _all_pids() -> List[int]:
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def proc_environ(pid: int) -> Dict[str, str]:
    """Environment of a process ({} if unreadable)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode(errors="replace")] = v.decode(errors="replace")
    return env


def _argv(pid: int) -> List[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _children_map() -> Dict[int, List[int]]:
    m: Dict[int, List[int]] = {}
    for p in _all_pids():
        if HR.proc_alive(p):
            pp = HR.proc_ppid(p)
            if pp is not None:
                m.setdefault(pp, []).append(p)
    return m


def _descendants(pid: int, cmap: Dict[int, List[int]]) -> List[int]:
    out, todo = [], list(cmap.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(cmap.get(p, []))
    return sorted(out)


def user_pids(uid: int) -> List[int]:
    """Live (non-zombie) processes whose real uid is ``uid``."""
    return sorted(p for p in _all_pids() if HR.proc_uid(p) == uid and HR.proc_alive(p))


def kill_user_processes(uid: int, timeout: float = 10.0, term_first: float = 0.0) -> List[int]:
    """End every process of ``uid`` (a test user), by PID: SIGTERM+SIGCONT and
    ``term_first`` seconds of grace if given, then SIGKILL until none is left.
    Refuses uid 0.  Returns the PIDs signalled."""
    if uid == 0:
        raise ValueError("refusing to kill root's processes")
    hit = set()
    if term_first > 0:
        for p in user_pids(uid):
            for sig in (signal.SIGTERM, signal.SIGCONT):
                try:
                    os.kill(p, sig)
                    hit.add(p)
                except ProcessLookupError:
                    pass
        try:
            wait_until(lambda: not user_pids(uid), term_first, interval=0.1,
                       what=f"processes of uid {uid} to end after SIGTERM")
        except TimeoutError:
            pass
    hit.update(HR.kill_until_gone(lambda: user_pids(uid), timeout, f"uid {uid}"))
    return sorted(hit)


def fuse_mounts_under(path: Union[str, Path]) -> List[str]:
    """Mount points at or below ``path`` (from /proc/self/mounts)."""
    path = str(path).rstrip("/")
    out = []
    for line in (HR._read("/proc/self/mounts") or "").splitlines():
        f = line.split()
        if len(f) > 2:
            mp = f[1].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return out


def unmount_under(path: Union[str, Path]) -> List[str]:
    """Detaches whatever is mounted at or below ``path`` (a test that left a
    FUSE mount behind must not fail the next one); returns what it found."""
    found = fuse_mounts_under(path)
    for mp in sorted(found, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True, timeout=30)
    return found


def _tcp_established_ports() -> Set[int]:
    """Local and remote ports of every ESTABLISHED TCP socket (this net namespace)."""
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in (HR._read(name) or "").splitlines()[1:]:
            f = line.split()
            if len(f) > 3 and f[3] == "01":
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
                ports.add(int(f[2].rsplit(":", 1)[1], 16))
    return ports


def _unix_connected(path: str) -> bool:
    """True if a connected (St 03) unix socket bound to ``path`` exists (an accepted peer)."""
    for line in (HR._read("/proc/net/unix") or "").splitlines()[1:]:
        f = line.split()
        if len(f) >= 8 and f[7] == path and f[5] == "03":
            return True
    return False


def _stop_popen(p: Optional[subprocess.Popen], sig=signal.SIGTERM, grace: float = 5.0,
                group: bool = True) -> None:
    """Signal a child we started (its process group if ``group``), SIGKILL after ``grace``, reap it."""
    if p is None or p.poll() is not None:
        return
    for s in (sig, signal.SIGKILL):
        try:
            if group:
                os.killpg(p.pid, s)
            else:
                p.send_signal(s)
        except ProcessLookupError:
            pass
        try:
            p.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue
    raise TimeoutError(f"pid {p.pid} ({' '.join(map(str, p.args))[:80]}) survived SIGKILL")


# ---------------------------------------------------------------------------
# Stale state of a dead test run
# ---------------------------------------------------------------------------

def _state_load() -> dict:
    try:
        return json.loads((STATE_DIR / "pids.json").read_text())
    except (OSError, ValueError):
        return {}


def _state_save(d: dict) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = STATE_DIR / "pids.json.tmp"
    tmp.write_text(json.dumps(d))
    os.replace(tmp, STATE_DIR / "pids.json")


def _remember(name: str, pid: int, argv: Sequence[str]) -> None:
    """Record a process we started (``argv`` as /proc/PID/cmdline will show it once it runs)."""
    d = _state_load()
    d[name] = [pid, " ".join(map(str, argv)).strip()]
    _state_save(d)


def _forget(name: str) -> None:
    d = _state_load()
    if d.pop(name, None) is not None:
        _state_save(d)


def stop_stale(prefix: str) -> List[str]:
    """SIGKILL processes a dead test run recorded under names starting with
    ``prefix`` (only if their command line is still the recorded one)."""
    done = []
    d = _state_load()
    for name, (pid, cmd) in list(d.items()):
        if not name.startswith(prefix):
            continue
        if HR.proc_alive(pid) and (HR.proc_cmdline(pid) or "") == cmd:
            try:
                os.kill(pid, signal.SIGKILL)
                done.append(f"stale {name} pid {pid} killed: {cmd[:80]}")
            except ProcessLookupError:
                pass
        d.pop(name)
    _state_save(d)
    return done


# ---------------------------------------------------------------------------
# PAM file
# ---------------------------------------------------------------------------

def restore_pam() -> bool:
    """Put back the original /etc/pam.d/xrdp-sesman if a backup exists (byte
    for byte, same mode and owner); returns True if it did."""
    if not PAM_BACKUP.exists():
        return False
    data = PAM_BACKUP.read_bytes()
    st = PAM_BACKUP.stat()
    tmp = PAM_FILE.with_name(PAM_FILE.name + ".logoff-test-tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, st.st_mode & 0o7777)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, PAM_FILE)
    if PAM_FILE.read_bytes() != data:
        raise RdpError(f"could not restore {PAM_FILE} from {PAM_BACKUP}")
    PAM_BACKUP.unlink()
    return True


def _pam_with_loginuid(orig: bytes) -> bytes:
    lines = orig.splitlines(keepends=True)
    out, done = [], False
    for ln in lines:
        if not done and ln.strip() == b"@include common-session":
            out.append(PAM_LOGINUID_LINE)
            done = True
        out.append(ln)
    if not done:
        out.append(PAM_LOGINUID_LINE)
    return b"".join(out)


def set_pam_loginuid(enabled: bool) -> None:
    """Make /etc/pam.d/xrdp-sesman the original (``enabled=False``) or the
    original plus ``session required pam_loginuid.so`` before ``@include
    common-session``.  The original is backed up first (:data:`PAM_BACKUP`)."""
    if not PAM_BACKUP.exists():
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = PAM_BACKUP.with_name(PAM_BACKUP.name + ".tmp")
        shutil.copy2(PAM_FILE, tmp)
        st = PAM_FILE.stat()
        os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, PAM_BACKUP)
    orig = PAM_BACKUP.read_bytes()
    if b"pam_loginuid" in orig and enabled:
        want = orig
    else:
        want = _pam_with_loginuid(orig) if enabled else orig
    if PAM_FILE.read_bytes() != want:
        tmp = PAM_FILE.with_name(PAM_FILE.name + ".logoff-test-tmp")
        tmp.write_bytes(want)
        st = PAM_BACKUP.stat()
        os.chmod(tmp, st.st_mode & 0o7777)
        os.replace(tmp, PAM_FILE)


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------

def password_of(user) -> str:
    return f"Rdp-{HR._user_name(user)}-pw1"


def set_password(user, password: Optional[str] = None) -> str:
    """Set a user's password with chpasswd (default :func:`password_of`); returns it."""
    password = password or password_of(user)
    HR.run(["chpasswd"], input=f"{HR._user_name(user)}:{password}\n", timeout=30)
    return password


def create_rdp_user(name: str) -> HR.TestUser:
    """harness.create_user plus a password (:func:`password_of`); the home is
    made world-searchable (xrdp-chansrv and X2Go need nothing else)."""
    u = HR.create_user(name)
    set_password(u)
    u.password = password_of(u)
    return u


# ---------------------------------------------------------------------------
# Xvfb: the clients' display
# ---------------------------------------------------------------------------

def _free_display(start: int) -> int:
    for n in range(start, start + 100):
        if not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            return n
    raise RdpError(f"no free X display number from :{start}")


class Xvfb:
    """A private Xvfb (``:90`` and up, ``-nolisten tcp``) for the clients."""

    def __init__(self, workdir: Union[str, Path], size: str = "1280x1024x24"):
        self.workdir = Path(workdir)
        self.size = size
        self.proc: Optional[subprocess.Popen] = None
        self.display: Optional[str] = None
        self.timings: Dict[str, float] = {}

    def start(self, timeout: float = 15.0) -> "Xvfb":
        if self.proc and self.proc.poll() is None:
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        stop_stale("xvfb")
        t0 = time.monotonic()
        n = _free_display(90)
        self.display = f":{n}"
        out = open(self.workdir / "xvfb.log", "ab")
        try:
            self.proc = subprocess.Popen(["/usr/bin/Xvfb", self.display, "-screen", "0", self.size,
                                          "-nolisten", "tcp"], stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            out.close()
        _remember(f"xvfb{n}", self.proc.pid, self.proc.args)

        def ready():
            if self.proc.poll() is not None:
                raise RdpError(f"Xvfb {self.display} exited ({self.proc.returncode}):\n"
                               f"{HR._read(self.workdir / 'xvfb.log')}")
            return HR.run(["xdpyinfo"], check=False, timeout=5,
                          env={**os.environ, "DISPLAY": self.display}).returncode == 0
        wait_until(ready, timeout, interval=0.1, what=f"Xvfb {self.display} to accept clients")
        self.timings["xvfb_start"] = time.monotonic() - t0
        return self

    def env(self) -> Dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}

    def screenshot(self, path: Union[str, Path]) -> Path:
        """PNG of the whole client display (xwd | xwdtopnm | pnmtopng)."""
        path = Path(path)
        HR.run(["sh", "-c", f"xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng > '{path}'"],
               env=self.env(), timeout=30)
        return path

    def stop(self) -> None:
        if self.proc is None:
            return
        _stop_popen(self.proc)
        n = self.display[1:]
        _forget(f"xvfb{n}")
        for f in (f"/tmp/.X{n}-lock", f"/tmp/.X11-unix/X{n}"):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------
# xrdp
# ---------------------------------------------------------------------------

_DESKTOPS = {
    # the lab's startwm-user.sh: a terminal as the desktop
    "xterm": 'exec xterm -geometry 100x30+10+10 -title "rdp $USER $DISPLAY" -e /bin/bash',
    # startwm-notty.sh: no terminal at all
    "notty": "xlogo -geometry 200x200+50+50 &\nexec sh -c 'while :; do sleep 3; done'",
    # startwm-stubborn.sh: a desktop that ignores SIGHUP and SIGTERM
    "stubborn": "xlogo -geometry 200x200+50+50 &\nexec sh -c 'trap \"\" HUP TERM; while :; do sleep 3; done'",
}

_DESKTOP_HEAD = """#!/bin/sh
# written by tests/rdp.py: the xrdp session's desktop (sesman runs ~/startwm.sh)
echo "$$ $(cat /proc/self/sessionid) $DISPLAY" > "$HOME/.rdp-desktop.tmp" && mv "$HOME/.rdp-desktop.tmp" "$HOME/.rdp-desktop.started"
env | sort > "$HOME/.rdp-desktop.env"
"""

_DESKTOP_ESCAPEES = """sleep 100001 &                                   # plain child
setsid sleep 100002 &                            # own POSIX session
( setsid sh -c 'sleep 100003 & exit 0' & ) &     # double fork + setsid, reparented to init
# the "escapee": double fork + setsid + scrubbed environment (no XRDP_SESSION, no DISPLAY)
( setsid env -i /bin/sh -c 'echo $$ > "$1"; exec sleep 100004' sh "$HOME/.rdp-escapee.pid" & ) &
"""


@dataclasses.dataclass
class XrdpSession:
    """A running xrdp session as /proc shows it (root needed for environ).

    ``sesman_child``: sesman's per-session root child (xrdp's session ID);
    ``x_pid``, ``backend`` ('Xvnc'/'Xorg'), ``display`` (N of ``:N``),
    ``uid``/``user``; ``members``: the child's descendants plus every process
    of the user with ``XRDP_SESSION=1`` and ``DISPLAY=:N``/``:N.0``;
    ``connected``: an RDP client is attached now.
    """
    sesman_child: int
    x_pid: int
    backend: str
    display: int
    uid: int
    user: str
    home: str
    members: List[int]
    connected: bool

    @property
    def name(self) -> str:
        return f":{self.display}"

    def desktop_pids(self) -> List[int]:
        """Members run by the user, other than the X server."""
        return [p for p in self.members if p != self.x_pid and HR.proc_uid(p) == self.uid]

    def wm_pid(self) -> Optional[int]:
        """The desktop proper: the sesman child's child run by the user that is
        neither the X server nor xrdp-chansrv (``~/startwm.sh`` and what it execs)."""
        for p in self.members:
            if (HR.proc_ppid(p) == self.sesman_child and p != self.x_pid and HR.proc_uid(p) == self.uid
                    and HR.proc_comm(p) != "xrdp-chansrv" and HR.proc_alive(p)):
                return p
        return None

    def sessionids(self) -> Dict[int, Optional[int]]:
        """{pid: /proc/PID/sessionid} of the sesman child and every member."""
        return {p: HR.proc_sessionid(p) for p in [self.sesman_child, *self.members] if HR.proc_alive(p)}

    def env_of(self, pid: int) -> Dict[str, str]:
        return proc_environ(pid)

    def escapee(self) -> Optional[int]:
        """PID of the desktop's setsid + ``env -i`` process if it still runs."""
        txt = HR._read(Path(self.home) / ".rdp-escapee.pid")
        try:
            pid = int((txt or "").strip())
        except ValueError:
            return None
        if HR.proc_alive(pid) and HR.proc_uid(pid) == self.uid:
            return pid
        return None

    def alive(self) -> bool:
        return HR.proc_alive(self.sesman_child)


class Xrdp:
    """xrdp-sesman + xrdp on loopback with private configuration (see the module docstring).

    ``workdir`` receives ``etc/`` (ini files, certificate), ``log/``.  Use as a
    context manager or :meth:`start`/:meth:`stop`.  Only one at a time per machine.
    """

    def __init__(self, workdir: Union[str, Path], port: Optional[int] = None):
        self.workdir = Path(workdir)
        self.port = port
        self.sesman: Optional[subprocess.Popen] = None
        self.xrdp: Optional[subprocess.Popen] = None
        self.timings: Dict[str, float] = {}
        self.leftovers: List[str] = []      # what stop()/start() had to clean up
        self.displays_seen: Set[int] = set()
        self.homes_seen: Dict[int, str] = {}
        self.escapees: Dict[str, bool] = {}     # user -> its desktop starts the escapee
        self._made_run_xrdp = False
        self.etc = self.workdir / "etc"
        self.logdir = self.workdir / "log"

    # -- setup -------------------------------------------------------------
    def _write_config(self):
        self.etc.mkdir(parents=True, exist_ok=True)
        self.logdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        os.chmod(self.etc, 0o755)
        xrdp_pw = pwd.getpwnam("xrdp")
        os.chown(self.logdir, 0, xrdp_pw.pw_gid)
        os.chmod(self.logdir, 0o2775)
        key, cert = self.etc / "key.pem", self.etc / "cert.pem"
        if not (key.exists() and cert.exists()):
            HR.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "30", "-subj", "/CN=logoff-test-xrdp"], timeout=60)
        for f in (key, cert):
            os.chown(f, xrdp_pw.pw_uid, xrdp_pw.pw_gid)
        os.chmod(key, 0o600)
        subs = {r"^port=3389$": f"port=tcp://.:{self.port}",
                r"^LogFile=xrdp\.log$": f"LogFile={self.logdir}/xrdp.log",
                r"^EnableSyslog=true$": "EnableSyslog=false",
                r"^LogLevel=INFO$": "LogLevel=DEBUG",
                r"^certificate=$": f"certificate={cert}",
                r"^key_file=$": f"key_file={key}"}
        text = Path("/etc/xrdp/xrdp.ini").read_text()
        for pat, rep in subs.items():
            text, n = re.subn(pat, rep, text, count=1, flags=re.M)
            if n != 1 and not pat.startswith("^LogLevel"):
                raise RdpError(f"/etc/xrdp/xrdp.ini: no line matching {pat!r}")
        (self.etc / "xrdp.ini").write_text(text)
        text = Path("/etc/xrdp/sesman.ini").read_text()
        for pat, rep in {r"^LogFile=xrdp-sesman\.log$": f"LogFile={self.logdir}/sesman.log",
                         r"^EnableSyslog=true$": "EnableSyslog=false",
                         r"^LogLevel=INFO$": "LogLevel=DEBUG",
                         r"^EnableUserWindowManager=.*$": "EnableUserWindowManager=true",
                         r"^UserWindowManager=.*$": "UserWindowManager=startwm.sh"}.items():
            text = re.sub(pat, rep, text, count=1, flags=re.M)
        (self.etc / "sesman.ini").write_text(text)
        for f in ("xrdp.ini", "sesman.ini"):
            os.chmod(self.etc / f, 0o644)

    def start(self, timeout: float = 15.0) -> "Xrdp":
        """Restore a stale PAM file, stop a dead run's daemons, start sesman and xrdp."""
        if self.running():
            return self
        check_packages()
        t0 = time.monotonic()
        self.leftovers += stop_stale("xrdp")
        if restore_pam():
            self.leftovers.append(f"stale {PAM_FILE} restored from {PAM_BACKUP}")
        for ln in _listeners():
            if ln[1] == SESMAN_PORT:
                raise RdpError(f"something already listens on sesman's port {SESMAN_PORT}: {ln}"
                               f" (a system xrdp-sesman?); stop it first")
        if self.port is None:
            self.port = HR.free_port()
        self._write_config()
        self._made_run_xrdp = not RUN_XRDP.exists()
        HR.run(["sh", "/usr/share/xrdp/socksetup"], timeout=15)
        out = open(self.logdir / "sesman.stdout", "ab")
        try:
            self.sesman = subprocess.Popen(["/usr/sbin/xrdp-sesman", "--nodaemon", "-c",
                                            str(self.etc / "sesman.ini")],
                                           stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True)
            _remember("xrdp-sesman", self.sesman.pid, self.sesman.args)
            self.xrdp = subprocess.Popen(["/usr/sbin/xrdp", "--nodaemon", "-c", str(self.etc / "xrdp.ini")],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, user="xrdp", group="xrdp",
                                         extra_groups=[], cwd="/")
            _remember("xrdp-xrdp", self.xrdp.pid, self.xrdp.args)
        finally:
            out.close()

        def ready():
            for p, what in ((self.sesman, "xrdp-sesman"), (self.xrdp, "xrdp")):
                if p.poll() is not None:
                    raise RdpError(f"{what} exited with status {p.returncode} during startup\n"
                                   f"{self.log_tail()}")
            return (HR._listening(self.sesman.pid, SESMAN_PORT)
                    and HR._listening(self.xrdp.pid, self.port))
        try:
            wait_until(ready, timeout, interval=0.05,
                       what=f"xrdp-sesman on [::1]:{SESMAN_PORT} and xrdp on 127.0.0.1:{self.port} to listen")
        except Exception:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - t0
        return self

    def running(self) -> bool:
        return bool(self.sesman and self.sesman.poll() is None and self.xrdp and self.xrdp.poll() is None)

    def log_tail(self, n: int = 30) -> str:
        out = []
        for f in ("sesman.log", "xrdp.log", "sesman.stdout"):
            txt = HR._read(self.logdir / f) or ""
            out.append(f"--- {f}\n" + "\n".join(txt.splitlines()[-n:]))
        return "\n".join(out)

    def sesman_log(self) -> str:
        return HR._read(self.logdir / "sesman.log") or ""

    # -- PAM ---------------------------------------------------------------
    @staticmethod
    def set_pam_loginuid(enabled: bool) -> None:
        """See :func:`set_pam_loginuid`; takes effect at the next login."""
        set_pam_loginuid(enabled)

    # -- desktops ----------------------------------------------------------
    def install_desktop(self, user, kind: str = "xterm", escapees: bool = True, script: Optional[str] = None) -> Path:
        """Write the user's ``~/startwm.sh``: a marker line, the environment, the
        lab's background processes and the escapee (``escapees``), then
        ``exec`` the desktop ``kind`` ('xterm', 'notty', 'stubborn') or the
        shell text ``script``.  Returns the path."""
        pw = pwd.getpwnam(HR._user_name(user))
        body = script if script is not None else _DESKTOPS[kind]
        text = _DESKTOP_HEAD + (_DESKTOP_ESCAPEES if escapees else "") + body + "\n"
        path = Path(pw.pw_dir) / "startwm.sh"
        self.escapees[pw.pw_name] = escapees
        path.write_text(text)
        os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, 0o755)
        return path

    # -- sessions ----------------------------------------------------------
    def sessions(self) -> List[XrdpSession]:
        """Every running session of this sesman, from /proc."""
        if not self.sesman:
            return []
        cmap = _children_map()
        out = []
        for child in cmap.get(self.sesman.pid, []):
            if HR.proc_uid(child) != 0:
                continue
            for x in cmap.get(child, []):
                argv = _argv(x)
                if len(argv) < 2:
                    continue
                backend = os.path.basename(argv[0])
                m = re.fullmatch(r":(\d+)", argv[1])
                if backend not in ("Xvnc", "Xorg") or not m:
                    continue
                n, uid = int(m.group(1)), HR.proc_uid(x)
                if uid is None:
                    continue
                pw = pwd.getpwuid(uid)
                members = set(_descendants(child, cmap))
                for p in user_pids(uid):
                    if p in members:
                        continue
                    env = proc_environ(p)
                    if env.get("XRDP_SESSION") == "1" and env.get("DISPLAY") in (f":{n}", f":{n}.0"):
                        members.add(p)
                if backend == "Xvnc":
                    connected = (5900 + n) in _tcp_established_ports()
                else:
                    connected = _unix_connected(f"{SOCKDIR}/xrdp_display_{n}")
                self.displays_seen.add(n)
                self.homes_seen[uid] = pw.pw_dir
                out.append(XrdpSession(child, x, backend, n, uid, pw.pw_name, pw.pw_dir,
                                       sorted(members), connected))
        return out

    def session_of(self, user) -> Optional[XrdpSession]:
        name = HR._user_name(user)
        found = [s for s in self.sessions() if s.user == name]
        if len(found) > 1:
            raise RdpError(f"{name} has {len(found)} xrdp sessions: {found}")
        return found[0] if found else None

    def wait_connected(self, session: XrdpSession, connected: bool = True,
                       timeout: float = 15.0) -> XrdpSession:
        """Wait until ``session`` shows (or no longer shows) a client; returns it refreshed."""
        def check():
            for s in self.sessions():
                if s.sesman_child == session.sesman_child and s.connected == connected:
                    return s
            if not HR.proc_alive(session.sesman_child):
                raise RdpError(f"xrdp session {session.name} ({session.user}) ended while waiting")
            return None
        return wait_until(check, timeout, interval=0.1,
                          what=f"xrdp session {session.name} of {session.user} to be "
                               f"{'connected' if connected else 'disconnected'}")

    def sesadmin_list(self, user, timeout: float = 15.0) -> str:
        """``xrdp-sesadmin -c=list`` as ``user`` (with its password): xrdp's own view."""
        return HR.run(["xrdp-sesadmin", "-s=127.0.0.1", f"-u={HR._user_name(user)}",
                       f"-p={password_of(user)}", "-c=list"], check=False, timeout=timeout).stdout

    def end_session(self, session: XrdpSession, grace: float = 5.0, child_grace: float = 10.0) -> List[str]:
        """End a session the way xrdp expects: SIGTERM+SIGCONT the user's
        processes (not the sesman child), ``grace`` s, SIGKILL what is left of
        them, then give the sesman child ``child_grace`` s to clean up and exit
        by itself (SIGKILL after).  Returns notes on anything forced."""
        notes: List[str] = []
        uid = session.uid
        kill_user_processes(uid, term_first=grace)
        try:
            wait_until(lambda: not HR.proc_alive(session.sesman_child), child_grace, interval=0.1,
                       what=f"sesman child {session.sesman_child} to exit by itself")
        except TimeoutError:
            notes.append(f"sesman child {session.sesman_child} of {session.name} did not exit by itself: SIGKILL")
            try:
                os.kill(session.sesman_child, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_until(lambda: not HR.proc_alive(session.sesman_child), 5,
                       what=f"sesman child {session.sesman_child} to die after SIGKILL")
        return notes

    def end_all_sessions(self, grace: float = 5.0) -> List[str]:
        notes: List[str] = []
        for s in self.sessions():
            notes += self.end_session(s, grace=grace)
        return notes

    def residue(self, homes: Iterable[str] = (), displays: Iterable[int] = ()) -> List[str]:
        """What xrdp left behind for the displays and homes given (default: all
        seen): X locks/sockets, sockdir entries, FUSE mounts, sesman children."""
        out = []
        displays = set(displays) or set(self.displays_seen)
        homes = list(homes) or list(self.homes_seen.values())
        for n in sorted(displays):
            for f in (f"/tmp/.X{n}-lock", f"/tmp/.X11-unix/X{n}"):
                if os.path.exists(f):
                    out.append(f"X lock/socket {f}")
        try:
            for e in sorted(os.listdir(SOCKDIR)):
                m = re.search(r"_(\d+)$", e)
                if m and int(m.group(1)) in displays:
                    out.append(f"socket {SOCKDIR}/{e}")
        except FileNotFoundError:
            pass
        for h in homes:
            for mp in fuse_mounts_under(h):
                out.append(f"mount {mp}")
        if self.sesman:
            for c in _children_map().get(self.sesman.pid, []):
                out.append(f"sesman child {c} {HR.proc_cmdline(c)!r}")
        return out

    def _clean_residue(self) -> List[str]:
        found = self.residue()
        for n in self.displays_seen:
            lock = f"/tmp/.X{n}-lock"
            try:
                holder = int((HR._read(lock) or "").strip() or 0)
            except ValueError:
                holder = 0
            if holder and HR.proc_alive(holder):
                continue
            for f in (lock, f"/tmp/.X11-unix/X{n}"):
                try:
                    os.unlink(f)
                except FileNotFoundError:
                    pass
            try:
                for e in os.listdir(SOCKDIR):
                    if re.search(rf"_{n}$", e):
                        os.unlink(SOCKDIR / e)
            except FileNotFoundError:
                pass
        for h in self.homes_seen.values():
            for mp in reversed(fuse_mounts_under(h)):
                if HR.run(["umount", mp], check=False, timeout=15).returncode != 0:
                    HR.run(["umount", "-l", mp], check=False, timeout=15)
        return found

    # -- teardown ----------------------------------------------------------
    def stop(self) -> List[str]:
        """End every session (user processes first), stop xrdp and sesman by
        PID, clean what was left (and say so: :attr:`leftovers`, also
        returned), restore the PAM file, remove /run/xrdp if we made it."""
        notes: List[str] = []
        t0 = time.monotonic()
        try:
            if self.sesman and self.sesman.poll() is None:
                notes += self.end_all_sessions()
            for c in (_children_map().get(self.sesman.pid, []) if self.sesman else []):
                notes.append(f"sesman child {c} left: SIGKILL")
                try:
                    os.kill(c, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _stop_popen(self.xrdp)
            _stop_popen(self.sesman)
            # xrdp's per-connection children share its process group: _stop_popen ends them too
            _forget("xrdp-xrdp")
            _forget("xrdp-sesman")
            notes += [f"left behind: {r}" for r in self._clean_residue()]
        finally:
            if restore_pam():
                pass
            if self._made_run_xrdp and RUN_XRDP.exists():
                shutil.rmtree(RUN_XRDP, ignore_errors=True)
        self.timings["stop"] = time.monotonic() - t0
        self.leftovers += notes
        return notes

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _listeners() -> List[tuple]:
    """(addr_hex, port) of every listening TCP socket."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in (HR._read(name) or "").splitlines()[1:]:
            f = line.split()
            if len(f) > 3 and f[3] == "0A":
                a, p = f[1].rsplit(":", 1)
                out.append((a, int(p, 16)))
    return out


class RdpClient:
    """``xfreerdp`` on an :class:`Xvfb`, logged in to an :class:`Xrdp` as ``user``.

    :meth:`start` waits until the session's desktop runs and the client is
    attached.  ``backend``: 'Xvnc' or 'Xorg'.
    """

    def __init__(self, xrdp: Xrdp, xvfb: Xvfb, user, backend: str = "Xvnc",
                 password: Optional[str] = None, size: str = "1024x768"):
        if backend not in ("Xvnc", "Xorg"):
            raise ValueError(f"backend {backend!r}")
        self.xrdp, self.xvfb, self.user = xrdp, xvfb, user
        self.username = HR._user_name(user)
        self.backend, self.size = backend, size
        self.password = password or password_of(user)
        self.proc: Optional[subprocess.Popen] = None
        self.n = 0
        self.log_path: Optional[Path] = None
        self.timings: Dict[str, float] = {}
        self.home = pwd.getpwnam(self.username).pw_dir
        self._disconnected_at: Optional[float] = None

    #: Xvnc refuses a reconnect that comes within about a second of the killed
    #: client ("VNC error 1 after security negotiation" in xrdp.log, the client
    #: stays on xrdp's error screen): :meth:`reconnect` waits this long first.
    RECONNECT_PAUSE = 2.0
    #: the client must stay attached this long before :meth:`start` returns
    #: (a failing VNC connect is briefly ESTABLISHED first)
    STABLE = 1.0

    def argv(self) -> List[str]:
        return ["/usr/bin/xfreerdp", f"/v:127.0.0.1:{self.xrdp.port}", f"/u:{self.username}",
                f"/p:{self.password}", f"/d:{self.backend}", "/cert:ignore", f"/size:{self.size}",
                "/log-level:INFO"]

    def _launch(self):
        self.n += 1
        self.log_path = self.xrdp.logdir / f"xfreerdp-{self.username}-{self.n}.log"
        out = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, env=self.xvfb.env(),
                                         start_new_session=True)
        finally:
            out.close()
        _remember(f"xrdp-client-{self.proc.pid}", self.proc.pid, self.proc.args)

    def _fail(self, e: Exception):
        return type(e)(f"{e}\nclient alive: {self.alive()}\nclient output:\n{self.output()[-2000:]}\n"
                       f"{self.xrdp.log_tail(15)}")

    def start(self, timeout: float = 40.0) -> "RdpClient":
        """Connect; wait for a new desktop (its marker file) or, if the user
        already had a session, for the reconnect; then for the client to be attached."""
        marker = Path(self.home) / ".rdp-desktop.started"
        had = self.xrdp.session_of(self.username)
        if had is None:
            try:
                marker.unlink()
            except FileNotFoundError:
                pass
        t0 = time.monotonic()
        xlog = self.xrdp.logdir / "xrdp.log"
        log_off = xlog.stat().st_size if xlog.exists() else 0
        self._launch()
        since = [None]

        def up():
            if self.proc.poll() is not None:
                raise RdpError(f"xfreerdp exited with status {self.proc.returncode} before the session came up")
            with open(xlog, "rb") as f:
                f.seek(log_off)
                new = f.read().decode(errors="replace")
            if "Error connecting to user session" in new:
                raise RdpError(f"xrdp could not connect {self.username}'s client to the session:\n"
                               + "\n".join(new.splitlines()[-25:]))
            s = self.xrdp.session_of(self.username)
            if s is None or not s.connected or (had is None and not marker.exists()):
                since[0] = None
                return None
            if since[0] is None:
                since[0] = time.monotonic()
            return s if time.monotonic() - since[0] >= self.STABLE else None
        try:
            s = wait_until(up, timeout, interval=0.1,
                           what=f"xrdp {self.backend} session of {self.username} to run with the client attached")
        except Exception as e:
            raise self._fail(e) from None
        if had is None and self.xrdp.escapees.get(self.username):
            # the escapee's intermediate shells must have exited: then it is reparented
            def settled():
                s = self.xrdp.session_of(self.username)
                e = s.escapee() if s else None
                return e and e not in s.members
            wait_until(settled, 10, interval=0.05,
                       what=f"the escapee of {self.username}'s desktop to leave the session's process tree")
        self.timings["reconnect" if had else "login"] = time.monotonic() - t0
        return self

    def session(self) -> XrdpSession:
        s = self.xrdp.session_of(self.username)
        if s is None:
            raise RdpError(f"no xrdp session of {self.username}")
        return s

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def connected(self) -> bool:
        """The client runs and the server side shows it attached."""
        if not self.alive():
            return False
        s = self.xrdp.session_of(self.username)
        return bool(s and s.connected)

    def wait_exit(self, timeout: float = 15.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"xfreerdp {self.proc.pid} of {self.username} still running after {timeout:g}s") from None

    def disconnect(self, timeout: float = 10.0) -> None:
        """Kill the client (SIGKILL: no goodbye); the session stays, disconnected."""
        if self.alive():
            _stop_popen(self.proc, sig=signal.SIGKILL, grace=timeout)
            self._disconnected_at = time.monotonic()
        _forget(f"xrdp-client-{self.proc.pid}")

    def reconnect(self, timeout: float = 40.0) -> "RdpClient":
        """A new xfreerdp for the same user, size and backend: sesman gives it the running session."""
        if self.alive():
            self.disconnect()
        if self._disconnected_at is not None:
            time.sleep(max(0.0, self._disconnected_at + self.RECONNECT_PAUSE - time.monotonic()))
        return self.start(timeout)

    def output(self) -> str:
        return (HR._read(self.log_path) or "") if self.log_path else ""

    def last_error(self) -> Optional[str]:
        """The last ERRINFO_* xfreerdp printed (how it saw the end), if any."""
        m = re.findall(r"ERRINFO_[A-Z_]+", self.output())
        return m[-1] if m else None

    def screenshot(self, path: Union[str, Path]) -> Path:
        return self.xvfb.screenshot(path)

    def type_text(self, text: str) -> None:
        """Type a line into the remote desktop's focused window (xdotool on the Xvfb)."""
        env = self.xvfb.env()
        HR.run(["xdotool", "mousemove", "300", "150"], env=env, timeout=10)
        HR.run(["xdotool", "type", "--delay", "25", text], env=env, timeout=60)
        HR.run(["xdotool", "key", "Return"], env=env, timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            self.disconnect()
            _forget(f"xrdp-client-{self.proc.pid}")


# ---------------------------------------------------------------------------
# X2Go
# ---------------------------------------------------------------------------

X2GO_DB = Path("/var/lib/x2go/x2go_sessions")


def x2go_db_sessions(user=None) -> List[dict]:
    """Rows of X2Go's session database (all columns), optionally of one user."""
    con = sqlite3.connect(f"file:{X2GO_DB}?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        if user is None:
            rows = con.execute("select * from sessions").fetchall()
        else:
            rows = con.execute("select * from sessions where uname=?", (HR._user_name(user),)).fetchall()
        return [dict(r) for r in rows]
    finally:
        con.close()


def x2go_list_sessions() -> List[dict]:
    """``x2golistsessions_root``: running and suspended sessions of all users
    (agent_pid, session, display, server, status, created, cookie, ..., user, ...)."""
    out = HR.run(["/usr/sbin/x2golistsessions_root"], check=False, timeout=30).stdout
    rows = []
    for line in out.splitlines():
        f = line.split("|")
        if len(f) >= 12:
            rows.append({"agent_pid": int(f[0]) if f[0].isdigit() else None, "session": f[1],
                         "display": int(f[2]) if f[2].isdigit() else None, "server": f[3],
                         "status": f[4], "user": f[11], "fields": f})
    return rows


class X2goSshd(HR.Sshd):
    """harness.Sshd with password logins and the sftp subsystem (pyhoca-cli
    needs both: it checks sftp at every session start and resume)."""

    def _write_config(self):
        super()._write_config()
        text = self.config_path.read_text().replace("PasswordAuthentication no", "PasswordAuthentication yes")
        text += "Subsystem sftp /usr/lib/openssh/sftp-server\n"
        self.config_path.write_text(text)


class X2go:
    """x2goserver behind a private sshd on 127.0.0.1 (free port)."""

    def __init__(self, workdir: Union[str, Path], xvfb: Xvfb):
        self.workdir = Path(workdir)
        self.xvfb = xvfb
        self.sshd = X2goSshd(self.workdir / "sshd")
        self.users: Set[str] = set()
        self.clients: List["X2goClient"] = []
        self.timings: Dict[str, float] = {}
        self.leftovers: List[str] = []

    def start(self) -> "X2go":
        check_packages()
        t0 = time.monotonic()
        self.leftovers += stop_stale("x2go")
        HR.ensure_utmp()
        self.sshd.start()
        _remember("x2go-sshd", self.sshd.pid, self.sshd.argv())
        self.timings["start"] = time.monotonic() - t0
        return self

    def client(self, user) -> "X2goClient":
        c = X2goClient(self, user)
        self.users.add(c.username)
        self.clients.append(c)
        return c

    def sessions(self, user) -> List[dict]:
        return x2go_db_sessions(user)

    def end_user(self, user, grace: float = 3.0) -> List[str]:
        """Terminate the user's X2Go sessions with X2Go's own
        ``x2goterminate-session`` (as the user), end its processes, remove
        /tmp/.x2go-USER, its X locks and its database rows.  Returns notes."""
        name = HR._user_name(user)
        notes = []
        for c in self.clients:
            if c.username == name:
                c.stop()
        for r in x2go_db_sessions(name):
            if r["status"] in ("R", "S"):
                HR.run(["runuser", "-u", name, "--", "x2goterminate-session", r["session_id"]],
                       check=False, timeout=60)
        uid = pwd.getpwnam(name).pw_uid
        left = user_pids(uid)
        if left:
            notes.append(f"processes of {name} after x2goterminate-session:\n{HR.describe_pids(left)}")
            kill_user_processes(uid, term_first=grace)
        for r in x2go_db_sessions(name):
            n = r["display"]
            lock = f"/tmp/.X{n}-lock"
            try:
                holder = int((HR._read(lock) or "0").strip() or 0)
            except ValueError:
                holder = 0
            if os.path.exists(lock) and not HR.proc_alive(holder):
                notes.append(f"X lock {lock} left")
                for f in (lock, f"/tmp/.X11-unix/X{n}"):
                    try:
                        os.unlink(f)
                    except FileNotFoundError:
                        pass
        shutil.rmtree(f"/tmp/.x2go-{name}", ignore_errors=True)
        con = sqlite3.connect(str(X2GO_DB), timeout=10)
        try:
            with con:
                for t in ("mounts", "used_ports", "sessions"):
                    con.execute(f"delete from {t} where session_id in "
                                f"(select session_id from sessions where uname=?)"
                                if t != "sessions" else "delete from sessions where uname=?", (name,))
        finally:
            con.close()
        return notes

    def stop(self) -> List[str]:
        t0 = time.monotonic()
        notes = []
        for u in sorted(self.users):
            try:
                pwd.getpwnam(u)
            except KeyError:
                continue
            notes += self.end_user(u)
        for s in list(self.sshd.sessions):
            s.cleanup()
        self.sshd.stop()
        _forget("x2go-sshd")
        self.timings["stop"] = time.monotonic() - t0
        self.leftovers += notes
        return notes

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class X2goClient:
    """pyhoca-cli for one user against an :class:`X2go` (password login)."""

    def __init__(self, x2go: X2go, user, password: Optional[str] = None):
        self.x2go = x2go
        self.user = user
        self.username = HR._user_name(user)
        self.password = password or password_of(user)
        self.home = x2go.workdir / f"client-{self.username}"
        self.home.mkdir(parents=True, exist_ok=True)
        self.proc: Optional[subprocess.Popen] = None
        self.session_id: Optional[str] = None
        self.n = 0
        self.log_path: Optional[Path] = None
        self.timings: Dict[str, float] = {}

    def _base(self) -> List[str]:
        return ["/usr/bin/pyhoca-cli", "--server", "127.0.0.1", "-p", str(self.x2go.sshd.port),
                "-u", self.username, "--password", self.password, "--force-password",
                "--add-to-known-hosts"]

    def _env(self):
        return {**self.x2go.xvfb.env(), "HOME": str(self.home)}

    def _launch(self, args: Sequence[str]):
        self.n += 1
        self.log_path = self.x2go.workdir / f"pyhoca-{self.username}-{self.n}.log"
        out = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(self._base() + list(args), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, env=self._env(), start_new_session=True)
        finally:
            out.close()
        _remember(f"x2go-client-{self.proc.pid}", self.proc.pid, self.proc.args)

    def oneshot(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return HR.run(self._base() + list(args), check=False, timeout=timeout, env=self._env())

    def row(self) -> Optional[dict]:
        for r in x2go_db_sessions(self.username):
            if r["session_id"] == self.session_id:
                return r
        return None

    def status(self) -> Optional[str]:
        r = self.row()
        return r["status"] if r else None

    def _wait_status(self, want: str, timeout: float, what: str):
        def ok():
            st = self.status()
            return st == want
        try:
            wait_until(ok, timeout, interval=0.2, what=f"X2Go session {self.session_id} of "
                                                        f"{self.username} to be {want} ({what})")
        except TimeoutError as e:
            raise TimeoutError(f"{e}; status now {self.status()}\nclient output:\n{self.output()[-2000:]}") from None

    def agent_pid(self) -> Optional[int]:
        r = self.row()
        return r["agent_pid"] if r else None

    def display(self) -> Optional[int]:
        r = self.row()
        return r["display"] if r else None

    def start(self, command: str = "xterm", timeout: float = 60.0) -> "X2goClient":
        """A new desktop session running ``command`` (a plain name from /usr/bin);
        waits for its database row with status R, its agent and a process
        ``command`` of the user."""
        before = {r["session_id"] for r in x2go_db_sessions(self.username)}
        t0 = time.monotonic()
        self._launch(["-c", command, "-t", "desktop", "-g", "1024x768", "--sound", "none"])
        uid = pwd.getpwnam(self.username).pw_uid

        def up():
            if self.proc.poll() is not None:
                raise RdpError(f"pyhoca-cli exited with status {self.proc.returncode}")
            for r in x2go_db_sessions(self.username):
                if r["session_id"] not in before and r["status"] == "R" and r["agent_pid"] \
                        and HR.proc_alive(r["agent_pid"]):
                    if any(HR.proc_comm(p) == command[:15] for p in user_pids(uid)):
                        return r["session_id"]
            return None
        try:
            self.session_id = wait_until(up, timeout, interval=0.2,
                                         what=f"X2Go session of {self.username} running {command}")
        except Exception as e:
            raise type(e)(f"{e}\nclient output:\n{self.output()[-3000:]}\nsshd log:\n"
                          f"{self.x2go.sshd.log_tail()}") from None
        self.timings["start"] = time.monotonic() - t0
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _let_client_exit(self, grace: float) -> None:
        """The client ends by itself once its session is suspended or over."""
        if self.proc is not None:
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                _stop_popen(self.proc)

    def suspend(self, timeout: float = 60.0) -> None:
        """``pyhoca-cli -S NAME`` from a second connection; waits for status S, then ends this client."""
        t0 = time.monotonic()
        cp = self.oneshot("-S", self.session_id, timeout=timeout)
        self._wait_status("S", timeout, f"after pyhoca-cli -S: rc={cp.returncode} {cp.stdout[-500:]}")
        self._let_client_exit(10)
        self.timings["suspend"] = time.monotonic() - t0

    def resume(self, timeout: float = 60.0) -> "X2goClient":
        """A new pyhoca-cli ``-R NAME`` (a new ssh connection); waits for status R."""
        if self.alive():
            _stop_popen(self.proc)
        t0 = time.monotonic()
        self._launch(["-R", self.session_id, "-g", "1024x768", "--sound", "none"])

        def ok():
            if self.proc.poll() is not None:
                raise RdpError(f"pyhoca-cli -R exited with status {self.proc.returncode}")
            return self.status() == "R"
        try:
            wait_until(ok, timeout, interval=0.2, what=f"X2Go session {self.session_id} to be resumed")
        except Exception as e:
            raise type(e)(f"{e}\nclient output:\n{self.output()[-3000:]}") from None
        self.timings["resume"] = time.monotonic() - t0
        return self

    def terminate(self, timeout: float = 60.0) -> None:
        """``pyhoca-cli -T NAME``; waits for status F (finished)."""
        t0 = time.monotonic()
        cp = self.oneshot("-T", self.session_id, timeout=timeout)
        self._wait_status("F", timeout, f"after pyhoca-cli -T: rc={cp.returncode} {cp.stdout[-500:]}")
        self._let_client_exit(15)
        self.timings["terminate"] = time.monotonic() - t0

    def output(self) -> str:
        return (HR._read(self.log_path) or "") if self.log_path else ""

    def stop(self) -> None:
        if self.proc is not None:
            _stop_popen(self.proc)
            _forget(f"x2go-client-{self.proc.pid}")

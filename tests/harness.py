"""Test harness for ``logoff``: real users, a private sshd, real login sessions.

Plain library code (standard library only) for pytest tests run as root by
Debian's ``/usr/bin/python3``.  Nothing here is pytest-specific; fixtures
belong in ``conftest.py``.

Facts about the machine this is written for (Debian 12, no systemd as PID 1,
no logind):

* ``/run/utmp`` does not exist until something creates it; call
  :func:`ensure_utmp` once before starting logins, otherwise sshd writes a
  wtmp login record but never a logout record.
* An ``ssh -tt`` key login gets a pty and a fresh audit session id
  (``/proc/PID/sessionid``) shared by every process of the session, including
  the root ``sshd: USER [priv]`` monitor, whose pid is the ``ut_pid`` of the
  session's utmp entry.  :class:`SshSession` exposes both.
* SIGKILLed processes can stay zombies for about a second (PID 1 reaps
  slowly) and their ``/proc/PID/sessionid`` stays readable, so every "is it
  still running" check in this module treats state ``Z``/``X`` as dead.

Every wait is bounded by a timeout and raises :class:`TimeoutError` (or
:class:`HarnessError`) with a message saying what was being waited for.

Typical use::

    ensure_utmp()
    user = create_user("lotest1")
    with Sshd(tmp_path / "sshd") as sshd:
        s1 = sshd.login(user, user.ssh_key)
        s2 = sshd.login(user, user.ssh_key)
        ...                       # run logoff, inspect s1.pids(), read_utmp()
        s1.close(); s2.cleanup()
    user.remove()
"""

from __future__ import annotations

import atexit
import dataclasses
import errno
import fcntl
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence, Union

__all__ = [
    "HarnessError", "UtmpRecord", "read_utmp", "utmp_user_entries",
    "utmp_logout", "ensure_utmp", "wait_until", "proc_alive", "proc_state",
    "proc_sessionid", "proc_ppid", "proc_comm", "proc_uid", "proc_cmdline",
    "session_pids", "kill_session", "kill_until_gone", "describe_pids", "run",
    "generate_keypair", "run_keypair", "TestUser", "create_user",
    "make_netns", "remove_netns", "Sshd", "SshSession", "free_port", "stop_client",
    "UTMP_PATH", "WTMP_PATH", "UNSET_SESSIONID",
    "EMPTY", "RUN_LVL", "BOOT_TIME", "NEW_TIME", "OLD_TIME", "INIT_PROCESS",
    "LOGIN_PROCESS", "USER_PROCESS", "DEAD_PROCESS", "ACCOUNTING",
]

UTMP_PATH = "/run/utmp"
WTMP_PATH = "/var/log/wtmp"
SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"
SSH_KEYGEN = "/usr/bin/ssh-keygen"

#: Value of /proc/PID/sessionid (and loginuid) when never set.
UNSET_SESSIONID = 4294967295

# ut_type values (<bits/utmp.h>)
EMPTY = 0
RUN_LVL = 1
BOOT_TIME = 2
NEW_TIME = 3
OLD_TIME = 4
INIT_PROCESS = 5
LOGIN_PROCESS = 6
USER_PROCESS = 7
DEAD_PROCESS = 8
ACCOUNTING = 9


class HarnessError(RuntimeError):
    """A harness operation failed (command error, process died, ...)."""


# ---------------------------------------------------------------------------
# Generic helpers
# ---------------------------------------------------------------------------

def wait_until(predicate: Callable[[], object], timeout: float,
               interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate()`` until it returns a truthy value and return that value.

    Raises :class:`TimeoutError` mentioning ``what`` if it is still falsy
    after ``timeout`` seconds (the predicate is always tried at least once,
    and once more right at the deadline).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        now = time.monotonic()
        if now >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(min(interval, max(deadline - now, 0.001)))


def run(argv: Sequence[str], check: bool = True, timeout: float = 60,
        input: Optional[str] = None, **kw) -> subprocess.CompletedProcess:
    """Run a command, capture text output, bounded by ``timeout``.

    With ``check`` a non-zero exit raises :class:`HarnessError` with the
    command's stdout/stderr in the message.  A timeout raises
    :class:`TimeoutError` (the child is killed by :mod:`subprocess`).
    """
    argv = [str(a) for a in argv]
    try:
        cp = subprocess.run(argv, stdin=None if input is not None else subprocess.DEVNULL,
                            input=input, capture_output=True, text=True,
                            timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        raise TimeoutError(f"command timed out after {timeout:g}s: {' '.join(argv)}") from e
    if check and cp.returncode != 0:
        raise HarnessError(f"command failed (rc={cp.returncode}): {' '.join(argv)}\n"
                           f"stdout: {cp.stdout.strip()}\nstderr: {cp.stderr.strip()}")
    return cp


def _read(path: Union[str, Path]) -> Optional[str]:
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return None


# ---------------------------------------------------------------------------
# /proc helpers
# ---------------------------------------------------------------------------

def _stat_fields(pid: int) -> Optional[List[str]]:
    """Fields of /proc/PID/stat after the comm, i.e. [state, ppid, pgrp, ...]."""
    data = _read(f"/proc/{pid}/stat")
    if not data:
        return None
    rparen = data.rfind(")")
    if rparen < 0:
        return None
    return data[rparen + 2:].split()


def proc_state(pid: int) -> Optional[str]:
    """One-letter state of a process (R, S, D, Z, ...) or None if it is gone."""
    f = _stat_fields(pid)
    return f[0] if f else None


def proc_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (or dead, state X).

    A process whose main thread exited while other threads run shows state
    Z too, with more than one thread: that one is alive."""
    f = _stat_fields(pid)
    if not f:
        return False
    if f[0] in ("X", "x"):
        return False
    return f[0] != "Z" or int(f[17]) > 1


def proc_ppid(pid: int) -> Optional[int]:
    f = _stat_fields(pid)
    return int(f[1]) if f else None


def proc_comm(pid: int) -> Optional[str]:
    data = _read(f"/proc/{pid}/comm")
    return data.rstrip("\n") if data is not None else None


def proc_cmdline(pid: int) -> Optional[str]:
    """Command line joined with spaces (sshd's set title shows up here)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def proc_uid(pid: int) -> Optional[int]:
    """Real uid of a process, None if it is gone."""
    data = _read(f"/proc/{pid}/status")
    if data:
        for line in data.splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def proc_sessionid(pid: Union[int, str]) -> Optional[int]:
    """Audit session id (/proc/PID/sessionid) or None if unreadable."""
    data = _read(f"/proc/{pid}/sessionid")
    try:
        return int(data) if data is not None else None
    except ValueError:
        return None


def _all_pids() -> List[int]:
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def session_pids(sid: int) -> List[int]:
    """Sorted PIDs of all live (non-zombie) processes whose audit session id is ``sid``."""
    sid = int(sid)
    out = []
    for pid in _all_pids():
        if proc_sessionid(pid) == sid and proc_alive(pid):
            out.append(pid)
    return out


def describe_pids(pids: Iterable[int]) -> str:
    """Human-readable 'pid uid state cmdline' lines, for error messages."""
    lines = []
    for pid in pids:
        lines.append(f"  {pid} uid={proc_uid(pid)} state={proc_state(pid)} "
                     f"sid={proc_sessionid(pid)} {proc_cmdline(pid)!r}")
    return "\n".join(lines) if lines else "  (none)"


def kill_session(sid: int, timeout: float = 10.0) -> List[int]:
    """SIGKILL every process whose /proc/PID/sessionid equals ``sid``.

    Last-resort cleanup so tests never leak processes.  Skips the calling
    process; refuses the unset id (4294967295, which nearly every daemon and
    kernel thread has) and the caller's own session id (which would kill the
    test runner's own ancestors).  Repeats until no live process of the
    session remains (forks racing with the kill are caught by later passes)
    and returns every PID it signalled.  Raises :class:`TimeoutError` if
    processes survive ``timeout`` seconds.

    Note: SIGKILL leaves sshd no chance to write utmp/wtmp logout records;
    see :func:`utmp_logout` (used by :meth:`SshSession.cleanup`).
    """
    sid = int(sid)
    if sid in (UNSET_SESSIONID, 0) or sid < 0:
        raise ValueError(f"refusing to kill audit session {sid}")
    own = proc_sessionid("self")
    if own == sid:
        raise ValueError(f"refusing to kill audit session {sid}: it is the caller's own session")
    return kill_until_gone(lambda: session_pids(sid), timeout, f"audit session {sid}")


def kill_until_gone(list_pids: Callable[[], Iterable[int]], timeout: float, what: str) -> List[int]:
    """SIGKILL what ``list_pids()`` lists (but this process), again and again
    until it lists nothing: forks racing with the kill are caught by later
    passes.  Returns every PID signalled; TimeoutError, naming ``what`` and
    the survivors, after ``timeout`` seconds."""
    me = os.getpid()
    killed = set()

    def sweep():
        left = [p for p in list_pids() if p != me]
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        return not left

    try:
        wait_until(sweep, timeout, interval=0.05, what=f"all processes of {what} to die")
    except TimeoutError as e:
        raise TimeoutError(f"{e}; still alive:\n{describe_pids(list_pids())}") from None
    return sorted(killed)


# ---------------------------------------------------------------------------
# utmp
# ---------------------------------------------------------------------------

# struct utmp on x86_64 glibc: 384 bytes.
_UTMP_FMT = "<hxxi32s4s32s256shhiii16s20s"
_UTMP = struct.Struct(_UTMP_FMT)
assert _UTMP.size == 384


@dataclasses.dataclass(frozen=True)
class UtmpRecord:
    """One ``struct utmp`` record (x86_64 glibc layout)."""
    type: int
    pid: int
    line: str
    id: str
    user: str
    host: str
    exit_termination: int
    exit_exit: int
    session: int
    tv_sec: int
    tv_usec: int
    addr_v6: bytes
    index: int = -1          #: record number in the file

    @property
    def addr(self) -> str:
        """ut_addr_v6 as text ('' when zero; IPv4 if only the first word is set)."""
        if not any(self.addr_v6):
            return ""
        if not any(self.addr_v6[4:]):
            return socket.inet_ntop(socket.AF_INET, self.addr_v6[:4])
        return socket.inet_ntop(socket.AF_INET6, self.addr_v6)

    def pack(self) -> bytes:
        return _UTMP.pack(self.type, self.pid, self.line.encode(), self.id.encode(),
                          self.user.encode(), self.host.encode(), self.exit_termination,
                          self.exit_exit, self.session, self.tv_sec, self.tv_usec,
                          self.addr_v6, b"")


def _cstr(b: bytes) -> str:
    return b.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _unpack(buf: bytes, index: int = -1) -> UtmpRecord:
    (typ, pid, line, ident, user, host, e_term, e_exit, session, sec, usec,
     addr, _unused) = _UTMP.unpack(buf)
    return UtmpRecord(typ, pid, _cstr(line), _cstr(ident), _cstr(user), _cstr(host),
                      e_term, e_exit, session, sec, usec, addr, index)


def read_utmp(path: Union[str, Path] = UTMP_PATH) -> List[UtmpRecord]:
    """All records of a utmp/wtmp file (a missing file gives [])."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    n = len(data) // _UTMP.size          # ignore a trailing partial record
    return [_unpack(data[i * _UTMP.size:(i + 1) * _UTMP.size], i) for i in range(n)]


def utmp_user_entries(user: Optional[str] = None,
                      path: Union[str, Path] = UTMP_PATH) -> List[UtmpRecord]:
    """USER_PROCESS records of ``path``, optionally only those of ``user``."""
    return [r for r in read_utmp(path)
            if r.type == USER_PROCESS and (user is None or r.user == user)]


def _lock(fd: int, timeout: float = 5.0):
    """Whole-file POSIX write lock (what glibc's utmp functions use)."""
    wait_until(lambda: _try_lock(fd), timeout, interval=0.02, what="utmp file lock")


def _try_lock(fd: int) -> bool:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def utmp_logout(pid: int, utmp_path: Union[str, Path] = UTMP_PATH,
                wtmp_path: Optional[Union[str, Path]] = WTMP_PATH) -> List[str]:
    """Mark the USER_PROCESS entries of ``pid`` dead, as sshd would at logout.

    Rewrites each matching utmp record to DEAD_PROCESS (user and host cleared,
    time now, like glibc ``logout()``) and appends a DEAD_PROCESS record for
    the same line to wtmp (like ``logwtmp(line, "", "")``) so ``last`` shows a
    logout.  For cleaning up after SIGKILL, which leaves stale entries.
    Returns the lines that were logged out.
    """
    done: List[str] = []
    try:
        fd = os.open(utmp_path, os.O_RDWR)
    except FileNotFoundError:
        return done
    try:
        _lock(fd)
        size = os.fstat(fd).st_size
        data = os.pread(fd, size, 0)
        now = time.time()
        for i in range(len(data) // _UTMP.size):
            rec = _unpack(data[i * _UTMP.size:(i + 1) * _UTMP.size], i)
            if rec.type != USER_PROCESS or rec.pid != pid:
                continue
            dead = dataclasses.replace(rec, type=DEAD_PROCESS, user="", host="",
                                       tv_sec=int(now), tv_usec=int(now % 1 * 1e6))
            os.pwrite(fd, dead.pack(), i * _UTMP.size)
            done.append(rec.line)
    finally:
        os.close(fd)          # releases the lock
    if wtmp_path and done:
        wfd = os.open(wtmp_path, os.O_WRONLY | os.O_APPEND)
        try:
            _lock(wfd)
            now = time.time()
            for line in done:
                rec = UtmpRecord(DEAD_PROCESS, pid, line, "", "", "", 0, 0, 0,
                                 int(now), int(now % 1 * 1e6), bytes(16))
                os.write(wfd, rec.pack())
        finally:
            os.close(wfd)
    return done


def ensure_utmp() -> None:
    """Make sure /run/utmp exists as after a normal boot (root:utmp 0664).

    Uses ``systemd-tmpfiles --create --boot --prefix=/run/utmp`` when that
    command exists, else creates the file by hand.  Idempotent: an existing
    utmp is never touched (the tmpfiles rule is ``f+!``, which would truncate
    it and wipe the entries of sessions already logged in).
    """
    if os.path.exists(UTMP_PATH):
        return
    tmpfiles = shutil.which("systemd-tmpfiles")
    if tmpfiles:
        run([tmpfiles, "--create", "--boot", "--prefix=" + UTMP_PATH], check=False)
    if not os.path.exists(UTMP_PATH):
        try:
            fd = os.open(UTMP_PATH, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o664)
        except FileExistsError:
            return
        try:
            try:
                import grp
                gid = grp.getgrnam("utmp").gr_gid
            except KeyError:
                gid = 0
            os.fchown(fd, 0, gid)
            os.fchmod(fd, 0o664)
        finally:
            os.close(fd)
    if not os.path.exists(UTMP_PATH):
        raise HarnessError(f"could not create {UTMP_PATH}")


# ---------------------------------------------------------------------------
# Keys and users
# ---------------------------------------------------------------------------

def generate_keypair(path: Union[str, Path], comment: str = "logoff-test") -> Path:
    """Make an ed25519 keypair PATH / PATH.pub (no passphrase); returns PATH.

    An existing keypair at PATH is reused.
    """
    path = Path(path)
    if path.exists() and Path(str(path) + ".pub").exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(str(path) + ".pub")):
        if p.exists():
            p.unlink()
    run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    return path


_run_key_lock = threading.Lock()
_run_key: Optional[Path] = None


def run_keypair() -> Path:
    """Path of the private half of one ed25519 keypair shared by this run.

    Created on first use in a private temporary directory that is removed
    when the interpreter exits.
    """
    global _run_key
    with _run_key_lock:
        if _run_key is None or not _run_key.exists():
            d = tempfile.mkdtemp(prefix="logoff-test-keys-")
            atexit.register(shutil.rmtree, d, True)
            _run_key = generate_keypair(Path(d) / "id_ed25519")
        return _run_key


_USERNAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")


class TestUser:
    """A local account made for tests (see :func:`create_user`).

    Attributes: ``name``, ``uid``, ``gid``, ``home`` (str), ``created`` (True
    if this run created it, False if an existing account was reused).
    """
    __test__ = False      # not a pytest test class

    def __init__(self, name: str, created: bool = False):
        pw = pwd.getpwnam(name)
        self.name = name
        self.uid = pw.pw_uid
        self.gid = pw.pw_gid
        self.home = pw.pw_dir
        self.created = created
        self._authorized: set = set()

    def __repr__(self):
        return f"TestUser({self.name!r}, uid={self.uid})"

    def __str__(self):
        return self.name

    def authorize_key(self, pubkey_path: Union[str, Path], append: bool = False) -> Path:
        """Install a public key as ~/.ssh/authorized_keys (the only key unless ``append``).

        ``pubkey_path`` may also name the private key if PATH.pub exists.
        ~/.ssh is made 0700 and authorized_keys 0600, both owned by the user
        (StrictModes stays on in :class:`Sshd`).  Returns the file's path.
        """
        pub = Path(pubkey_path)
        if not str(pub).endswith(".pub") and Path(str(pub) + ".pub").exists():
            pub = Path(str(pub) + ".pub")
        key = pub.read_text().strip()
        if not key.startswith(("ssh-", "ecdsa-", "sk-")):
            raise HarnessError(f"{pub} does not look like an OpenSSH public key")
        sshdir = Path(self.home) / ".ssh"
        if sshdir.is_symlink():
            raise HarnessError(f"{sshdir} is a symlink; refusing")
        sshdir.mkdir(mode=0o700, exist_ok=True)
        os.chown(sshdir, self.uid, self.gid)
        os.chmod(sshdir, 0o700)
        ak = sshdir / "authorized_keys"
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if append else os.O_TRUNC)
        fd = os.open(ak, flags, 0o600)
        try:
            os.write(fd, (key + "\n").encode())
            os.fchown(fd, self.uid, self.gid)
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        if not append:
            self._authorized.clear()
        self._authorized.add(key)
        return ak

    @property
    def ssh_key(self) -> Path:
        """Private key path of the per-run keypair (:func:`run_keypair`),
        authorized for this user (appended to authorized_keys on first use)."""
        key = run_keypair()
        pub = Path(str(key) + ".pub").read_text().strip()
        ak = Path(self.home) / ".ssh" / "authorized_keys"
        present = pub in self._authorized and pub in (_read(ak) or "")
        if not present:
            self.authorize_key(str(key) + ".pub", append=ak.exists())
        return key

    def remove(self) -> bool:
        """Delete the account and its home with ``userdel -r``.

        Kills nothing; failures (e.g. the user still has processes) are
        tolerated.  Returns True if the account is gone afterwards.
        """
        try:
            run(["userdel", "-r", self.name], check=False, timeout=30)
        except TimeoutError:
            pass
        try:
            pwd.getpwnam(self.name)
            return False
        except KeyError:
            return True


def create_user(name: str) -> TestUser:
    """Create a local user with ``useradd -m -s /bin/bash NAME`` (reuse it if it exists)."""
    if not _USERNAME_RE.match(name):
        raise ValueError(f"bad user name {name!r}")
    try:
        pwd.getpwnam(name)
        return TestUser(name, created=False)
    except KeyError:
        pass
    run(["useradd", "-m", "-s", "/bin/bash", name], timeout=30)
    return TestUser(name, created=True)


# ---------------------------------------------------------------------------
# Network namespaces
# ---------------------------------------------------------------------------

def _veth_names(name: str):
    h = zlib.crc32(name.encode()) & 0xFFFFFF
    return f"lot{h:06x}h", f"lot{h:06x}n"


def make_netns(name: str, host_addr: str = "10.213.0.1", ns_addr: str = "10.213.0.2",
               prefixlen: int = 30) -> str:
    """Create network namespace ``name`` joined to the host by a veth pair.

    The host end gets ``host_addr/prefixlen``, the namespace end
    ``ns_addr/prefixlen``; both ends and the namespace's loopback are brought
    up.  Use addresses private to this machine (10.213.x.y/30 by default).
    An existing namespace of that name is removed first.  Returns ``name``.

    Only the network is separate: an sshd run in the namespace (see
    ``Sshd(netns=...)``) still shares utmp/wtmp, /dev/pts, /proc and the
    audit session ids with the host, so its logins show up in the host's
    ``who`` like any other.
    """
    if not re.match(r"^[A-Za-z0-9_.-]{1,40}$", name):
        raise ValueError(f"bad netns name {name!r}")
    remove_netns(name)
    vh, vn = _veth_names(name)
    try:
        run(["ip", "netns", "add", name])
        run(["ip", "link", "add", vh, "type", "veth", "peer", "name", vn])
        run(["ip", "link", "set", vn, "netns", name])
        run(["ip", "addr", "add", f"{host_addr}/{prefixlen}", "dev", vh])
        run(["ip", "link", "set", vh, "up"])
        run(["ip", "-n", name, "addr", "add", f"{ns_addr}/{prefixlen}", "dev", vn])
        run(["ip", "-n", name, "link", "set", vn, "up"])
        run(["ip", "-n", name, "link", "set", "lo", "up"])
    except Exception:
        remove_netns(name)
        raise
    return name


def remove_netns(name: str) -> None:
    """Delete a namespace made by :func:`make_netns` and its veth pair (tolerates absence)."""
    vh, _ = _veth_names(name)
    run(["ip", "netns", "del", name], check=False)
    run(["ip", "link", "del", vh], check=False)


# ---------------------------------------------------------------------------
# sshd
# ---------------------------------------------------------------------------

def free_port(addr: str = "127.0.0.1") -> int:
    """A TCP port currently free on ``addr`` (racy by nature; Sshd retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def _listening(pid: int, port: int) -> bool:
    """True if process ``pid`` itself holds a TCP socket listening on ``port``.

    Looks at the listening sockets of the process's own network namespace
    (/proc/PID/net/tcp{,6}) and checks that one of them is among its open
    file descriptors, so another server on the same port does not count.
    """
    inodes = set()
    for name in ("tcp", "tcp6"):
        data = _read(f"/proc/{pid}/net/{name}")
        if not data:
            continue
        for line in data.splitlines()[1:]:
            f = line.split()
            if len(f) > 9 and f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{f[9]}]")
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            pass
    return False


def _user_name(user) -> str:
    return user.name if isinstance(user, TestUser) else str(user)


_login_lock = threading.Lock()
_counter = itertools.count(1)


class Sshd:
    """A private OpenSSH server (``/usr/sbin/sshd -D``) for tests.

    ``workdir`` receives the host key, ``sshd_config``, the pid file, the log
    (``sshd.log``), client ssh_config files and client output files.  With
    ``port=None`` a free port is picked (and re-picked if the bind races).
    With ``netns`` the server runs as ``ip netns exec NETNS sshd ...`` and
    listens on ``listen_addr`` inside that namespace; pick the namespace end
    of the veth pair (see :func:`make_netns`) to reach it from the host.

    Use as a context manager, or call :meth:`start` / :meth:`stop`.
    ``stop()`` ends the listener only; sessions already logged in keep
    running (sshd puts each connection in its own session) and must be closed
    by their :class:`SshSession`.
    """

    def __init__(self, workdir: Union[str, Path], port: Optional[int] = None,
                 netns: Optional[str] = None, listen_addr: str = "127.0.0.1",
                 use_dns: bool = False, client_bind: Optional[str] = None):
        """use_dns: sshd looks the client's address up (UseDNS yes), so the
        utmp host is whatever reverse DNS says; client_bind: the address
        the clients connect from (ssh -b)."""
        self.use_dns = use_dns
        self.client_bind = client_bind
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._auto_port = port is None
        self.port = port if port is not None else free_port()
        self.netns = netns
        self.listen_addr = listen_addr
        self.host_key = self.workdir / "ssh_host_ed25519_key"
        self.config_path = self.workdir / "sshd_config"
        self.pid_file = self.workdir / "sshd.pid"
        self.log_path = self.workdir / "sshd.log"
        self.proc: Optional[subprocess.Popen] = None
        self._log_start = 0
        self.sessions: List["SshSession"] = []
        # Keys for accounts whose home must not be touched (root): under
        # /run, whose every component is root-owned and not world-writable
        # as StrictModes wants (/tmp would be refused).
        self.extra_keys_dir = Path(f"/run/logoff-test-keys-{os.getpid()}-{next(_counter)}")

    # -- setup -------------------------------------------------------------
    def _write_config(self):
        cfg = f"""\
# written by tests/harness.py
Port {self.port}
ListenAddress {self.listen_addr}
HostKey {self.host_key}
PidFile {self.pid_file}
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AuthorizedKeysFile .ssh/authorized_keys {self.extra_keys_dir}/%u
StrictModes yes
PrintMotd no
PrintLastLog no
UseDNS {"yes" if self.use_dns else "no"}
X11Forwarding no
LogLevel VERBOSE
MaxStartups 50
MaxSessions 50
LoginGraceTime 30
"""
        self.config_path.write_text(cfg)
        os.chmod(self.config_path, 0o644)

    def _prepare(self):
        generate_keypair(self.host_key, comment="logoff-test-hostkey")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        os.chmod("/run/sshd", 0o755)
        self._write_config()
        cp = run([SSHD, "-t", "-f", str(self.config_path)], check=False)
        if cp.returncode != 0:
            raise HarnessError(f"sshd -t -f {self.config_path} failed (rc={cp.returncode}):\n"
                               f"{cp.stdout}{cp.stderr}")

    def authorize_extra_key(self, username: str, pubkey_path: Union[str, Path]) -> Path:
        """Let ``username`` (e.g. root) log in with this key through this
        sshd only, without writing to the account's home."""
        self.extra_keys_dir.mkdir(mode=0o755, exist_ok=True)
        dest = self.extra_keys_dir / username
        dest.write_text(Path(pubkey_path).read_text())
        os.chmod(dest, 0o644)
        return dest

    def argv(self) -> List[str]:
        cmd = [SSHD, "-D", "-f", str(self.config_path), "-E", str(self.log_path)]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        return cmd

    # -- lifecycle ---------------------------------------------------------
    def start(self, timeout: float = 10.0) -> "Sshd":
        """Check the config, start sshd, wait until it accepts connections."""
        if self.running():
            return self
        attempts = 5 if self._auto_port else 1
        for attempt in range(attempts):
            self._prepare()
            self._log_start = len(self.log())
            out = open(self.workdir / "sshd.stdout", "ab")
            try:
                self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                             stdout=out, stderr=subprocess.STDOUT,
                                             start_new_session=True, close_fds=True)
            finally:
                out.close()
            try:
                wait_until(self._ready, timeout, interval=0.05,
                           what=f"sshd on {self.listen_addr}:{self.port}"
                                f"{' in netns ' + self.netns if self.netns else ''} to accept connections")
                return self
            except HarnessError:
                text = self.log()[self._log_start:]
                self.stop()
                if self._auto_port and "Address already in use" in text and attempt + 1 < attempts:
                    self.port = free_port()
                    continue
                raise
            except TimeoutError as e:
                self.stop()
                raise TimeoutError(f"{e}\nsshd log:\n{self.log()[self._log_start:][-3000:]}") from None
        raise AssertionError("unreachable")

    def _ready(self) -> bool:
        rc = self.proc.poll()
        if rc is not None:
            stdout = _read(self.workdir / "sshd.stdout") or ""
            raise HarnessError(f"sshd exited with status {rc} during startup\n"
                               f"argv: {' '.join(self.argv())}\nlog:\n"
                               f"{self.log()[self._log_start:][-3000:]}\n"
                               f"stdout/stderr:\n{stdout[-2000:]}")
        # sshd itself (not "ip netns exec", not another server on the same
        # port) must hold the listening socket ...
        if proc_comm(self.proc.pid) != "sshd" or not _listening(self.proc.pid, self.port):
            return False
        if self.netns and self.listen_addr.startswith("127."):
            return True          # namespace loopback: not reachable from the host
        # ... and it must accept connections from here.
        try:
            with socket.create_connection((self.listen_addr, self.port), timeout=1):
                return True
        except OSError:
            return False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> Optional[int]:
        """PID of the listening sshd (also with netns: ``ip netns exec`` execs it)."""
        return self.proc.pid if self.proc else None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM sshd's process group, SIGKILL it if needed, reap it."""
        p = self.proc
        if p is None:
            return
        if p.returncode is None:        # not reaped yet, so the pgid can't be reused
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout)
                except subprocess.TimeoutExpired:
                    raise TimeoutError(f"sshd pid {p.pid} did not die after SIGKILL") from None
        shutil.rmtree(self.extra_keys_dir, ignore_errors=True)

    def __enter__(self) -> "Sshd":
        return self.start()

    def __exit__(self, *exc):
        for s in list(self.sessions):
            try:
                s.cleanup()
            except Exception:
                pass
        self.stop()

    # -- logs --------------------------------------------------------------
    def log(self) -> str:
        """The whole sshd log (``-E`` file) as text ('' if none yet)."""
        return _read(self.log_path) or ""

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-n:])

    # -- client side -------------------------------------------------------
    def client_cmd(self, user, key: Union[str, Path], *remote_cmd: str,
                   tty: bool = True) -> List[str]:
        """argv of an OpenSSH client logging in as ``user`` with private key ``key``."""
        cmd = [SSH]
        if tty:
            cmd.append("-tt")
        if self.client_bind:
            cmd += ["-b", self.client_bind]
        cmd += ["-i", str(key), "-p", str(self.port),
                "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=10",
                "-o", "IdentitiesOnly=yes",
                f"{_user_name(user)}@{self.listen_addr}"]
        if remote_cmd:
            cmd += ["--", *remote_cmd]
        return cmd

    def ssh_config_file(self, user, key: Union[str, Path], alias: str = "testhost",
                        path: Optional[Union[str, Path]] = None) -> Path:
        """Write an ssh_config with ``Host ALIAS`` for this server, user and key.

        ``ssh -F PATH ALIAS`` then logs in like :meth:`client_cmd`.  Default
        path: WORKDIR/ssh_config-USER-ALIAS.  Returns the path.
        """
        name = _user_name(user)
        path = Path(path) if path else self.workdir / f"ssh_config-{name}-{alias}"
        path.write_text(f"""\
Host {alias}
    HostName {self.listen_addr}
    Port {self.port}
    User {name}
    IdentityFile {key}
    IdentitiesOnly yes
    BatchMode yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
    ConnectTimeout 10
""")
        os.chmod(path, 0o644)
        return path

    def login(self, user, key: Optional[Union[str, Path]] = None,
              command: Optional[str] = "sleep 100000", timeout: float = 15.0) -> "SshSession":
        """Log ``user`` in over ssh with a pty and return the running :class:`SshSession`.

        ``key`` defaults to ``user.ssh_key``.  ``command=None`` gives an
        interactive login shell.  Waits (``timeout``) until the session's
        utmp entry exists, its audit session id is set and a process of the
        user (the shell/command) runs in it.  The command must keep running:
        a command that ends at once ends the session too.
        """
        if key is None:
            if not isinstance(user, TestUser):
                raise ValueError("key is required when user is not a TestUser")
            key = user.ssh_key
        return SshSession._start(self, user, key, command, timeout)


def stop_client(c: subprocess.Popen, grace: float = 5.0) -> None:
    """End a client process of this host: SIGHUP, then SIGTERM, then SIGKILL,
    each given ``grace`` seconds; its stdin pipe is closed.  Raises
    TimeoutError if it survives even SIGKILL."""
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
        if c.poll() is not None:
            break
        try:
            c.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            c.wait(grace)
        except subprocess.TimeoutExpired:
            continue
    if c.stdin and not c.stdin.closed:
        try:
            c.stdin.close()
        except OSError:
            pass
    if c.poll() is None:
        try:
            c.wait(grace)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"client {c.pid} survived SIGKILL") from None


class SshSession:
    """One ssh login (client process + the server-side session it created).

    Attributes:
      ``user`` (TestUser or name as given), ``username``, ``sshd``,
      ``monitor_pid`` (ut_pid of the utmp entry: sshd's ``[priv]`` monitor),
      ``sid`` (its audit session id), ``line`` (``pts/N``),
      ``utmp`` (the UtmpRecord found at login), ``client`` (the ssh Popen),
      ``output_path`` (client stdout+stderr), ``command``.
    """

    def __init__(self):
        raise TypeError("use Sshd.login()")

    @classmethod
    def _start(cls, sshd: Sshd, user, key, command, timeout) -> "SshSession":
        self = object.__new__(cls)
        self.sshd = sshd
        self.user = user
        self.username = _user_name(user)
        self.command = command
        self.monitor_pid = None
        self.sid = None
        self.line = None
        self.utmp = None
        n = next(_counter)
        self.output_path = sshd.workdir / f"ssh-client-{n}-{self.username}.out"
        argv = sshd.client_cmd(user, key, *([command] if command else []), tty=True)
        self.argv = argv
        try:
            uid = pwd.getpwnam(self.username).pw_uid
        except KeyError:
            raise HarnessError(f"no such user {self.username!r}") from None
        env = dict(os.environ)
        env.setdefault("TERM", "xterm")

        with _login_lock:   # one login at a time, so "new sshd pid" is unambiguous
            before = {p for p in _all_pids() if proc_comm(p) == "sshd"}
            before_entries = {(r.pid, r.line) for r in utmp_user_entries(self.username)}
            out = open(self.output_path, "wb")
            try:
                # stdin: a pipe we hold open; with -tt the client stays connected.
                self.client = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out,
                                               stderr=subprocess.STDOUT, env=env,
                                               start_new_session=True, close_fds=True)
            finally:
                out.close()
            try:
                wait_until(lambda: self._find(before, before_entries, uid), timeout,
                           interval=0.05, what=f"ssh login of {self.username} on "
                                               f"{sshd.listen_addr}:{sshd.port} to complete")
            except Exception as e:
                self._abort()
                raise type(e)(f"{e}\nstate: monitor_pid={self.monitor_pid} sid={self.sid} "
                              f"line={self.line}\nclient argv: {' '.join(argv)}\n"
                              f"client output:\n{self.output()[-2000:]}\n"
                              f"sshd log tail:\n{sshd.log_tail()}") from None
        sshd.sessions.append(self)
        return self

    def _find(self, before, before_entries, uid) -> bool:
        if self.client.poll() is not None:
            raise HarnessError(f"ssh client exited with status {self.client.returncode} "
                               f"before the login completed")
        if self.monitor_pid is None:
            for r in utmp_user_entries(self.username):
                if (r.pid, r.line) in before_entries or r.pid in before:
                    continue
                if proc_comm(r.pid) != "sshd" or not proc_alive(r.pid):
                    continue
                if self.sshd.pid is not None and proc_ppid(r.pid) != self.sshd.pid:
                    continue          # some other sshd's session
                self.monitor_pid, self.line, self.utmp = r.pid, r.line, r
                break
            else:
                return False
        if self.sid is None:
            sid = proc_sessionid(self.monitor_pid)
            if sid is None or sid == UNSET_SESSIONID:
                if not proc_alive(self.monitor_pid):
                    raise HarnessError(f"sshd monitor {self.monitor_pid} died during login")
                return False
            self.sid = sid
        # The user's shell/command runs once a non-sshd process of the user is in it.
        for pid in session_pids(self.sid):
            if proc_comm(pid) != "sshd" and proc_uid(pid) == uid:
                return True
        return False

    def _abort(self):
        self._stop_client(grace=2.0)
        if self.sid is not None and self.sid != proc_sessionid("self"):
            try:
                kill_session(self.sid)
            except Exception:
                pass
        if self.monitor_pid is not None:
            self._fix_utmp()

    # -- inspection ----------------------------------------------------------
    def __repr__(self):
        return (f"<SshSession {self.username} {self.line} monitor={self.monitor_pid} "
                f"sid={self.sid} client={self.client.pid}>")

    def pids(self) -> List[int]:
        """Every live PID whose /proc/PID/sessionid equals this session's ``sid``."""
        return session_pids(self.sid)

    def alive(self) -> bool:
        """True while the ssh client process still runs."""
        return self.client.poll() is None

    def in_utmp(self) -> bool:
        """True while utmp holds a USER_PROCESS entry for this session."""
        return any(r.pid == self.monitor_pid and r.line == self.line
                   for r in utmp_user_entries(self.username))

    def output(self) -> str:
        """What the ssh client printed so far (stdout and stderr)."""
        return _read(self.output_path) or ""

    def send(self, data: Union[str, bytes]) -> None:
        """Write to the client's stdin (typed into the remote pty)."""
        if isinstance(data, str):
            data = data.encode()
        self.client.stdin.write(data)
        self.client.stdin.flush()

    def wait_client_exit(self, timeout: float = 15.0) -> int:
        """Wait for the ssh client to exit; return its exit status (255 = connection lost)."""
        try:
            return self.client.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"ssh client {self.client.pid} for {self.username} {self.line} "
                               f"still running after {timeout:g}s") from None

    def wait_gone(self, timeout: float = 10.0) -> None:
        """Wait until no process of the session is left and its utmp entry is gone."""
        try:
            wait_until(lambda: not self.pids() and not self.in_utmp(), timeout,
                       what=f"session sid={self.sid} ({self.username} {self.line}) to end")
        except TimeoutError as e:
            raise TimeoutError(f"{e}; in utmp: {self.in_utmp()}; processes left:\n"
                               f"{describe_pids(self.pids())}") from None

    # -- ending --------------------------------------------------------------
    def _stop_client(self, grace: float = 5.0) -> None:
        stop_client(self.client, grace)

    def close(self, timeout: float = 10.0, check: bool = True) -> bool:
        """End the client (SIGHUP, then SIGTERM/SIGKILL if needed) and wait
        (``timeout``) for the session's processes and utmp entry to go away.

        Returns True if everything went away.  If not: raises
        :class:`TimeoutError` with ``check``, else returns False (processes
        such as a ``setsid nohup`` child may legitimately survive a hangup).
        """
        self._stop_client()
        try:
            self.wait_gone(timeout)
            return True
        except TimeoutError:
            if check:
                raise
            return False

    def cleanup(self, timeout: float = 10.0) -> None:
        """Best-effort teardown that never leaks: close, then SIGKILL whatever
        is left of the session and mark a stale utmp entry dead (with a wtmp
        logout record).  Safe to call repeatedly."""
        try:
            if self.close(timeout=timeout, check=False):
                return
        except TimeoutError:
            pass
        if self.sid is not None and self.sid != proc_sessionid("self"):
            kill_session(self.sid)
        self._fix_utmp()

    def _fix_utmp(self):
        if self.monitor_pid is None:
            return
        try:
            wait_until(lambda: not proc_alive(self.monitor_pid), 5,
                       what=f"sshd monitor {self.monitor_pid} to die")
        except TimeoutError:
            return
        if self.in_utmp():
            utmp_logout(self.monitor_pid)

    def __enter__(self) -> "SshSession":
        return self

    def __exit__(self, *exc):
        self.cleanup()

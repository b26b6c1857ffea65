"""Real logind hosts for ``logoff``'s tests: a booted systemd container and an elogind namespace.

Plain library code (standard library only, no pytest) run as root by Debian's
``/usr/bin/python3``; fixtures live in ``tests/logind/conftest.py``.  It does
what ``/work/shared/labs/logind-lab.sh`` does by hand:

* :class:`SystemdHost`: a Debian 12 (bookworm) root made with debootstrap
  (systemd 252, systemd-logind, dbus, Debian's PAM stack with pam_loginuid and
  pam_systemd, sshd), booted with ``systemd-nspawn --boot --register=no
  --keep-unit --private-network`` from a cgroup of its own.
* :class:`ElogindHost`: a second bookworm root with elogind 246 and
  libpam-elogind, "booted" by hand (dbus-daemon, elogind, sshd) as PID 1 of
  private pid/mount/net/uts/ipc namespaces made by ``unshare``.
* :class:`XfceHost`: a :class:`SystemdHost` whose root also has xrdp, xorgxrdp,
  Xfce 4.18 and a FreeRDP 2 client (installed with apt-get in a chroot), for
  real Xfce desktops logged in over RDP; tests/xfce.py runs them.

They all give the same small API: :meth:`run` (a command inside, as root, in no
session), :meth:`ssh` (a one-shot ``ssh user@127.0.0.1 cmd``), :meth:`login`
(a long ``ssh -tt`` login in the background, a :class:`RemoteLogin`),
:meth:`loginctl_sessions`, :meth:`session_prop`, :meth:`pids_of_user`,
:meth:`install_logoff`, :meth:`reset_users`, and ``with host: ...``.

Facts about this machine and these hosts (Debian 12 host, kernel 6.x, PID 1 is
not systemd, cgroup v2 at /sys/fs/cgroup/unified in a hybrid layout; measured
on 2 cores):

* Roots are cached under ``/var/tmp/logoff-hosts/bookworm-<name>`` with a stamp
  file ``bookworm-<name>.stamp`` holding a hash of :data:`RECIPE_VERSION` and
  the recipe (packages + configuration); a root whose stamp is missing or
  different is rebuilt (into ``.new``, renamed when complete).  The .debs are
  kept in ``/var/tmp/logoff-hosts/cache`` (tests/trixie-root.sh shares that
  folder and that cache).  Measured, first build with this mirror: 43 s for
  the systemd root (debootstrap), 22 s for the elogind root (debootstrap +
  apt-get in a chroot), about 330 MB each; reuse: the stamp check only.  Per-run
  state (authorized_keys, lingering flags, /tmp) is reset at every start and
  what :meth:`install_logoff` put there is removed at :meth:`stop`.
* PID 1 here is not systemd, so nspawn cannot ask for a scope: it must run
  with ``--register=no --keep-unit`` from a cgroup of its own, in both the
  unified and the name=systemd hierarchies (``logoff-host-<name>``); it
  splits that cgroup into ``payload/`` and ``supervisor/``.  Those cgroups are
  removed at :meth:`stop` (deepest first; refused while anything lives there).
* Boot to ``systemctl is-system-running`` = running: 0.3 s, sshd listening
  0.3 s later.  SIGTERM to nspawn is a clean shutdown of the container:
  0.2 s.  The elogind namespace starts in 0.35 s and stops in 0.4 s.  A whole
  run of tests/logind (both hosts, 44 tests) takes about 2 min, most of it
  the fork-storm and grace-period tests.
* ``nsenter --target LEADER --mount --uts --ipc --net --pid [--cgroup] --root
  --wd`` runs a command inside as root and in *no* session: the process stays
  in the caller's cgroup, which the container sees as outside its cgroup
  namespace, and it has no audit session.  Use it for "root, not logged in".
* The ssh client runs on this host, in the host's network namespace only
  (``nsenter --net``), with a key made once under /var/tmp/logoff-hosts.
* An ssh login's logind ID is its audit session ID (``/proc/self/sessionid``);
  ``user@UID.service`` (systemd --user) has an audit session of its own (pam_loginuid
  in Debian's ``systemd-user`` PAM file) but is not a session; sessions opened
  with no audit session (``su`` from ``nsenter``, ``systemd-run su``) get IDs
  like ``c1``.  ``XDG_SESSION_ID`` in a login's environment is its logind ID.
* ``loginctl list-sessions -o json`` works with systemd 252 and with elogind
  246 too; :meth:`loginctl_sessions` still falls back to the plain table.
* elogind keeps its own cgroup v1 hierarchy (name=elogind), which outlives
  the namespace while it has child cgroups: they are removed before the
  namespace is stopped (see :meth:`ElogindHost.stop`).
* Traps: ``/proc/PID/sessionid`` has no trailing newline (``cat`` it inside
  ``$(...)``); once a login's client is gone its ``Leader`` is 0, so a login's
  logind ID is looked up by the session's ``Audit`` property, right after READY;
  elogind forgets a session as soon as its sshd side ends, leftover processes
  or not (no ``closing`` state, unlike systemd); ``su -l`` sessions have
  Service ``su-l``; in the container ``/dev/console`` is ``pts/0`` (nspawn's
  console), so ssh logins there start at ``pts/1`` while the elogind host
  starts at ``pts/0``; a logind session with TTY ``console`` (seat0) comes from
  ``systemd-run -p PAMName=login -p User=bob -p TTYPath=/dev/console -p
  StandardInput=tty ...``; the users have the same uids in both hosts and on
  this machine's kernel, so RLIMIT_NPROC (``ulimit -u``) counts their processes
  in every host together; a root ssh login leaves ``user@0.service`` (with an
  audit session) for 10 s (UserStopDelaySec), so readiness is checked with
  ``ss``, not with a login.
* A stale container or namespace left by a killed test run is found by the
  PID recorded in ``<name>.pid`` (checked against its command line) and
  stopped before a new start.

Every wait is bounded by a timeout and raises :class:`TimeoutError` (or
:class:`HostError`) saying what was being waited for.

Typical use::

    with SystemdHost() as h:           # build or reuse the root, boot it
        exe = h.install_logoff("/work/main/build-ci")
        s = h.login("alice")           # READY sid=... came back
        print(h.loginctl_sessions(), s.logind_id)
        h.run([exe, "--list"])
        s.close()
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import harness as HR  # noqa: E402  (tests/, on the path of every user of this module)

__all__ = ["HostError", "Host", "SystemdHost", "ElogindHost", "TrixieHost", "XfceHost", "RemoteLogin", "BASE",
           "CACHE", "RECIPE_VERSION", "host_key", "wait_until", "mirror"]

BASE = Path("/var/tmp/logoff-hosts")
CACHE = BASE / "cache"
RECIPE_VERSION = "3"
SUITE = "bookworm"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
USERS = {"alice": 1000, "bob": 1001}
CGROUP_ROOTS = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd")


class HostError(RuntimeError):
    """A host operation failed (build, boot, command inside, ...)."""


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

# Poll until truthy, bounded, the TimeoutError naming what was awaited.
wait_until = HR.wait_until


def _run(argv: Sequence[str], check: bool = True, timeout: float = 60, input: Optional[str] = None,
         **kw) -> subprocess.CompletedProcess:
    argv = [str(a) for a in argv]
    try:
        cp = subprocess.run(argv, stdin=None if input is not None else subprocess.DEVNULL, input=input,
                            capture_output=True, text=True, errors="replace", timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        raise TimeoutError(f"command timed out after {timeout:g}s: {shlex.join(argv)}") from e
    if check and cp.returncode != 0:
        raise HostError(f"command failed (rc={cp.returncode}): {shlex.join(argv)}\n"
                        f"stdout: {cp.stdout.strip()[-3000:]}\nstderr: {cp.stderr.strip()[-3000:]}")
    return cp


def _alive(pid: Optional[int]) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(")") + 2:][:1] not in ("Z", "X", "")


def _children(pid: int) -> List[int]:
    out: List[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _mounts_under(path: Path) -> List[str]:
    """Mount points of this mount namespace at or below ``path``."""
    p = str(path).rstrip("/")
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            target = line.split()[4].replace("\\040", " ")
            if target == p or target.startswith(p + "/"):
                out.append(target)
    return out


def _rmtree_root(path: Path) -> None:
    """Delete a root directory; refuse if anything is mounted in it."""
    if not path.exists():
        return
    m = _mounts_under(path)
    if m:
        raise HostError(f"refusing to delete {path}: mounted there: {m}")
    shutil.rmtree(path)


def mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 file first, then sources.list)."""
    for f, rx in (("/etc/apt/sources.list.d/debian.sources", r"^URIs:\s*(\S+)"),
                  ("/etc/apt/sources.list", r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)")):
        try:
            m = re.search(rx, Path(f).read_text(), re.M)
        except OSError:
            continue
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


class _FileLock:
    """An exclusive flock on a file, waited for (bounded)."""

    def __init__(self, path: Path, timeout: float, what: str):
        self.path, self.timeout, self.what, self.fd = path, timeout, what, None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

        def take():
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
        try:
            wait_until(take, self.timeout, interval=0.5, what=f"{self.what} (lock {self.path})")
        except TimeoutError:
            os.close(self.fd)
            self.fd = None
            raise
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)        # releases the lock
            self.fd = None


def host_key() -> Path:
    """The private half of the ed25519 key every cached root accepts (made once)."""
    key = BASE / "id_ed25519"
    if not (key.exists() and Path(str(key) + ".pub").exists()):
        BASE.mkdir(parents=True, exist_ok=True)
        for p in (key, Path(str(key) + ".pub")):
            if p.exists():
                p.unlink()
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "logoff-hosts", "-f", key])
    return key


# ---------------------------------------------------------------------------
# A login kept open in the background
# ---------------------------------------------------------------------------

_READY_RE = re.compile(r"READY sid=(\d+) xdg=(\S*) tty=(\S*)")


class RemoteLogin:
    """A long ``ssh -tt user@127.0.0.1`` login to a host, kept open in the background.

    Made by :meth:`Host.login`.  The remote command first prints
    ``READY sid=<audit session> xdg=<XDG_SESSION_ID> tty=<tty>`` and then runs
    the given command (default ``exec bash -i``).  The client's stdin is a pipe
    held open here (as the lab's ``sleep > fifo``): :meth:`send` types into the
    remote pty.

    Attributes: ``user``, ``sid`` (audit session id, int), ``xdg_id``
    (``XDG_SESSION_ID`` as the remote side saw it, may be ''), ``tty``
    (``/dev/pts/N`` or ``not a tty``), ``client`` (the Popen of the client on this host).
    """

    def __init__(self, host: "Host", user: str, command: Optional[str], timeout: float):
        self.host, self.user = host, user
        self.command = command or "exec bash -i"
        n = next(host._counter)
        self.output_path = host.rundir / f"login-{n}-{user}.out"
        ready = ('echo "READY sid=$(cat /proc/self/sessionid) xdg=${XDG_SESSION_ID:-} '
                 'tty=$(tty | tr " " _)"')
        self.remote_command = f"{ready}; {self.command}"
        self.argv = host._ssh_argv(user, self.remote_command, tty=True)
        out = open(self.output_path, "wb")
        try:
            self.client = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=out,
                                           stderr=subprocess.STDOUT, start_new_session=True,
                                           env=dict(os.environ, TERM="xterm"), close_fds=True)
        finally:
            out.close()
        host.logins.append(self)
        self.sid: Optional[int] = None
        self.xdg_id = ""
        self.tty = ""
        self._logind_id: Optional[str] = None
        try:
            m = wait_until(self._ready, timeout, what=f"ssh login of {user} to {host.name} to print READY")
        except Exception as e:
            self.close()
            raise type(e)(f"{e}\nclient output:\n{self.output()[-2000:]}") from None
        self.sid, self.xdg_id, self.tty = int(m.group(1)), m.group(2), m.group(3).replace("_", " ")
        try:
            self.logind_id
        except Exception:
            self.close()
            raise

    def _ready(self):
        m = _READY_RE.search(self.output())
        if m:
            return m
        if self.client.poll() is not None:
            raise HostError(f"ssh client exited with status {self.client.returncode} before READY")
        return None

    def __repr__(self):
        return f"<RemoteLogin {self.user}@{self.host.name} sid={self.sid} tty={self.tty}>"

    @property
    def logind_id(self) -> str:
        """The session's logind ID, looked up with loginctl (the session whose ``Audit``
        property is this login's audit session; ``XDG_SESSION_ID`` cross-checked).
        Looked up once, right after READY, so it stays known after the login ends."""
        if self._logind_id is None:
            found = None
            sessions = self.host.loginctl_sessions()
            for s in sessions:
                if self.host.session_prop(s["session"], "Audit") == str(self.sid):
                    found = s["session"]
                    break
            # systemd 257 (Debian 13) records no audit session for ssh logins
            if found is None and self.xdg_id in [s["session"] for s in sessions]:
                found = self.xdg_id
            if found is None:
                raise HostError(f"no logind session of {self} in {self.host.loginctl_sessions()}")
            if self.xdg_id and self.xdg_id != found:
                raise HostError(f"loginctl says {found} but XDG_SESSION_ID={self.xdg_id} for {self}")
            self._logind_id = found
        return self._logind_id

    def output(self) -> str:
        """Everything the client printed so far (stdout and stderr, pty-mangled)."""
        try:
            return self.output_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def client_alive(self) -> bool:
        return self.client.poll() is None

    def wait_client_exit(self, timeout: float = 15.0) -> int:
        """Wait for the ssh client to exit; its status (255: connection lost)."""
        try:
            return self.client.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"ssh client {self.client.pid} of {self} still running after "
                               f"{timeout:g}s; output tail:\n{self.output()[-1000:]}") from None

    def send(self, line: str) -> None:
        """Type a line (newline added) into the remote pty."""
        self.client.stdin.write((line + "\n").encode())
        self.client.stdin.flush()

    def wait_output(self, pattern: str, timeout: float = 15.0) -> "re.Match":
        """Wait until the output matches the regex ``pattern``; the match."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.output()), timeout,
                          what=f"{pattern!r} in the output of {self}")

    def close(self, grace: float = 3.0) -> None:
        """End the client on this host (SIGHUP, SIGTERM, SIGKILL; by PID).  The remote
        side may leave processes behind (nohup, ignored signals): see Host.reset_users."""
        HR.stop_client(self.client, grace)
        if self in self.host.logins:
            self.host.logins.remove(self)


# ---------------------------------------------------------------------------
# Hosts
# ---------------------------------------------------------------------------

class Host:
    """What SystemdHost and ElogindHost share.  Use as a context manager or
    call :meth:`start` / :meth:`stop`."""

    name = "?"
    suite = SUITE
    port = 0
    hostname = "?"
    nsenter_ns = ("--mount", "--uts", "--ipc", "--net", "--pid")

    def __init__(self, base: Path = BASE):
        self.base = Path(base)
        self.root = self.base / f"{self.suite}-{self.name}"
        self.stamp = self.base / f"{self.suite}-{self.name}.stamp"
        self.rundir = self.base / f"{self.suite}-{self.name}.run"
        self.pidfile = self.base / f"{self.suite}-{self.name}.pid"
        self.leader: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self.logins: List[RemoteLogin] = []
        self.timings: Dict[str, float] = {}
        self.built = False           # True if this object built the root (not reused)
        self.installed: List[Path] = []
        self._counter = iter(range(1, 1 << 30))
        self._run_lock: Optional[_FileLock] = None
        self._lock = threading.Lock()

    # -- recipe, build, cache -------------------------------------------------
    def recipe(self) -> str:
        """Text that decides whether the cached root is still good."""
        raise NotImplementedError

    def recipe_hash(self) -> str:
        return hashlib.sha256(f"{RECIPE_VERSION}\n{self.recipe()}".encode()).hexdigest()[:16]

    def cached(self) -> bool:
        """True if the root exists, finished building, and was built from this recipe."""
        try:
            stamp = dict(line.split("=", 1) for line in self.stamp.read_text().split())
        except (OSError, ValueError):
            return False
        return (stamp.get("recipe") == self.recipe_hash() and stamp.get("complete") == "yes"
                and all((self.root / p).exists() for p in self.must_exist()))

    def must_exist(self) -> List[str]:
        return ["usr/sbin/sshd", "etc/ssh/ssh_host_ed25519_key", "usr/lib/x86_64-linux-gnu/libasan.so.8",
                "home/alice", "home/bob"]

    def ensure_root(self, timeout: float = 1800) -> None:
        """Build the root unless a complete one from this recipe is cached."""
        with _FileLock(self.base / f"{self.suite}-{self.name}.build.lock", timeout, f"another build of {self.root}"):
            if self.cached():
                self.timings["build"] = 0.0
                return
            t0 = time.monotonic()
            CACHE.mkdir(parents=True, exist_ok=True)
            new = self.base / f"{self.suite}-{self.name}.new"
            _rmtree_root(new)
            self.stamp.unlink(missing_ok=True)
            self.build(new)
            _rmtree_root(self.root)
            new.rename(self.root)
            took = time.monotonic() - t0
            self.stamp.write_text(f"recipe={self.recipe_hash()}\ncomplete=yes\n"
                                  f"built={time.strftime('%Y-%m-%dT%H:%M:%S')}\nseconds={took:.0f}\n")
            self.timings["build"] = took
            self.built = True

    def build(self, root: Path) -> None:
        raise NotImplementedError

    def _log(self, name: str) -> Path:
        self.rundir.mkdir(parents=True, exist_ok=True)
        return self.rundir / name

    def _debootstrap(self, root: Path, include: Sequence[str]) -> None:
        log = self._log("debootstrap.log")
        with open(log, "w") as f:
            try:
                cp = subprocess.run(["debootstrap", "--variant=minbase", f"--cache-dir={CACHE}",
                                     "--include=" + ",".join(include), self.suite, str(root), mirror()],
                                    stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, timeout=1500)
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"debootstrap of {root} still running after 1500 s; see {log}") from None
        if cp.returncode != 0:
            raise HostError(f"debootstrap of {root} failed (rc={cp.returncode}):\n"
                            f"{log.read_text(errors='replace')[-3000:]}")

    def _chroot_apt_install(self, root: Path, packages: Sequence[str], logname: str,
                            timeout: float = 1500) -> None:
        """``apt-get install --no-install-recommends`` in a chroot of ``root``, run from this
        host's side (a booted container has loopback only), in private pid and mount
        namespaces (no daemon a postinst starts outlives it), the .debs cached in
        ``CACHE/apt`` (bind-mounted on the root's /var/cache/apt/archives)."""
        apt_cache = CACHE / "apt"
        (apt_cache / "partial").mkdir(parents=True, exist_ok=True)
        log = self._log(logname)
        script = (f"mount --bind {apt_cache} {root}/var/cache/apt/archives && "
                  f"exec chroot {root} /usr/bin/env -i PATH={PATH} DEBIAN_FRONTEND=noninteractive "
                  f"apt-get install -y -q --no-install-recommends {' '.join(packages)}")
        with open(log, "w") as f:
            try:
                cp = subprocess.run(["unshare", "--fork", "--pid", "--mount", f"--mount-proc={root}/proc",
                                     "sh", "-c", script], stdin=subprocess.DEVNULL, stdout=f,
                                    stderr=subprocess.STDOUT, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"apt-get install in {root} still running after {timeout:g} s; "
                                   f"see {log}") from None
        if cp.returncode != 0:
            raise HostError(f"apt-get install in {root} failed:\n{log.read_text(errors='replace')[-3000:]}")

    def _configure_common(self, root: Path, sshd_extra: str = "") -> None:
        (root / "etc/hostname").write_text(self.hostname + "\n")
        (root / "etc/hosts").write_text(f"127.0.0.1 localhost {self.hostname}\n::1 localhost\n")
        (root / "etc/default/locale").write_text("LANG=C.UTF-8\n")
        (root / "etc/ssh/sshd_config.d/logoff-tests.conf").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nUsePAM yes\n"
            f"PermitRootLogin prohibit-password\nUseDNS no\nMaxStartups 100\n{sshd_extra}")
        for user, uid in USERS.items():
            if _run(["chroot", root, "id", user], check=False).returncode != 0:
                _run(["chroot", root, "useradd", "-m", "-u", str(uid), "-U", "-s", "/bin/bash", user])
        # The host key, authorized_keys and the rest of the per-run state: _refresh().

    # -- per-run state ------------------------------------------------------
    def _refresh(self) -> None:
        """Reset what a previous run may have left in the cached root (before boot)."""
        pub = Path(str(host_key()) + ".pub").read_text()
        for user, uid in list(USERS.items()) + [("root", 0)]:
            home = self.root / ("root" if user == "root" else f"home/{user}")
            d = home / ".ssh"
            if d.is_symlink() or (d / "authorized_keys").is_symlink():
                raise HostError(f"{d} or its authorized_keys is a symlink; refusing")
            d.mkdir(mode=0o700, exist_ok=True)
            (d / "authorized_keys").write_text(pub)
            for p in (d, d / "authorized_keys"):
                os.chown(p, uid, uid)
            os.chmod(d, 0o700)
            os.chmod(d / "authorized_keys", 0o600)
        linger = self.root / "var/lib/systemd/linger"
        if linger.is_dir():
            for f in linger.iterdir():
                f.unlink()
        for d in ("tmp", "var/tmp"):
            p = self.root / d
            if p.is_dir() and not _mounts_under(p):
                for f in p.iterdir():
                    if f.is_dir() and not f.is_symlink():
                        shutil.rmtree(f, ignore_errors=True)
                    else:
                        f.unlink(missing_ok=True)

    # -- starting and stopping ---------------------------------------------------
    def start(self, boot_timeout: float = 120) -> "Host":
        """Build or reuse the root, then boot it; waits until sshd answers."""
        if os.geteuid() != 0:
            raise HostError("the logind hosts need root")
        self.ensure_root()
        self._run_lock = _FileLock(self.base / f"{self.suite}-{self.name}.run.lock", 60,
                                   f"another booted {self.name} host to stop")
        self._run_lock.__enter__()
        try:
            self._stop_stale()
            self._refresh()
            self.rundir.mkdir(parents=True, exist_ok=True)
            t0 = time.monotonic()
            self._boot(boot_timeout)
            self._wait_ssh(max(10.0, boot_timeout - (time.monotonic() - t0)))
            self.timings["boot"] = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def _boot(self, timeout: float) -> None:
        raise NotImplementedError

    def _wait_ssh(self, timeout: float) -> None:
        last = [None]

        # A listening socket, not a login: a root login would leave user@0.service (and its
        # audit session) running for UserStopDelaySec=10 s.
        def ok():
            cp = self.run(["ss", "-Hltn", f"sport = :{self.port}"], check=False, timeout=10)
            last[0] = cp
            return cp.returncode == 0 and "LISTEN" in cp.stdout
        try:
            wait_until(ok, timeout, interval=0.1, what=f"sshd of {self.name} to listen on 127.0.0.1:{self.port}")
        except TimeoutError as e:
            cp = last[0]
            raise TimeoutError(f"{e}; last ss: rc={cp and cp.returncode} {cp and cp.stdout.strip()} "
                               f"{cp and cp.stderr.strip()}") from None

    def _stop_stale(self) -> None:
        """Stop a container/namespace left by a killed earlier run (PID from the pid file)."""
        try:
            pid = int(self.pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        if _alive(pid) and str(self.root) in _cmdline(pid) + " " + " ".join(
                _cmdline(c) for c in _children(pid)):
            self.proc = None
            self._terminate_pid(pid, 60)
        self.pidfile.unlink(missing_ok=True)

    def _terminate_pid(self, pid: int, timeout: float) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            wait_until(lambda: not _alive(pid), timeout, interval=0.1, what=f"{self.name} pid {pid} to exit")
        except TimeoutError:
            for p in [pid] + _children(pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wait_until(lambda: not _alive(pid), 10, what=f"{self.name} pid {pid} to die after SIGKILL")

    def stop(self) -> None:
        """Close the logins, stop the host, check nothing is left.  Safe to call twice."""
        t0 = time.monotonic()
        errors = []
        for login in list(self.logins):
            try:
                login.close()
            except Exception as e:          # keep going: the host must stop anyway
                errors.append(f"closing {login}: {e}")
        try:
            self._halt()
        except Exception as e:
            errors.append(f"stopping {self.name}: {e}")
        self.leader = None
        self.pidfile.unlink(missing_ok=True)
        for p in self.installed:
            p.unlink(missing_ok=True)
        self.installed.clear()
        left = _mounts_under(self.root)
        if left:
            errors.append(f"mounts left under {self.root}: {left}")
        if self._run_lock is not None:
            self._run_lock.__exit__(None, None, None)
            self._run_lock = None
        self.timings["stop"] = time.monotonic() - t0
        if errors:
            raise HostError("; ".join(errors))

    def _halt(self) -> None:
        raise NotImplementedError

    def _started_pid(self) -> Optional[int]:
        """The PID of what start() launched: ours, or the one a killed run recorded."""
        if self.proc is not None:
            return self.proc.pid
        try:
            return int(self.pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        return self.leader is not None and _alive(self.leader)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- inside -----------------------------------------------------------------
    def _require(self):
        if not self.running():
            raise HostError(f"{self.name} host is not running")
        return self.leader

    def run(self, argv: Sequence[str], check: bool = True, timeout: float = 60,
            env: Optional[Dict[str, str]] = None, input: Optional[str] = None) -> subprocess.CompletedProcess:
        """Run ``argv`` inside (all its namespaces, its root) as root, in no session,
        with ``env -i`` (PATH, LANG=C.UTF-8, TERM, ASAN/UBSAN options of this
        process, then ``env``).  Raises HostError on non-zero exit with ``check``."""
        return _run(self.inside_argv(argv, env), check=check, timeout=timeout, input=input)

    def inside_argv(self, argv: Sequence[str], env: Optional[Dict[str, str]] = None) -> List[str]:
        """The ``nsenter ... env -i ...`` command line :meth:`run` uses, for a caller that
        keeps the process running (Popen).  nsenter forks (``--pid``), its child (the
        command) runs in a process group of its own, and nsenter passes no signal on: end
        the command by its pid (nsenter's child, :func:`_children`); nsenter then exits
        with its status (a signal's as -N)."""
        leader = self._require()
        e = {"PATH": PATH, "LANG": "C.UTF-8", "TERM": "xterm"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                e[k] = os.environ[k]
        e.update(env or {})
        return ["nsenter", "--target", str(leader), *self.nsenter_ns, "--root", "--wd", "--",
                "/usr/bin/env", "-i", *[f"{k}={v}" for k, v in e.items()], *[str(a) for a in argv]]

    def sh(self, script: str, **kw) -> subprocess.CompletedProcess:
        """``run(["sh", "-c", script])``."""
        return self.run(["sh", "-c", script], **kw)

    def _ssh_argv(self, user: str, command: Optional[str], tty: bool = False) -> List[str]:
        leader = self._require()
        argv = ["nsenter", "--target", str(leader), "--net", "--", "ssh", "-i", str(host_key()),
                "-p", str(self.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                "-o", "ControlMaster=no", "-o", "ControlPath=none", "-F", "/dev/null"]
        if tty:
            argv.append("-tt")
        argv.append(f"{user}@127.0.0.1")
        if command is not None:
            argv.append(command)
        return argv

    def ssh(self, user: str, command: str, timeout: float = 60, check: bool = True, tty: bool = False,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
        """One-shot ``ssh user@127.0.0.1 command`` (no pty unless ``tty``); the client
        runs here, in the host's network namespace only."""
        return _run(self._ssh_argv(user, command, tty=tty), check=check, timeout=timeout, input=input)

    def login(self, user: str, command: Optional[str] = None, timeout: float = 30) -> RemoteLogin:
        """A long ``ssh -tt`` login in the background (see :class:`RemoteLogin`)."""
        self._require()
        return RemoteLogin(self, user, command, timeout)

    def loginctl_sessions(self) -> List[dict]:
        """``loginctl list-sessions`` as dicts with keys session, uid (int), user, seat, tty
        ('' when empty); JSON where the version supports it, else the table."""
        cp = self.run(["loginctl", "list-sessions", "--no-pager", "-o", "json"], check=False)
        out = cp.stdout.strip()
        if cp.returncode == 0 and out.startswith("["):
            rows = json.loads(out)
            return [{"session": str(r.get("session")), "uid": int(r.get("uid")), "user": r.get("user") or "",
                     "seat": r.get("seat") or "", "tty": r.get("tty") or ""} for r in rows]
        cp = self.run(["loginctl", "list-sessions", "--no-pager", "--no-legend"])
        rows = []
        header = None
        for line in cp.stdout.splitlines():
            f = line.split()
            if not f or not (f[0][0].isdigit() or f[0][0] == "c"):
                continue
            # SESSION UID USER [SEAT] [TTY]: seat and tty may be empty; a seat is "seat*"
            seat = next((x for x in f[3:] if x.startswith("seat")), "")
            rest = [x for x in f[3:] if x != seat]
            rows.append({"session": f[0], "uid": int(f[1]), "user": f[2], "seat": seat,
                         "tty": rest[0] if rest else ""})
        del header
        return rows

    def session_ids(self) -> List[str]:
        return sorted(s["session"] for s in self.loginctl_sessions())

    def session_prop(self, session_id: str, prop: str) -> Optional[str]:
        """``loginctl show-session ID -p PROP --value``; None if there is no such session."""
        cp = self.run(["loginctl", "show-session", str(session_id), "-p", prop, "--value"], check=False)
        if cp.returncode != 0:
            return None
        return cp.stdout.rstrip("\n")

    def wait_session_gone(self, session_id: str, timeout: float = 10.0) -> float:
        """Wait until loginctl no longer lists the session; seconds it took."""
        t0 = time.monotonic()
        try:
            wait_until(lambda: str(session_id) not in self.session_ids(), timeout, interval=0.2,
                       what=f"session {session_id} to leave loginctl on {self.name}")
        except TimeoutError as e:
            raise TimeoutError(f"{e}; state={self.session_prop(session_id, 'State')}; "
                               f"processes:\n{self.ps()}") from None
        return time.monotonic() - t0

    def pids_of_user(self, user: str) -> List[int]:
        """Live (non-zombie) PIDs of ``user`` inside, as seen there."""
        cp = self.run(["ps", "-o", "pid=,stat=", "-u", user], check=False)
        out = []
        for line in cp.stdout.splitlines():
            f = line.split()
            if len(f) == 2 and not f[1].startswith(("Z", "X")):
                out.append(int(f[0]))
        return out

    def ps(self, user: Optional[str] = None) -> str:
        """Process table inside (pid, user, stat, audit session, cgroup, args), for messages."""
        sel = f"-u {shlex.quote(user)}" if user else "-e"
        return self.sh(f"for p in $(ps -o pid= {sel}); do "
                       f"printf '%6s %-6s %-4s sid=%-10s %-60s %s\\n' $p "
                       f"\"$(ps -o user= -p $p)\" \"$(ps -o stat= -p $p)\" \"$(cat /proc/$p/sessionid 2>/dev/null)\" "
                       f"\"$(sed -n 's/^0:://p' /proc/$p/cgroup 2>/dev/null)\" \"$(ps -o args= -p $p)\"; done",
                       check=False).stdout

    def kill_pids(self, pids: Sequence[int], sig: str = "KILL") -> None:
        """Send a signal to these PIDs inside (missing ones are ignored)."""
        if pids:
            self.run(["kill", f"-{sig}", *[str(p) for p in pids]], check=False)

    def reset_users(self, users: Sequence[str] = tuple(USERS), timeout: float = 20) -> None:
        """End everything of the test users inside: close this host's logins, terminate
        their logind sessions, disable lingering, SIGKILL what is left (by PID), and
        wait until neither processes nor sessions of them remain."""
        for login in list(self.logins):
            if login.user in users or login.user == "root":
                login.close()
        for u in users:
            self.run(["loginctl", "disable-linger", u], check=False)
            self.run(["loginctl", "terminate-user", u], check=False)
        for s in self.loginctl_sessions():
            if s["user"] in users:
                self.run(["loginctl", "terminate-session", s["session"]], check=False)

        def clean():
            pids = [p for u in users for p in self.pids_of_user(u)]
            self.kill_pids(pids)
            left = [s for s in self.loginctl_sessions() if s["user"] in users]
            return not pids and not left
        try:
            wait_until(clean, timeout, interval=0.3, what=f"no process and no session of {list(users)} "
                                                          f"on {self.name}")
        except TimeoutError as e:
            raise TimeoutError(f"{e}\nsessions: {self.loginctl_sessions()}\n{self.ps()}") from None

    def install_logoff(self, build_dir) -> str:
        """Copy ``<build_dir>/logoff`` to /usr/local/bin/logoff-<name of build dir> in the
        root; checks inside that every library it needs resolves.  Path inside."""
        build_dir = Path(build_dir)
        src = build_dir / "logoff"
        if not os.access(src, os.X_OK):
            raise HostError(f"{src} is not an executable (set LOGOFF_BUILD to a meson build directory)")
        inside = f"/usr/local/bin/logoff-{build_dir.resolve().name}"
        dst = self.root / inside.lstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".tmp")
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dst)
        self.installed.append(dst)
        if self.running():
            cp = self.run(["ldd", inside], check=False)
            if cp.returncode != 0 or "not found" in cp.stdout:
                raise HostError(f"{inside} cannot run in the {self.name} root:\n{cp.stdout}{cp.stderr}")
        return inside


class SystemdHost(Host):
    """Debian 12 with systemd 252 as PID 1 of a systemd-nspawn container (systemd-logind)."""

    name = "systemd"
    port = 2422
    hostname = "lo-systemd"
    nsenter_ns = ("--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup")
    PACKAGES = ("systemd", "systemd-sysv", "dbus", "dbus-user-session", "libpam-systemd", "openssh-server",
                "openssh-client", "procps", "iproute2", "util-linux", "psmisc", "libasan8", "libubsan1",
                "python3", "polkitd")
    NSPAWN_ENV: Dict[str, str] = {}
    MASK = ("apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer",
            "fstrim.timer", "e2scrub_reap.service", "getty@tty1.service", "console-getty.service",
            "systemd-networkd-wait-online.service", "man-db.timer", "logrotate.timer")

    def __init__(self, base: Path = BASE):
        super().__init__(base)
        # one cgroup name per base folder, so hosts of two bases can run side by side
        self.cgroup = f"logoff-host-{self.name}" if self.base == BASE else \
            f"logoff-host-{self.name}-" + hashlib.sha256(str(self.base).encode()).hexdigest()[:8]

    def recipe(self) -> str:
        return f"{self.suite} {sorted(self.PACKAGES)} mask={sorted(self.MASK)} port={self.port} users={USERS} " \
               f"journal=volatile"

    def must_exist(self) -> List[str]:
        return super().must_exist() + ["usr/lib/systemd/systemd", "usr/lib/systemd/systemd-logind",
                                       "var/lib/dpkg/info/dbus-user-session.list"]

    def build(self, root: Path) -> None:
        self._debootstrap(root, self.PACKAGES)
        self._configure_common(root)
        for u in self.MASK:
            link = root / "etc/systemd/system" / u
            link.unlink(missing_ok=True)
            link.symlink_to("/dev/null")
        d = root / "etc/systemd/journald.conf.d"
        d.mkdir(parents=True, exist_ok=True)
        (d / "logoff-tests.conf").write_text("[Journal]\nStorage=volatile\n")
        shutil.rmtree(root / "var/log/journal", ignore_errors=True)

    def _cgroup_dirs(self) -> List[Path]:
        return [Path(r) / self.cgroup for r in CGROUP_ROOTS]

    def _boot(self, timeout: float) -> None:
        for d in self._cgroup_dirs():
            if not d.parent.is_dir():
                raise HostError(f"{d.parent} is not mounted: the hosts need the hybrid cgroup layout")
            if not self._remove_cgroup(d):
                raise HostError(f"cgroup {d} is still in use: {self.name} host running outside this run?")
        log = self._log("nspawn.log")
        script = " && ".join(f"mkdir -p {d} && echo $$ > {d}/cgroup.procs" for d in self._cgroup_dirs())
        argv = ["sh", "-c", f"{script} && exec systemd-nspawn --boot --directory={self.root} "
                            f"--machine={self.hostname} --register=no --keep-unit --private-network "
                            f"--console=read-only"]
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, close_fds=True,
                                         env=dict(os.environ, **self.NSPAWN_ENV))
        self.pidfile.write_text(f"{self.proc.pid}\n")
        t0 = time.monotonic()

        def leader():
            if self.proc.poll() is not None:
                raise HostError(f"systemd-nspawn exited with {self.proc.returncode}:\n"
                                f"{log.read_text(errors='replace')[-3000:]}")
            for c in _children(self.proc.pid):
                try:
                    if os.readlink(f"/proc/{c}/ns/pid") != os.readlink("/proc/self/ns/pid") and \
                            Path(f"/proc/{c}/comm").read_text().strip() == "systemd":
                        return c
                except OSError:
                    pass
            return None
        self.leader = wait_until(leader, 30, what="the container's init (child of systemd-nspawn)")
        last = [""]

        def booted():
            cp = self.run(["systemctl", "is-system-running"], check=False, timeout=20)
            last[0] = cp.stdout.strip() or cp.stderr.strip()
            return last[0] in ("running", "degraded")
        try:
            wait_until(booted, max(5.0, timeout - (time.monotonic() - t0)), interval=0.2,
                       what="systemctl is-system-running = running/degraded in the container")
        except TimeoutError as e:
            failed = self.run(["systemctl", "--failed", "--no-legend"], check=False).stdout
            raise TimeoutError(f"{e}; last state {last[0]!r}; failed units:\n{failed}") from None
        self.timings["boot_systemd"] = time.monotonic() - t0

    def _halt(self) -> None:
        pid = self._started_pid()
        if pid and _alive(pid):
            # nspawn turns SIGTERM into a clean shutdown of the container (SIGRTMIN+3 to its init)
            self._terminate_pid(pid, 60)
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                raise HostError(f"systemd-nspawn {self.proc.pid} did not exit") from None
            self.proc = None
        for d in self._cgroup_dirs():
            wait_until(lambda: self._remove_cgroup(d), 10, interval=0.2,
                       what=f"cgroup {d} to be empty and removed")

    @staticmethod
    def _remove_cgroup(top: Path) -> bool:
        """rmdir the cgroup tree ``top`` deepest first; False while processes live in it."""
        if not top.exists():
            return True
        for dirpath, _dirs, files in os.walk(top):
            if "cgroup.procs" in files:
                try:
                    if Path(dirpath, "cgroup.procs").read_text().strip():
                        return False
                except OSError:
                    pass
        for dirpath, _dirs, _files in sorted(os.walk(top, topdown=False), key=lambda t: -t[0].count("/")):
            try:
                os.rmdir(dirpath)
            except FileNotFoundError:
                pass
            except OSError:
                return False
        return not top.exists()

    def unit_state(self, unit: str) -> str:
        """ActiveState of a unit ('active', 'inactive', 'failed', ...); 'not-found' if not loaded."""
        cp = self.run(["systemctl", "show", "-p", "LoadState", "-p", "ActiveState", "--", unit])
        props = dict(line.split("=", 1) for line in cp.stdout.splitlines() if "=" in line)
        if props.get("LoadState") == "not-found" and props.get("ActiveState") == "inactive":
            return "not-found"
        return props.get("ActiveState", "")


class ElogindHost(Host):
    """Debian 12 with elogind 246 in private pid/mount/net/uts/ipc namespaces."""

    name = "elogind"
    port = 2423
    hostname = "lo-elogind"
    nsenter_ns = ("--mount", "--uts", "--ipc", "--net", "--pid")
    BASE_PACKAGES = ("procps", "iproute2", "util-linux", "psmisc", "libasan8", "libubsan1")
    PACKAGES = ("elogind", "libpam-elogind", "dbus", "openssh-server", "openssh-client", "polkitd")

    def recipe(self) -> str:
        return (f"{SUITE} {sorted(self.BASE_PACKAGES)} apt={sorted(self.PACKAGES)} port={self.port} "
                f"users={USERS} init={hashlib.sha256(self._init_script().encode()).hexdigest()[:12]}")

    def must_exist(self) -> List[str]:
        return super().must_exist() + ["lib/elogind/elogind", "usr/bin/dbus-daemon", "usr/bin/loginctl"]

    def build(self, root: Path) -> None:
        self._debootstrap(root, self.BASE_PACKAGES)
        prc = root / "usr/sbin/policy-rc.d"
        prc.write_text("#!/bin/sh\nexit 101\n")
        os.chmod(prc, 0o755)
        self._chroot_apt_install(root, self.PACKAGES, "apt-elogind.log", timeout=900)
        self._configure_common(root)
        (root / "sbin/logoff-host-init").write_text(self._init_script())
        os.chmod(root / "sbin/logoff-host-init", 0o755)

    @staticmethod
    def _init_script() -> str:
        """PID 1 inside the chroot: start dbus, elogind and sshd, wait for SIGTERM."""
        return """#!/bin/bash
# logoff-host-init: PID 1 of the elogind test host (see tests/hosts.py)
install -d -m 755 /run/dbus /run/sshd /run/user
install -m 664 -g utmp /dev/null /run/utmp
[ -e /var/log/wtmp ] || install -m 664 -g utmp /dev/null /var/log/wtmp
dbus-daemon --system --fork
/lib/elogind/elogind --daemon
# logind asks polkit whether a caller who is not root may end another's session
setsid /usr/lib/polkit-1/polkitd --no-debug </dev/null >/var/log/polkitd.log 2>&1 &
/usr/sbin/sshd -E /var/log/sshd.log
echo BOOTED
trap 'exit 0' TERM
while :; do sleep 3600 & wait $!; done
"""

    def _boot(self, timeout: float) -> None:
        r = self.root
        mounts = f"""set -e
mount --make-rprivate /
mount -t proc proc {r}/proc
mount -t sysfs -o ro sysfs {r}/sys
mount -t tmpfs -o mode=755 tmpfs {r}/sys/fs/cgroup
mkdir -p {r}/sys/fs/cgroup/unified
mount -t cgroup2 cgroup2 {r}/sys/fs/cgroup/unified
mount -t tmpfs -o mode=755 tmpfs {r}/dev
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
        set -- $n; mknod -m 666 {r}/dev/$1 c $2 $3
done
mkdir {r}/dev/pts {r}/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts {r}/dev/pts
ln -s pts/ptmx {r}/dev/ptmx
ln -s /proc/self/fd {r}/dev/fd
mount -t tmpfs -o mode=1777 tmpfs {r}/dev/shm
mount -t tmpfs -o mode=755 tmpfs {r}/run
mount -t tmpfs -o mode=1777 tmpfs {r}/tmp
hostname {self.hostname}
ip link set lo up
exec chroot {r} /sbin/logoff-host-init
"""
        init = self._log("ns-init.sh")
        init.write_text(mounts)
        log = self._log("elogind-ns.log")
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount", "--net", "--uts", "--ipc",
                                          "--propagation", "private", "bash", str(init)],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, close_fds=True)
        self.pidfile.write_text(f"{self.proc.pid}\n")

        def booted():
            if self.proc.poll() is not None:
                raise HostError(f"the elogind namespace exited with {self.proc.returncode}:\n"
                                f"{log.read_text(errors='replace')[-3000:]}")
            return "BOOTED" in log.read_text(errors="replace")
        wait_until(booted, timeout, what="dbus, elogind and sshd to start in the elogind namespace")
        kids = _children(self.proc.pid)
        if len(kids) != 1:
            raise HostError(f"unshare {self.proc.pid} has children {kids}, expected the namespace's init")
        self.leader = kids[0]
        wait_until(lambda: self.run(["loginctl", "list-sessions", "--no-legend"], check=False).returncode == 0,
                   20, what="elogind to answer loginctl")

    def _halt(self) -> None:
        pid = self._started_pid()
        if not (pid and _alive(pid)):
            self.proc = None
            return
        kids = _children(pid)
        leader = kids[0] if kids else None
        if leader and _alive(leader):
            # elogind's own v1 hierarchy (name=elogind) outlives the namespace while it has child
            # cgroups: end every process but init, then remove them, deepest first.
            self.leader = leader
            self.run(["sh", "-c", "for p in $(ps -e -o pid=); do [ $p = 1 ] || [ $p = $$ ] || "
                                  "kill -KILL $p 2>/dev/null; done; sleep 0.3; "
                                  "[ -d /sys/fs/cgroup/elogind ] && find /sys/fs/cgroup/elogind -mindepth 1 "
                                  "-depth -type d -exec rmdir {} + ; true"], check=False, timeout=20)
            os.kill(leader, signal.SIGTERM)
        try:
            wait_until(lambda: not _alive(pid), 10, what="the elogind namespace to stop")
        except TimeoutError:
            for p in [leader, pid]:
                if p:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            wait_until(lambda: not _alive(pid), 10, what="the elogind namespace to die after SIGKILL")
        if self.proc is not None:
            self.proc.wait(10)
            self.proc = None

    def unit_state(self, unit: str) -> str:
        raise HostError("the elogind host has no service manager (no units)")


def elogind_cgroups_left() -> List[str]:
    """Child cgroups left in the kernel's name=elogind hierarchy (mounted briefly in a
    private mount namespace; an empty named hierarchy vanishes again at umount)."""
    cp = _run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'd=$(mktemp -d) && mount -t cgroup -o none,name=elogind cg "$d" && '
               '(cd "$d" && find . -mindepth 1 -type d); umount "$d"; rmdir "$d"'], check=False)
    return [line for line in cp.stdout.splitlines() if line.strip()]


class TrixieHost(SystemdHost):
    """Debian 13 with systemd 257 in a systemd-nspawn container: built without utmp
    (``who`` is empty), login history in wtmpdb (libwtmpdb, /var/lib/wtmpdb/wtmp.db,
    written by sshd itself for pty logins).  systemd 257 needs the unified cgroup
    hierarchy, so nspawn is told to give the container one."""

    name = "trixie"
    suite = "trixie"
    port = 2424
    hostname = "lo-trixie"
    NSPAWN_ENV = {"SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"}
    PACKAGES = SystemdHost.PACKAGES + ("libwtmpdb0", "libpam-wtmpdb", "wtmpdb")

    def must_exist(self) -> List[str]:
        return [p for p in super().must_exist() if "libasan" not in p] + [
            "usr/bin/wtmpdb", "usr/lib/x86_64-linux-gnu/libwtmpdb.so.0"]

    def wtmpdb_rows(self) -> List[dict]:
        """The login records as ``wtmpdb last`` knows them, parsed from its JSON."""
        cp = self.run(["wtmpdb", "last", "--json"], check=False)
        if cp.returncode != 0 or not cp.stdout.strip():
            return []
        data = json.loads(cp.stdout)
        return data.get("entries", data) if isinstance(data, dict) else data


class XfceHost(SystemdHost):
    """Debian 12 with systemd 252 in a systemd-nspawn container, plus xrdp 0.9.21 (Xorg
    backend, xorgxrdp), Xfce 4.18 and a FreeRDP 2 client: real Xfce desktops logged in
    over RDP, each a logind session.  What runs inside (xrdp, clients, sessions) is
    tests/xfce.py; fixtures in tests/xfce/conftest.py.

    Built like :class:`SystemdHost` (debootstrap of the same packages), then
    :data:`XFCE_PACKAGES` installed with ``apt-get install --no-install-recommends``
    in a chroot from this host's side (the container has loopback only), with a
    ``usr/sbin/policy-rc.d`` that exits 101 so no postinst starts a daemon (removed
    after).  Then: ``xrdp`` joins group ``ssl-cert`` (else xrdp "Cannot read private
    key file" and the client fails with a MAC checksum error), alice and bob get the
    passwords :meth:`password` gives (chpasswd), and xrdp.service/xrdp-sesman.service
    are disabled: tests/xfce.py starts them (and makes /dev/fuse) after each boot.

    Measured (2 cores, this machine's mirror): a build from nothing (empty .deb cache,
    195 MB of .debs fetched) 112 s; with the .debs cached 91 s (debootstrap 61 s,
    apt-get of the 240 packages 28 s); the root is 990 MB.  Boot to
    ``is-system-running`` = running: 0.3-0.6 s, as :class:`SystemdHost`; stop 0.2 s
    (but 10 s while something nsenter started still runs inside, such as a client's
    Xvfb: systemd-shutdown waits for it, then SIGKILLs it; tests/xfce.py ends the
    clients first).  Debian's xfce4-session makes ``x-session-manager`` startxfce4,
    not xfce4-session (checked at build time).  ``thunar`` is in the root because
    xfce4-session's default session starts ``Thunar --daemon``: without it the
    session manager stays in its startup state (and refuses a logout) about 8 s
    longer.  :meth:`_refresh` gives the users fresh homes at every start.
    ``mate-session-manager`` (no recommends: MATE's session manager alone, with
    ``mate-session-inhibit``) is there for the D-Bus calls of the GNOME family
    (``org.gnome.SessionManager``: Logout, GetInhibitors) against a real session
    manager; x-session-manager stays startxfce4 (``update-alternatives --set``).
    """

    name = "xfce"
    port = 2426
    hostname = "lo-xfce"
    XFCE_PACKAGES = ("xrdp", "xorgxrdp", "xfce4-session", "xfwm4", "xfce4-panel", "xfdesktop4",
                     "xfce4-terminal", "dbus-x11", "freerdp2-x11", "xvfb", "fuse3", "xauth",
                     "xfce4-notifyd", "x11-utils", "xdotool", "thunar", "mate-session-manager")

    @staticmethod
    def password(user: str) -> str:
        """The password a test user has in this root (set at build time)."""
        return f"Xfce-{user}-pw1"

    def recipe(self) -> str:
        return (super().recipe() + f" apt={sorted(self.XFCE_PACKAGES)} xrdp-in-ssl-cert "
                f"passwords={sorted((u, self.password(u)) for u in USERS)} xrdp-units=disabled "
                f"x-session-manager=startxfce4")

    def must_exist(self) -> List[str]:
        return super().must_exist() + [
            "usr/sbin/xrdp", "usr/sbin/xrdp-sesman", "usr/sbin/xrdp-chansrv",
            "usr/lib/xorg/modules/drivers/xrdpdev_drv.so", "usr/lib/xorg/Xorg", "usr/bin/xfce4-session",
            "usr/bin/xfwm4", "usr/bin/xfce4-panel", "usr/bin/xfdesktop", "usr/bin/xfce4-session-logout",
            "usr/bin/xfreerdp", "usr/bin/Xvfb", "usr/bin/fusermount3", "usr/bin/xdpyinfo",
            "usr/bin/dbus-launch", "usr/bin/dbus-send", "usr/bin/xdotool", "usr/bin/thunar",
            "usr/bin/mate-session", "usr/bin/mate-session-inhibit"]

    def _refresh(self) -> None:
        """Also give alice and bob fresh homes (/etc/skel, then the ssh keys): a desktop
        session leaves state there (``~/.cache/sessions``, a session xfce4-session saved at
        logout and starts instead of the default one next time; ``~/.config/xfce4``;
        logs), and a test must not depend on what an earlier run did.  xrdp's logs
        (/var/log/xrdp.log, /var/log/xrdp-sesman.log) are emptied too."""
        skel = self.root / "etc/skel"
        for user, uid in USERS.items():
            home = self.root / "home" / user
            if home.is_symlink() or not home.is_dir():
                raise HostError(f"{home} is not a directory; refusing")
            if _mounts_under(home):
                raise HostError(f"refusing to reset {home}: mounted there: {_mounts_under(home)}")
            for e in home.iterdir():
                if e.name == ".ssh":
                    continue
                if e.is_dir() and not e.is_symlink():
                    shutil.rmtree(e)
                else:
                    e.unlink()
            for e in skel.iterdir():
                if e.is_file() and not e.is_symlink():
                    shutil.copy2(e, home / e.name)
                    os.chown(home / e.name, uid, uid)
        for log in ("xrdp.log", "xrdp-sesman.log"):       # this run's only
            f = self.root / "var/log" / log
            if f.is_file() and not f.is_symlink():
                f.write_text("")
        super()._refresh()

    def build(self, root: Path) -> None:
        super().build(root)
        prc = root / "usr/sbin/policy-rc.d"
        prc.write_text("#!/bin/sh\nexit 101\n")
        os.chmod(prc, 0o755)
        self._chroot_apt_install(root, self.XFCE_PACKAGES, "apt-xfce.log")
        _run(["chroot", root, "usermod", "-a", "-G", "ssl-cert", "xrdp"])
        _run(["chroot", root, "chpasswd"], input="".join(f"{u}:{self.password(u)}\n" for u in USERS))
        _run(["chroot", root, "systemctl", "disable", "--quiet", "xrdp.service", "xrdp-sesman.service"])
        prc.unlink()
        # /etc/xrdp/startwm.sh runs /etc/X11/Xsession, which runs x-session-manager: Debian's
        # xfce4-session makes that startxfce4 (which, DISPLAY set, runs /etc/xdg/xfce4/xinitrc,
        # which execs xfce4-session); mate-session-manager would take it over (its priority is
        # higher), so it is set by hand.  A MATE session is started by ~/.xsession (tests/xfce.py).
        _run(["chroot", root, "update-alternatives", "--set", "x-session-manager", "/usr/bin/startxfce4"])
        xsm = _run(["chroot", root, "readlink", "-f", "/usr/bin/x-session-manager"], check=False).stdout.strip()
        if xsm not in ("/usr/bin/startxfce4", "/usr/bin/xfce4-session"):
            raise HostError(f"x-session-manager in {root} is {xsm or 'missing'}, not startxfce4 or xfce4-session: "
                            f"/etc/X11/Xsession would not start Xfce")


HOSTS = {"systemd": SystemdHost, "elogind": ElogindHost, "trixie": TrixieHost, "xfce": XfceHost}


def _main(argv: Sequence[str]) -> int:
    """python3 tests/hosts.py build|boot [systemd|elogind|trixie|xfce|all]: build or reuse (and boot, stop)."""
    if len(argv) < 1 or argv[0] not in ("build", "boot"):
        print("usage: hosts.py build|boot [systemd|elogind|trixie|xfce|all]")
        return 2
    names = list(HOSTS) if len(argv) < 2 or argv[1] == "all" else [argv[1]]
    for n in names:
        h = HOSTS[n]()
        if argv[0] == "build":
            h.ensure_root()
        else:
            with h:
                print(n, "sessions:", h.loginctl_sessions())
        print(n, "built" if h.built else "reused", {k: round(v, 2) for k, v in h.timings.items()})
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(_main(sys.argv[1:]))

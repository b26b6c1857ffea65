"""X2Go discovery against a hostile local user (issue 13, points 5 and 8).

Point 5: a process that names itself x2goagent (with "-name X2GO-<id> :N"
in its command line) and one that names itself sshd and holds many TCP
connections on loopback made discovery quadratic in the host's sockets.
Names prove nothing: neither is taken for what it says it is, and a
listing costs the same whatever they hold.

Point 8: the agent's state file is found through its DISPLAY, which its
owner chose, and logoff reads it as root.  A path into a FUSE mount whose
server never answers (tests/stuck-fuse.c) left logoff --list asleep for
ever.  The real agent binary is used here (it runs as the user, who may
start it), with a DISPLAY that points into such a mount."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import harness as H
from conftest import BUILD, LOGOFF, USER1

STUCK_FUSE = str(BUILD / "tests" / "stuck-fuse")
AGENT = "/usr/bin/x2goagent"
DISPLAY_N = 473

NAMED = ("import ctypes, sys, time; ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0); "
         "open(sys.argv[2], 'w').close(); time.sleep(100000)")

# Holds n established TCP connections on loopback (both ends), under the
# name sshd.  Eight listeners so that the connections need few ephemeral
# ports, and SO_LINGER 0 so that closing them leaves no TIME_WAIT behind.
FAKE_SSHD = r"""
import ctypes, socket, struct, sys, time
ctypes.CDLL(None).prctl(15, b"sshd", 0, 0, 0)
n, ready = int(sys.argv[1]), sys.argv[2]
linger = struct.pack("ii", 1, 0)
def sock():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    return s
listeners = []
for i in range(8):
    l = sock()
    l.bind(("127.0.0.1", 0))
    l.listen(4096)
    listeners.append(l)
keep = []
for i in range(n):
    l = listeners[i % 8]
    c = sock()
    c.connect(l.getsockname())
    a, _ = l.accept()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    keep += [c, a]
with open(ready, "w") as f:
    f.write(str(len(keep)))
time.sleep(100000)
"""


def list_rows():
    cp = subprocess.run([LOGOFF, "--list", "--json"], capture_output=True, text=True, timeout=120,
                        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, cp.stderr
    return {r["id"]: r for r in json.loads(cp.stdout)["sessions"]}


def timed_listing(repeat=3):
    """The fastest of a few listings: what it costs, without the noise of a busy host."""
    best = None
    for _ in range(repeat):
        t0 = time.monotonic()
        list_rows()
        took = time.monotonic() - t0
        best = took if best is None else min(best, took)
    return best


def as_user(uid, gid):
    def become():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return become


# A process may hold no more descriptors than the hard limit root has here
# (and may not raise): the connections are shared out among several
# processes named sshd, which costs the quadratic scan as much as one.
PER_PROCESS = 8000


@pytest.fixture
def fake_sshd(users, tmp_path):
    """fake_sshd(n) -> processes of USER1's named sshd holding n connections
    on loopback between them; fake_sshd.stop(those) ends them."""
    u = users[USER1]
    made = []

    def start(n):
        procs = []
        for i, k in enumerate([PER_PROCESS] * (n // PER_PROCESS) + ([n % PER_PROCESS] if n % PER_PROCESS else [])):
            ready = tmp_path / f"sshd-ready-{len(made)}"
            p = subprocess.Popen([sys.executable, "-c", FAKE_SSHD, str(k), str(ready)],
                                 preexec_fn=as_user(u.uid, u.gid), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            made.append(p)
            procs.append(p)
            H.wait_until(lambda: ready.exists() or p.poll() is not None, 120, interval=0.1,
                         what=f"the fake sshd's {k} connections")
            assert p.poll() is None, p.stderr.read().decode(errors="replace")
            assert H.proc_comm(p.pid) == "sshd"
            assert int(ready.read_text()) == 2 * k
        return procs

    def stop(procs):
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(30)

    start.stop = stop
    yield start
    stop([p for p in made if p.poll() is None])


# A process of USER1's named sshd, in a login of its own, that looks like
# the sshd of an X2Go client's connection: one connection to the agent's
# port, as a forward to the agent would be, and one accepted on a port it
# listens on, as the client's would be.
TUNNEL_SSHD = r"""
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, b"sshd", 0, 0, 0)
tunnel = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
open(sys.argv[2], "w").close()
time.sleep(100000)
"""


def measure(fake_sshd):
    """The listing's cost beside 2,500, 10,000 and 20,000 connections held
    by processes named sshd, and the last listing."""
    timings, rows = {}, None
    for n in (2500, 10000, 20000):
        procs = fake_sshd(n)
        try:
            timings[n] = timed_listing()
            rows = list_rows()
        finally:
            fake_sshd.stop(procs)
    sys.stderr.write(f"\nlogoff --list beside processes named sshd holding N connections (s): "
                     f"{json.dumps({k: round(v, 3) for k, v in timings.items()})}\n")
    return timings, rows


def assert_linear(timings):
    # Eight times the connections may cost eight times as much (and a fixed
    # part); the quadratic scan cost about thirty times as much.
    assert timings[20000] <= 12 * timings[2500] + 0.25, timings
    assert timings[20000] < 1.0, timings


def test_x2go_names_alone_make_no_agent_and_cost_nothing(mksession, fake_sshd, tmp_path):
    """A fake agent (python named x2goagent, with X2Go's arguments and
    DISPLAY) in a login of USER1's: the login is not taken for an X2Go
    session, and the listing does not grow with the square of the sockets
    that processes named sshd hold."""
    xid = f"{USER1}-{DISPLAY_N}-1700000000_stDxterm_dp24"
    started = tmp_path / "agent-started"
    s = mksession("env", f"DISPLAY=nx/nx,options=/tmp/.x2go-{USER1}/C-{xid}/options:{DISPLAY_N}",
                  sys.executable, "-c", NAMED, "x2goagent", str(started), "-name", f"X2GO-{xid}", f":{DISPLAY_N}",
                  user=USER1)
    H.wait_until(lambda: started.exists(), 10, what="the fake agent")
    assert any(H.proc_comm(p) == "x2goagent" for p in s.pids())

    timings, rows = measure(fake_sshd)
    assert_linear(timings)
    row = rows[str(s.sid)]
    assert row["type"] != "x2go" and row["name"] != f":{DISPLAY_N}" and row.get("desktop_session") is None, row


def free_display(n):
    """The agent will not start on a display whose lock names a live
    process: wait for an agent of an earlier test to be gone, then remove
    what it left."""
    lock = Path(f"/tmp/.X{n}-lock")

    def free():
        try:
            pid = int(lock.read_text().strip())
        except (FileNotFoundError, ValueError):
            return True
        return not H.proc_alive(pid)
    H.wait_until(free, 15, what=f"the display :{n} of an earlier agent to be freed")
    for f in (lock, Path(f"/tmp/.X11-unix/X{n}")):
        f.unlink(missing_ok=True)


@pytest.fixture
def real_agent(mksession):
    """X2Go's real agent in a login of USER1's, as any user may start it:
    with no options file it waits for its client on port 4000 + N."""
    xid = f"{USER1}-{DISPLAY_N}-1700000000_stDxterm_dp24"
    free_display(DISPLAY_N)
    s = mksession("env", f"DISPLAY=nx/nx,options=/tmp/.x2go-{USER1}-none/C-{xid}/options:{DISPLAY_N}", AGENT,
                  "-name", f"X2GO-{xid}", f":{DISPLAY_N}", user=USER1)
    port = 4000 + DISPLAY_N
    H.wait_until(lambda: any(H._listening(p, port) for p in s.pids()), 15, what=f"the agent to listen on {port}")
    s.xid, s.port = xid, port
    yield s
    H.kill_session(s.sid)
    for f in (f"/tmp/.X{DISPLAY_N}-lock", f"/tmp/.X11-unix/X{DISPLAY_N}"):
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass


def test_x2go_names_alone_make_no_sshd_and_cost_nothing(mksession, real_agent, fake_sshd, tmp_path):
    """The real agent, and processes of its user's named sshd: one that
    holds what an X2Go client's sshd would (a connection to the agent's
    port, one accepted on a listening port) in a login of its own, others
    that hold thousands of connections.  None is taken for the sshd of the
    session's client: the session stays disconnected with no client
    address, the other login is not taken into it, and the listing does not
    grow with the square of the sockets."""
    started = tmp_path / "tunnel-started"
    t = mksession(sys.executable, "-c", TUNNEL_SSHD, str(real_agent.port), str(started), user=USER1)
    H.wait_until(lambda: started.exists(), 10, what="the fake tunnel")

    timings, rows = measure(fake_sshd)
    assert_linear(timings)
    row = rows[str(real_agent.sid)]
    assert (row["type"], row["name"], row["state"], row["remote_host"], row["desktop_session"]) == \
        ("x2go", f":{DISPLAY_N}", "disconnected", None, real_agent.xid), row
    assert str(t.sid) in rows, rows


# --- point 8: a state file in a FUSE mount that never answers -------------

@pytest.fixture
def stuck_mounts(users):
    """stuck_mounts(dir) mounts on dir (made and given to USER1 if missing) a
    FUSE file system that never answers a request (tests/stuck-fuse.c);
    .abort() ends every server, which wakes whatever waits on them."""
    u = users[USER1]
    made = []

    def mount(path):
        path = Path(path)
        created = not path.exists()
        if created:
            path.mkdir()
        os.chown(path, u.uid, u.gid)
        p = subprocess.Popen([STUCK_FUSE, str(path)], stdout=subprocess.PIPE, text=True)
        made.append((p, path, created))
        assert p.stdout.readline().strip() == "ready"
        return path

    def abort():
        for p, path, _ in made:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
            subprocess.run(["umount", "-l", str(path)], capture_output=True)

    mount.abort = abort
    yield mount
    abort()
    for _, path, created in made:
        if created:
            path.rmdir()


def stuck_readers():
    """Processes that run logoff's binary and sleep in the kernel (a reader
    that a file system never answered)."""
    out = []
    for pid in H._all_pids():
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if exe == os.path.realpath(LOGOFF) and H.proc_state(pid) == "D":
            out.append(pid)
    return out


@pytest.mark.parametrize("where", ["tmp", "home", "over-home"])
def test_x2go_state_file_in_a_stuck_fuse_mount_does_not_hang_the_listing(mksession, stuck_mounts, users, where):
    """The agent's DISPLAY leads into a FUSE mount of the user's that never
    answers: on a directory of theirs in /tmp, below their home, or (with
    the state file in /tmp's) over their home itself, which logoff looks
    at to know the home's file system."""
    home = users[USER1].home
    xid = f"{USER1}-{DISPLAY_N}-1700000000_stDxterm_dp24"
    base = tempfile.mkdtemp(prefix=f"logoff-x2go-{USER1}-", dir="/tmp") if where != "home" else f"{home}/.x2go-stuck"
    if where != "home":
        os.rmdir(base)
    mnt = stuck_mounts(base)
    display = f"nx/nx,options={mnt}/C-{xid}/options:{DISPLAY_N}"
    # The real agent, as X2Go starts it (any user may); it waits for its
    # own options file in the same mount, which is all it needs to do here.
    s = mksession("env", f"DISPLAY={display}", AGENT, "-name", f"X2GO-{xid}", f":{DISPLAY_N}", user=USER1)
    H.wait_until(lambda: any(H.proc_comm(p) == "x2goagent" for p in s.pids()), 10, what="the agent")
    agent = next(p for p in s.pids() if H.proc_comm(p) == "x2goagent")
    assert os.path.realpath(f"/proc/{agent}/exe") == os.path.realpath(AGENT)
    if where == "over-home":
        stuck_mounts(home)

    t0 = time.monotonic()
    p = subprocess.Popen([LOGOFF, "--list", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL,
                         cwd="/")
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        # Asleep on the mount: killing it is not enough (state D), only
        # ending the FUSE server lets it go.
        p.kill()
        stuck_mounts.abort()
        p.communicate(timeout=30)
        pytest.fail(f"logoff --list hung on the state file in {mnt}")
    took = time.monotonic() - t0
    assert p.returncode == 0, err
    assert took < 5, f"took {took:.1f} s"
    row = {r["id"]: r for r in json.loads(out)["sessions"]}[str(s.sid)]
    # The real agent still makes the login an X2Go session; its state comes
    # from its connection (it has none), the file being refused.
    assert (row["type"], row["name"], row["state"], row["desktop_session"]) == \
        ("x2go", f":{DISPLAY_N}", "disconnected", xid), row
    # Refused before anything was asked of the mount: no reader was left
    # waiting on it.
    assert stuck_readers() == [], H.describe_pids(stuck_readers())

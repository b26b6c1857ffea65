"""A real X2Go session while the same user's own ssh login forwards
thousands of connections (issue 13, point 5): that login's sshd is the
system's, runs as the user and holds every forwarded connection, so it is
looked at, and a listing must stay linear in the host's sockets.  The
forwarding login is made first, so that its sshd comes before the X2Go
session's in the process table (the scan stops at the one that carries the
agent's tunnel)."""

import json
import os
import subprocess
import sys
import time

import harness as HR
from conftest import LOGOFF

# Each connection is four sockets: the connecting end and ssh's accepted
# one, sshd's to the target and the target's accepted one.  The target and
# the clients are separate processes, each below the descriptor limit
# (20,000 here, and root may not raise it); OpenSSH takes at most 16,384
# channels on one connection.
TARGET = r"""
import socket, struct, sys
linger = struct.pack("ii", 1, 0)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
l.bind(("127.0.0.1", 0))
l.listen(4096)
print(l.getsockname()[1], flush=True)
keep = []
while True:
    a, _ = l.accept()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    keep.append(a)
"""

# Connects as many more as it is told on each line of stdin, round robin to
# ssh's forwarded ports, and says how many it holds.  ssh accepts one
# connection per port and turn of its loop, and each turn walks all its
# channels: several ports, and few connections at a time (its backlog is
# short, and a connection the kernel drops waits a second to try again).
CLIENTS = r"""
import socket, struct, sys
ports = [int(p) for p in sys.argv[1:]]
linger = struct.pack("ii", 1, 0)
keep = []
for line in sys.stdin:
    for i in range(int(line)):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        c.connect(("127.0.0.1", ports[len(keep) % len(ports)]))
        keep.append(c)
    print(len(keep), flush=True)
"""
PER_CLIENT = 9000
PORTS = 8
BATCH = 100 * PORTS


def rows_of(user):
    cp = subprocess.run([LOGOFF, "--list", "--json"], capture_output=True, text=True, timeout=120,
                        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}, stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, cp.stderr
    return [s for s in json.loads(cp.stdout)["sessions"] if s["user"] == user.name]


def timed(user, repeat=3):
    best, rows = None, None
    for _ in range(repeat):
        t0 = time.monotonic()
        rows = rows_of(user)
        took = time.monotonic() - t0
        best = took if best is None else min(best, took)
    return best, rows


def sshd_sockets(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def user_sshds(user):
    """The live sshd processes that run as the user (a login's own)."""
    return [p for p in HR._all_pids() if HR.proc_comm(p) == "sshd" and HR.proc_uid(p) == user.uid
            and HR.proc_state(p) not in (None, "Z", "X")]


def test_x2go_listing_stays_linear_with_a_login_forwarding_thousands(x2go, rdp_users):
    (u,) = rdp_users(1)
    procs = []
    try:
        target = subprocess.Popen([sys.executable, "-c", TARGET], stdout=subprocess.PIPE, text=True,
                                  stdin=subprocess.DEVNULL)
        procs.append(target)
        tport = int(target.stdout.readline())
        before = user_sshds(u)
        lports = []
        while len(lports) < PORTS:
            p = HR.free_port()
            if p not in lports:
                lports.append(p)
        ssh = x2go.sshd.client_cmd(u, u.ssh_key, tty=False)
        ssh[1:1] = ["-N"] + [a for p in lports for a in ("-L", f"127.0.0.1:{p}:127.0.0.1:{tport}")]
        client = subprocess.Popen(ssh, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  start_new_session=True)
        procs.append(client)
        HR.wait_until(lambda: all(HR._listening(client.pid, p) for p in lports) or client.poll() is not None, 20,
                      what="ssh's forwarded ports")
        assert client.poll() is None, client.stderr.read()
        fwd = [p for p in user_sshds(u) if p not in before]
        assert len(fwd) == 1, HR.describe_pids(fwd)

        c = x2go.client(u).start("xterm")
        display = c.display()
        agent_sshd = [p for p in user_sshds(u) if p not in before and p != fwd[0]]
        assert agent_sshd and min(agent_sshd) > fwd[0], (fwd, agent_sshd)

        timings = {}
        clients = []  # [process, connections it holds]
        total = 0
        for n in (2000, 8000, 16000):
            while total < n:
                if not clients or clients[-1][1] == PER_CLIENT:
                    more = subprocess.Popen([sys.executable, "-c", CLIENTS, *map(str, lports)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                    procs.append(more)
                    clients.append([more, 0])
                more = clients[-1]
                k = min(BATCH, n - total, PER_CLIENT - more[1])
                more[0].stdin.write(f"{k}\n")
                more[0].stdin.flush()
                more[1] = int(more[0].stdout.readline())
                total += k
                # ssh has taken them (its descriptors: a cheap count).
                HR.wait_until(lambda: len(os.listdir(f"/proc/{client.pid}/fd")) > total or client.poll() is not None,
                              30, interval=0.02, what=f"ssh to accept {total} connections")
                assert client.poll() is None, client.stderr.read()
            HR.wait_until(lambda: sshd_sockets(fwd[0]) > n, 60, interval=0.2,
                          what=f"sshd to hold {n} forwarded connections")
            timings[n], rows = timed(u)
            # Two logins: the forwarding one, and the X2Go session, whose
            # client is found all the same.
            assert sorted((r["name"] or "", r["type"], r["state"], r["remote_host"] or "") for r in rows) == \
                [("", "unspecified", "disconnected", ""), (f":{display}", "x2go", "active", "127.0.0.1")], rows
        sys.stderr.write(f"\nlogoff --list beside an sshd forwarding N connections (s): "
                         f"{json.dumps({k: round(v, 3) for k, v in timings.items()})}\n")
        # Eight times the connections may cost eight times as much (and a
        # fixed part), not sixty-four.
        assert timings[16000] <= 12 * timings[2000] + 0.25, timings
        assert timings[16000] < 1.5, timings
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.kill()
            p.wait(30)

"""/server: a session host reached over ssh: a network namespace with its
own sshd, where logoff runs as root (it shares /proc and utmp with this
host, so the sessions made here are the sessions over there)."""

import os
import re
from pathlib import Path

import pytest

import harness as H
from conftest import LOGOFF, USER1, run_logoff, signal_logger, table_rows

NETNS = f"lotest{os.getpid() % 10000}"
HOST_ADDR, NS_ADDR = "10.213.77.1", "10.213.77.2"


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    work = tmp_path_factory.mktemp("remote")
    H.make_netns(NETNS, HOST_ADDR, NS_ADDR)
    server = H.Sshd(work / "sshd", netns=NETNS, listen_addr=NS_ADDR)
    try:
        server.start()
        key = H.run_keypair()
        server.authorize_extra_key("root", f"{key}.pub")
        cfg = server.ssh_config_file("root", key, alias="sessionhost")
        with open(cfg, "a") as f:
            # Nothing listens on this port: a host that cannot be reached.
            f.write(f"Host deadhost\n    HostName {NS_ADDR}\n    Port {H.free_port()}\n"
                    f"    BatchMode yes\n    ConnectTimeout 5\n")
        wrapper = work / "ssh"
        wrapper.write_text(f"#!/bin/sh\nexec ssh -F {cfg} \"$@\"\n")
        wrapper.chmod(0o755)
        yield {"LOGOFF_SSH": str(wrapper), "LOGOFF_REMOTE_COMMAND": LOGOFF}
    finally:
        for s in list(server.sessions):
            s.cleanup()
        server.stop()
        H.remove_netns(NETNS)


def test_list_on_the_server(remote, mksession):
    s = mksession("sleep", "100000", user=USER1)
    cp = run_logoff("--list", "/server:sessionhost", env=remote)
    assert cp.returncode == 0, cp.stderr
    rows = table_rows(cp.stdout)
    assert any(r["id"] == s.sid and r["name"] == s.tty for r in rows)
    # It ran over there: its own session is the ssh login from our side of
    # the veth pair, as root.
    current = [r for r in rows if r["current"]]
    assert len(current) == 1 and current[0]["user"] == "root" and current[0]["device"] == HOST_ADDR, rows


def test_logoff_on_the_server(remote, mksession, tmp_path):
    log = tmp_path / "signals"
    keep = mksession(*signal_logger(log), user=USER1, ready="sleep")
    s = mksession("sh", "-c", "setsid sleep 100000 & exec sleep 100001", user=USER1, opts=["-R"])
    cp = run_logoff(s.tty, "/server:sessionhost", "/v", env=remote)
    assert cp.returncode == 0, cp.stderr
    assert f"Session {s.sid} logged off" in cp.stdout  # the server's report comes back
    assert s.pids() == []
    assert keep.alive() and not log.exists()


def test_server_exit_status_comes_back(remote):
    cp = run_logoff("4294967294", "/server:sessionhost", env=remote)
    assert cp.returncode == 3 and "no session with ID 4294967294" in cp.stderr


def test_server_arguments_are_not_reinterpreted_by_its_shell(remote, tmp_path):
    marker = tmp_path / "injected"
    cp = run_logoff(f"x';touch {marker};'", "/server:sessionhost", env=remote)
    assert cp.returncode == 3 and "no session named" in cp.stderr
    assert not marker.exists()


def test_unreachable_server(remote):
    cp = run_logoff("1", "/server:deadhost", env=remote)
    assert cp.returncode == 7 and "cannot reach server deadhost" in cp.stderr


def test_missing_ssh_program(mksession):
    s = mksession("sleep", "100000", user=USER1)
    cp = run_logoff(str(s.sid), "/server:sessionhost", env={"LOGOFF_SSH": "/nonexistent/ssh"})
    assert cp.returncode == 7 and "cannot run ssh" in cp.stderr
    assert s.alive()


def test_server_needs_a_session_name():
    cp = run_logoff("/server:sessionhost")
    assert cp.returncode == 2 and "name the session to log off on sessionhost" in cp.stderr

"""Strings from outside are cleaned once, where they enter (issue 9): a
remote host name with invalid UTF-8 and a terminal escape, a display named
in Korean.  The table, /v and JSON show them as valid, printable UTF-8 that
no terminal acts on, and the table lines up by display columns."""

import json
import os
import subprocess
import unicodedata
from pathlib import Path

import pytest

import harness as H
from conftest import LOGOFF, USER1, run_logoff

EVIL_HOST = b"evil\xff\xfe\x1b[31mred\x9b2J"
EVIL_CLEAN = "evil\\xff\\xfe\\x1b[31mred\\x9b2J"
# What reverse DNS may answer (here /etc/hosts): sshd checks that the name
# maps back to the address, not what bytes it holds.
EVIL_DNS = b"evil\xff\xfe\x1b[31mred.example"
EVIL_DNS_CLEAN = "evil\\xff\\xfe\\x1b[31mred.example"


def raw_logoff(*args):
    """logoff with its output as bytes: nothing is decoded for it."""
    return subprocess.run([LOGOFF, *args], capture_output=True, timeout=60, env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"},
                          stdin=subprocess.DEVNULL)


def assert_clean(out: bytes):
    text = out.decode("utf-8")  # strict: invalid UTF-8 fails here
    bad = [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")]
    assert bad == [], text


def columns(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def assert_host_shown_clean(sid, clean):
    """The table, JSON and /v (which logs session sid off) show its remote
    host as clean, and nothing in them drives a terminal or breaks JSON."""
    cp = raw_logoff("--list")
    assert cp.returncode == 0, cp.stderr
    assert_clean(cp.stdout)
    assert clean.encode() in cp.stdout, cp.stdout
    cp = raw_logoff("--list", "--json")
    assert cp.returncode == 0
    assert_clean(cp.stdout)
    rows = {r["id"]: r for r in json.loads(cp.stdout.decode("utf-8"))["sessions"]}
    assert rows[str(sid)]["remote_host"] == clean, rows[str(sid)]
    cp = raw_logoff(str(sid), "/v")
    assert cp.returncode == 0, cp.stderr
    assert_clean(cp.stdout + cp.stderr)
    assert f"from {clean}".encode() in cp.stdout, cp.stdout


def test_hostile_host_name_is_clean_in_table_json_and_verbose(mksession):
    s = mksession("sleep", "100000", user=USER1, opts=["-H", os.fsdecode(EVIL_HOST)])
    assert_host_shown_clean(s.sid, EVIL_CLEAN)


def test_wide_names_line_up_by_display_columns(mksession):
    wide = mksession("sleep", "100000", user=USER1, opts=["-N", "-D", ":한글"])
    plain = mksession("sleep", "100000", user=USER1, opts=["-N", "-D", ":32"])
    cp = run_logoff("--list")
    assert cp.returncode == 0, cp.stderr
    lines = {ln.split()[2]: ln for ln in cp.stdout.splitlines()[1:] if len(ln.split()) > 2}
    a, b = lines[str(wide.sid)], lines[str(plain.sid)]
    assert a.split()[0] == ":한글", a
    # USERNAME starts at the same column on both lines, and so does ID's end.
    assert columns(a[:a.index(USER1)]) == columns(b[:b.index(USER1)]), (a, b)
    assert columns(a[:a.index(str(wide.sid)) + len(str(wide.sid))]) == \
        columns(b[:b.index(str(plain.sid)) + len(str(plain.sid))]), (a, b)


@pytest.fixture
def hostile_reverse_dns():
    """127.0.0.2 resolves to EVIL_DNS through /etc/hosts, until the test ends."""
    hosts = Path("/etc/hosts")
    saved = hosts.read_bytes()
    hosts.write_bytes(saved + (b"" if saved.endswith(b"\n") else b"\n") + b"127.0.0.2 " + EVIL_DNS + b"\n")
    try:
        yield
    finally:
        hosts.write_bytes(saved)


def test_a_hostile_reverse_dns_name_from_a_real_sshd_is_clean(users, tmp_path, hostile_reverse_dns):
    server = H.Sshd(tmp_path / "sshd", use_dns=True, client_bind="127.0.0.2")
    server.start()
    try:
        s = server.login(users[USER1])
        # sshd wrote the name as DNS gave it, escape and invalid bytes too.
        assert "\x1b[31m" in s.utmp.host and s.utmp.host.startswith("evil"), s.utmp
        assert_host_shown_clean(s.sid, EVIL_DNS_CLEAN)
    finally:
        for session in list(server.sessions):
            session.cleanup()
        server.stop()


def test_a_cgroup_path_in_v_is_shown_clean(mksession):
    """A cgroup's name is text from outside (whoever may create cgroups names
    them): /v shows the session's own cgroup, the one it writes cgroup.kill
    of, escaped like every other outside string (issue 13, point 9)."""
    mnt = [l.split()[4] for l in Path("/proc/self/mountinfo").read_text().splitlines() if " - cgroup2 " in l]
    assert mnt, "cgroup v2 must be mounted"
    name = f"logoff-test-{os.getpid()}-\x1b[31mred\u202e"
    cg = Path(mnt[0]) / name
    s = mksession("sh", "-c", "trap '' HUP TERM; sleep 100000 & exec sleep 100001", user=USER1, opts=["-R"])
    cg.mkdir()
    try:
        H.wait_until(lambda: len(s.pids()) == 3, 10, what="the session's sleeps")
        for pid in s.pids():
            (cg / "cgroup.procs").write_text(str(pid))
        cp = raw_logoff(str(s.sid), "/v", "--timeout=0.2")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert_clean(cp.stdout)
        assert f"Wrote cgroup.kill of {mnt[0]}/logoff-test-{os.getpid()}-\\x1b[31mred\\xe2\\x80\\xae".encode() \
            in cp.stdout, cp.stdout
        assert s.pids() == []
    finally:
        H.kill_session(s.sid)
        H.wait_until(lambda: not (cg / "cgroup.procs").read_text().split(), 10, what="cgroup empty")
        cg.rmdir()

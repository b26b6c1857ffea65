"""Command line: help, version, and every bad input refused with nothing signalled."""

import os

import pytest

import harness as H
from conftest import run_logoff, signal_logger


def test_help_in_reference_syntax():
    for switch in ("/?", "-?", "-h", "--help", "/HELP"):
        cp = run_logoff(switch)
        assert cp.returncode == 0 and cp.stderr == ""
        assert "logoff [<sessionname> | <sessionID>] [/server:<servername>] [/v]" in cp.stdout
        assert "--output=<cols>" in cp.stdout and "--noheadings" in cp.stdout and "--raw" in cp.stdout
        assert max(len(line) for line in cp.stdout.splitlines()) <= 80
        if switch.lower().endswith("help"):
            # util-linux's --help: every column, with what it says.
            assert "Available output columns" in cp.stdout
            for name in ("SESSIONNAME", "IDLE", "LOGON-TIME", "PROCESSES", "BACKEND", "CLASS", "SERVICE",
                         "LEADER", "MEMBERSHIP"):
                assert f" {name}  " in cp.stdout, name
        else:
            assert len(cp.stdout.splitlines()) <= 24  # fits a screen


def test_version():
    cp = run_logoff("--version")
    assert cp.returncode == 0 and cp.stdout.startswith("logoff ")


BAD = [
    (["/x"], "unknown switch '/x'"),
    (["/verbosely"], "unknown switch '/verbosely'"),
    (["--bogus"], "unknown switch '--bogus'"),
    (["-"], "unknown switch '-'"),
    (["-5"], "unknown switch '-5'"),
    (["/v:1"], "unknown switch '/v:1'"),
    (["1", "2"], "only one session may be named, got '1' and '2'"),
    (["pts/1", "pts/2"], "only one session may be named"),
    (["/server:"], "'/server:' needs a server name"),
    (["--server="], "needs a server name"),
    (["/server"], "'/server' needs a value"),
    (["/server:-oProxyCommand=touch /tmp/pwned"], "invalid server name"),
    (["--server=-F/etc/passwd"], "invalid server name '-F/etc/passwd'"),
    (["/server:a;b"], "invalid server name 'a;b'"),
    (["/server:a", "/server:b"], "only one server may be given"),
    (["4294967296"], "session ID '4294967296' is out of range"),
    (["--backend=bogus"], "unknown backend 'bogus' (auto, logind or kernel)"),
    (["--backend="], "unknown backend ''"),
    (["/backend:systemd", "1"], "unknown backend 'systemd'"),
    (["--backend"], "'--backend' needs a value"),
    (["4294967295"], "out of range"),
    (["123456789012345678901234567890"], "out of range"),
    (["pts/1\x1b[2J"], "invalid session name 'pts/1?[2J'"),
    (["tty1\n"], "invalid session name"),
    ([""], "invalid session name"),
    (["--timeout=soon", "1"], "invalid timeout 'soon'"),
    (["-t"], "'-t' needs a value"),
    (["--json", "1"], "--json goes with --list"),
    (["--list", "--output=ID,NOPE"], "unknown column 'NOPE' in 'ID,NOPE'"),
    (["--list", "-o", "user"], "unknown column 'user'"),
    (["--list", "--output="], "unknown column '' in ''"),
    (["--list", "--output=ID,"], "unknown column '' in 'ID,'"),
    (["--list", "-o", "ID\x1b[2J"], "unknown column 'ID?[2J'"),
    (["--list", "--output=ID,USERNAME,id"], "column 'id' is given twice in 'ID,USERNAME,id'"),
    (["--list", "--output=+ID"], "column 'ID' is given twice"),
    (["--list", "-o", "ID", "-o", "USERNAME"], "--output may be given once"),
    (["--list", "--output"], "'--output' needs a value"),
    (["--output=ID"], "'--output=ID' goes with --list"),
    (["--raw", "1"], "'--raw' goes with --list"),
    (["--noheadings"], "'--noheadings' goes with --list"),
    (["--list", "--json", "--raw"], "--json has no '--raw'"),
    (["--list", "--json", "--noheadings"], "--json has no '--noheadings'"),
    (["--list", "--raw=1"], "unknown switch '--raw=1'"),
    # Selections.  Each with --dry-run: were one taken, it would signal nothing.
    (["--user=", "-n"], "invalid user list in '--user=': names or UIDs"),
    (["--user=a,,b", "-n"], "invalid user list in '--user=a,,b'"),
    (["--user=a,", "-n"], "invalid user list in '--user=a,'"),
    (["--user=x\x1b[2J", "-n"], "invalid user list in '--user=x?[2J'"),
    (["-n", "--user"], "'--user' needs a value"),
    (["--user=a", "--user=b", "-n"], "'--user=b' may be given once"),
    (["--idle=soon", "-n"], "invalid idle time 'soon' (seconds, or with s, m, h or d; at most 365 d)"),
    (["--idle=366d", "-n"], "invalid idle time '366d'"),
    (["--idle=-1", "-n"], "invalid idle time '-1'"),
    (["--idle=1h5", "-n"], "invalid idle time '1h5'"),
    (["--idle=", "-n"], "invalid idle time ''"),
    (["--idle=99999999999999999999", "-n"], "invalid idle time"),
    (["--idle=1h", "--idle=2h", "-n"], "'--idle=2h' may be given once"),
    (["--state=idle", "-n"], "invalid state 'idle' (active or disc)"),
    (["--state=", "-n"], "invalid state ''"),
    (["--state=disc", "--state=active", "-n"], "'--state=active' may be given once"),
    (["--type=rdp,bogus", "-n"], "unknown session type 'bogus' in 'rdp,bogus' (tty, x11,"),
    (["--type=", "-n"], "unknown session type '' in ''"),
    (["--all", "--all", "-n"], "'--all' may be given once"),
    (["--all=1", "-n"], "unknown switch '--all=1'"),
    (["1", "--user=a", "-n"], "'1' names one session: it does not go with --user, --idle, --state, --type or --all"),
    (["--all", "pts/1", "-n"], "'pts/1' names one session"),
    (["--all", "--idle=1x", "-n"], "invalid idle time '1x'"),
    (["--user=root", "/server:a;b", "-n"], "invalid server name 'a;b'"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[repr(a) for a, _ in BAD])
def test_bad_input_refused_and_nothing_signalled(mksession, tmp_path, args, message):
    log = tmp_path / "signals"
    victim = mksession(*signal_logger(log), ready="sleep")
    before = victim.pids()
    cp = run_logoff(*args)
    assert cp.returncode == 2, (cp.returncode, cp.stderr)
    assert cp.stdout == ""
    assert "Invalid parameter(s)" in cp.stderr
    assert message in cp.stderr
    if message.startswith("unknown switch"):
        assert "Usage:" in cp.stderr
    assert not os.path.exists("/tmp/pwned")
    assert set(before) <= set(victim.pids())
    assert not log.exists(), log.read_text()


def test_unknown_session_refused_and_nothing_signalled(mksession, tmp_path):
    log = tmp_path / "signals"
    victim = mksession(*signal_logger(log), ready="sleep")
    for args, message in ((["pts/98765"], "no session named 'pts/98765'"),
                          (["/dev/tty63"], "no session named '/dev/tty63'"),
                          (["4294967294"], "no session with ID 4294967294"),
                          (["nosuch", "/v"], "no session named 'nosuch'")):
        cp = run_logoff(*args)
        assert cp.returncode == 3 and message in cp.stderr, cp.stderr
        assert cp.stdout == ""
    assert victim.alive() and not log.exists()


def test_no_argument_outside_any_session():
    # The test runner has no audit session in CI; logoff must say so, not guess.
    assert H.proc_sessionid(os.getpid()) == H.UNSET_SESSIONID, \
        "run the tests from a process outside any login session"
    cp = run_logoff()
    assert cp.returncode == 3 and "not in a login session" in cp.stderr


def test_auto_backend_without_logind_falls_back_and_says_so_under_v(mksession):
    """This machine runs no logind: auto uses the audit sessions, and /v says why."""
    s = mksession("sleep", "100000", user="lotest1")
    quiet = run_logoff("--list")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    loud = run_logoff("--list", "/v")
    assert loud.returncode == 0, loud.stderr
    assert "warning: no logind here" in loud.stderr and "using the kernel's audit sessions" in loud.stderr
    assert loud.stdout == quiet.stdout
    for choice in ("--backend=kernel", "--backend=KERNEL", "/backend:auto"):
        cp = run_logoff("--list", "--json", choice)
        assert cp.returncode == 0, (choice, cp.stderr)
        assert f'"id":"{s.sid}"' in cp.stdout and '"backend":"kernel"' in cp.stdout, choice


def test_logind_backend_without_logind_is_an_error(mksession, tmp_path):
    log = tmp_path / "signals"
    s = mksession(*signal_logger(log), user="lotest1", ready="sleep")
    for args in (["--list", "--backend=logind"], [str(s.sid), "--backend=logind"]):
        cp = run_logoff(*args)
        assert cp.returncode == 1, cp.stderr
        assert "cannot reach logind" in cp.stderr and cp.stdout == ""
    assert s.alive() and not log.exists()

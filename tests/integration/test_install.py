"""What meson install puts in place: the binary, logoff(1), bash completion."""

import os
import shutil
import subprocess
from pathlib import Path

from conftest import BUILD, LOGOFF, USER1

SOURCE = Path(__file__).resolve().parents[2]


def test_meson_install(tmp_path):
    cp = subprocess.run(["meson", "install", "-C", str(BUILD), "--destdir", str(tmp_path), "--no-rebuild"],
                        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    installed = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert any(p.endswith("/bin/logoff") for p in installed), installed
    assert any(p.endswith("/man/man1/logoff.1") for p in installed), installed
    assert any(p.endswith("/bash-completion/completions/logoff") for p in installed), installed
    assert any(p.endswith("/zsh/vendor-completions/_logoff") for p in installed), installed


def test_man_page_has_examples_and_exit_status():
    man = (SOURCE / "man" / "logoff.1").read_text()
    for section in (".SH SYNOPSIS", ".SH OPTIONS", ".SH EXIT STATUS", ".SH EXAMPLES", ".SH SEE ALSO"):
        assert section in man
    for code in range(8):
        assert f".B {code}\n" in man


def complete(words, env=None):
    script = (f"source {SOURCE}/completion/logoff.bash; COMP_WORDS=({words}); "
              "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _logoff; printf '%s\\n' \"${COMPREPLY[@]}\"")
    e = dict(os.environ, PATH=f"{os.path.dirname(LOGOFF)}:{os.environ['PATH']}")
    cp = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, env=e)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.split()


def test_completion_of_switches():
    assert "--server=" in complete("logoff --se")
    assert complete("logoff /v") == ["/v"]


def test_completion_of_columns():
    assert complete("logoff --list --output=US") == ["--output=USERNAME"]
    assert complete("logoff --list --output=id,PRO") == ["--output=id,PROCESSES"]
    assert complete("logoff --list -o +IDLE,log") == ["+IDLE,LOGON-TIME", "+IDLE,LOGON-USEC"]
    assert "MEMBERSHIP" in complete("logoff --list -o ''")
    assert complete("logoff --backend=l") == ["--backend=logind"]


def test_completion_of_selections():
    assert {"--user=", "--idle=", "--state=", "--type=", "--all"} <= set(complete("logoff --"))
    assert complete("logoff --state=d") == ["--state=disc"]
    assert complete("logoff --state ''") == ["active", "disc"]
    assert complete("logoff --type=r") == ["--type=rdp"]
    assert complete("logoff --type=tty,x") == ["--type=tty,x11", "--type=tty,x2go"]
    assert complete("logoff --type w") == ["wayland", "web"]
    assert complete("logoff --idle=") == []
    assert complete("logoff --idle ''") == []


def test_completion_of_users(mksession):
    """--user= offers the users that have sessions (not the other test
    user, who has none), in a comma list too."""
    mksession("sleep", "100000", user=USER1)
    assert complete(f"logoff --user={USER1[:-1]}") == [f"--user={USER1}"]
    assert f"--user=root,{USER1}" in complete(f"logoff --user=root,{USER1[:-1]}")
    assert USER1 in complete(f"logoff --user {USER1[:-1]}")


def test_completion_of_users_without_sessions(tmp_path):
    """With no session to show (here: a logoff that lists none), --user=
    offers the host's users."""
    fake = tmp_path / "logoff"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    script = (f"source {SOURCE}/completion/logoff.bash; COMP_WORDS=(logoff --user=roo); COMP_CWORD=1; _logoff; "
              "printf '%s\\n' \"${COMPREPLY[@]}\"")
    cp = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30,
                        env=dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}"))
    assert cp.returncode == 0, cp.stderr
    assert "--user=root" in cp.stdout.split(), cp.stdout


def test_zsh_completion_parses():
    """zsh is not on every machine: its script is read by zsh -n where zsh is,
    and always by a check of the names it completes."""
    text = (SOURCE / "completion" / "_logoff").read_text()
    assert text.startswith("#compdef logoff")
    for switch in ("--output=", "--noheadings", "--raw", "--json", "--list", "--dry-run", "--warn=", "--backend=",
                   "--user=", "--idle=", "--state=", "--type=", "--all"):
        assert switch in text, switch
    zsh = shutil.which("zsh")
    assert zsh, "tests/run.sh installs zsh"
    cp = subprocess.run([zsh, "-n", str(SOURCE / "completion" / "_logoff")], capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr


def test_completion_of_sessions(mksession):
    s = mksession("sleep", "100000", user=USER1)
    assert s.tty in complete("logoff pts/")
    assert str(s.sid) in complete(f"logoff {str(s.sid)[:1]}")


def test_completion_of_a_session_without_name(mksession):
    s = mksession("sleep", "100000", user=USER1, opts=["-N", "-U", "-H", "192.0.2.3"])
    words = complete("logoff ''")
    assert str(s.sid) in words and USER1 not in words


def test_man_page_renders_clean():
    """No stray control characters (a "\\f" font escape once became a form
    feed), and groff has nothing to warn about."""
    raw = (SOURCE / "man" / "logoff.1").read_bytes()
    bad = [i for i, b in enumerate(raw) if b < 0x20 and b not in (0x0a, 0x09)]
    assert bad == [], raw[max(0, bad[0] - 40):bad[0] + 10] if bad else ""
    cp = subprocess.run(["groff", "-man", "-ww", "-z", str(SOURCE / "man" / "logoff.1")], capture_output=True,
                        text=True, timeout=30)
    assert cp.returncode == 0 and cp.stderr == "", cp.stderr
    text = subprocess.run(["groff", "-man", "-Tutf8", "-rHY=0", "-rLL=300n", "-P-c", "-P-b", "-P-u",
                           str(SOURCE / "man" / "logoff.1")], capture_output=True, text=True, timeout=30).stdout
    text = " ".join(text.split())
    assert "(user@UID.service)" in text and "(TerminateSession)" in text, text[:3000]
    assert 'select(.user == "alice")' in text

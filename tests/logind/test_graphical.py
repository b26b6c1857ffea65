"""A graphical session on a logind host ends in its server's order (issue 14,
point 1): its user's processes get SIGTERM first and SIGHUP only after, its
root helper is left to exit by itself, and logind is asked to terminate the
session only then.  logind's own stop sends SIGTERM and SIGHUP to the whole
scope at once, and xrdp-chansrv dies of that SIGHUP before it unmounts its
FUSE drive; asking logind first undid the graphical order on exactly the
hosts people run.

The session is a real logind session of type x11 with a scope of its own
(``su -l`` with ``XDG_SESSION_TYPE=x11``, which pam_systemd/pam_elogind
take): su stays in it as root, the way xrdp-sesman's session child does, and
the user's program behaves as xrdp-chansrv: SIGHUP kills it at once, SIGTERM
lets it clean up first (here: writes a file a moment later).

Where only logind's yes lets the caller end the session (bob's cap_kill copy
against alice's), polkit is asked first what logind would ask it: a no
signals nothing; a polkit rule that says yes lets it go on in the same order.
"""

import os
import shlex
import shutil
import subprocess
import time

import pytest

import hosts as HS
from conftest import assert_sanitizer_clean, logoff

CLEANED = "/tmp/lo-graphical-cleaned"
# chansrv's shape: SIGHUP's default action ends it at once; on SIGTERM it
# cleans up (0.3 s), then exits.
CLEANER = (f"trap 'sleep 0.3; echo cleaned > {CLEANED}; exit 0' TERM; "
           "echo $$ > /tmp/lo-graphical-pid; sleep 100043 & wait; sleep 100044 & wait")
RULE = "/etc/polkit-1/rules.d/10-logoff-test-bob.rules"


def start_x11_session(h, user="alice"):
    """A logind session of type x11 with a scope of its own; (id, the
    cleaner's pid, su's pid)."""
    h.run(["rm", "-f", CLEANED, "/tmp/lo-graphical-pid"])
    before = set(h.session_ids())
    h.sh(f"XDG_SESSION_TYPE=x11 XDG_SESSION_CLASS=user setsid -f su -l {user} -c {shlex.quote(CLEANER)} "
         "</dev/null >/dev/null 2>&1")
    rows = HS.wait_until(lambda: [r for r in h.loginctl_sessions() if r["user"] == user and r["session"] not in before],
                         20, what=f"{user}'s x11 session on {h.name}")
    sid = rows[0]["session"]
    assert h.session_prop(sid, "Type") == "x11", h.session_prop(sid, "Type")
    pid = int(HS.wait_until(lambda: h.run(["cat", "/tmp/lo-graphical-pid"], check=False).stdout.strip(), 10,
                            what="the cleaner's pid"))
    su = h.run(["pgrep", "-x", "su"], check=False).stdout.split()
    assert len(su) == 1, h.ps()
    return sid, pid, int(su[0])


def cleaned(h):
    return h.run(["cat", CLEANED], check=False).stdout.strip() == "cleaned"


@pytest.fixture
def cap_kill_logoff(host):
    inside = host.logoff + "-capkill"
    dst = host.root / inside.lstrip("/")
    shutil.copyfile(host.root / host.logoff.lstrip("/"), dst)
    os.chmod(dst, 0o755)
    subprocess.run(["setcap", "cap_kill+ep", str(dst)], check=True)
    yield inside
    dst.unlink(missing_ok=True)


@pytest.fixture
def polkit_rule(host):
    """polkit_rule(text) puts a rules file in the host, removed after."""
    path = host.root / RULE.lstrip("/")

    def put(text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        # polkitd rereads its rules when the folder changes; give it a moment.
        time.sleep(1.5)
    yield put
    path.unlink(missing_ok=True)


def test_sigterm_first_helper_left_then_logind(host):
    h = host
    sid, pid, su = start_x11_session(h)
    cp = logoff(h, sid, "/v")
    out = cp.stdout + cp.stderr
    assert_sanitizer_clean(cp)
    assert cp.returncode == 0, out
    # chansrv's cleanup ran: SIGHUP did not come with SIGTERM.
    assert cleaned(h), f"the program was killed before it cleaned up\n{out}"
    assert "Sent SIGTERM and SIGCONT to" in out, out
    assert "Left 1 root helper of the session to exit by itself once the user's processes were gone: 1 did" in out, out
    assert f"Asked logind to terminate session {sid} once its processes were gone" in out, out
    assert out.index("Sent SIGTERM and SIGCONT") < out.index("Asked logind to terminate"), out
    assert f"Asked logind to terminate session {sid}\n" not in out, out
    h.wait_session_gone(sid, 10)
    # What is left of alice's is her user manager, which is no session's.
    assert pid not in h.pids_of_user("alice") and su not in h.pids_of_user("root"), h.ps()


def test_dry_run_names_the_graphical_order(host):
    h = host
    sid, pid, su = start_x11_session(h)
    cp = logoff(h, sid, "--dry-run")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "SIGTERM and SIGCONT, SIGHUP after, then SIGKILL" in cp.stdout, cp.stdout
    assert "would then ask logind to terminate it, to finish what is left" in cp.stdout, cp.stdout
    assert "would ask logind to terminate it first" not in cp.stdout, cp.stdout
    assert not cleaned(h) and pid in h.pids_of_user("alice"), (pid, h.ps(), cp.stdout)


def test_polkit_says_no_nothing_is_signalled(host, cap_kill_logoff):
    h = host
    sid, pid, su = start_x11_session(h)
    before = sorted(h.pids_of_user("alice"))
    cp = h.ssh("bob", f"LC_ALL=C {cap_kill_logoff} {sid} /v", check=False)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 4, out
    assert "Access is denied: polkit" in out, out
    assert "org.freedesktop.login1.manage" in out, out
    time.sleep(0.5)
    assert sorted(h.pids_of_user("alice")) == before, h.ps("alice")
    assert not cleaned(h)
    assert sid in h.session_ids()


def test_polkit_says_yes_the_graphical_order_holds(host, cap_kill_logoff, polkit_rule):
    h = host
    polkit_rule('polkit.addRule(function(action, subject) {\n'
                '  if (action.id == "org.freedesktop.login1.manage" && subject.user == "bob")\n'
                '    return polkit.Result.YES;\n'
                '});\n')
    sid, pid, su = start_x11_session(h)
    cp = h.ssh("bob", f"LC_ALL=C {cap_kill_logoff} {sid} /v", check=False)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 0, out
    assert "polkit authorizes org.freedesktop.login1.manage for this caller" in out, out
    assert cleaned(h), out
    assert f"Asked logind to terminate session {sid} once its processes were gone" in out, out
    h.wait_session_gone(sid, 10)

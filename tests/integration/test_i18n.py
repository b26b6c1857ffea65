"""Messages in English and Korean (gettext), from the catalog meson installs.

logoff reads its catalogs from the LOCALEDIR compiled into it (the build's
prefix/localedir, /usr/local/share/locale by default).  The host's LOCALEDIR
is never written to: the build is installed into a temporary DESTDIR, and
logoff runs in a private mount namespace where the installed locale directory
is bind-mounted over LOCALEDIR.  Only an empty LOCALEDIR is made if the host
lacks it (and removed again afterwards).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD, LOGOFF

SOURCE = Path(__file__).resolve().parents[2]
DOMAIN = "logoff"
USAGE = "logoff [<sessionname> | <sessionID>] [/server:<servername>] [/v]"
HANGUL = re.compile("[\uac00-\ud7a3]")


def mountpoints():
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4] for line in f}


def compiled_localedir():
    cp = subprocess.run(["meson", "introspect", str(BUILD), "--buildoptions"], capture_output=True, text=True,
                        timeout=60)
    assert cp.returncode == 0, cp.stderr
    opts = {o["name"]: o["value"] for o in json.loads(cp.stdout)}
    return os.path.join(opts["prefix"], opts["localedir"])


@pytest.fixture(scope="module")
def korean_locale():
    cp = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=30)
    names = {n.lower().replace("-", "") for n in cp.stdout.split()}
    if "ko_kr.utf8" not in names:
        pytest.fail("the ko_KR.UTF-8 locale is missing (locale -a lists: " + " ".join(sorted(cp.stdout.split()))
                    + "): install Debian's locales package and run "
                    "`localedef -i ko_KR -f UTF-8 ko_KR.UTF-8` (tests/run.sh does both)", pytrace=False)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, korean_locale):
    """(LOCALEDIR, the installed locale directory to mount over it)."""
    localedir = compiled_localedir()
    destdir = tmp_path_factory.mktemp("destdir")
    cp = subprocess.run(["meson", "install", "-C", str(BUILD), "--destdir", str(destdir), "--no-rebuild"],
                        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    installed = destdir / localedir.lstrip("/")
    mo = installed / "ko" / "LC_MESSAGES" / f"{DOMAIN}.mo"
    assert mo.is_file(), (f"meson install put no Korean catalog at {mo}: is ko in po/LINGUAS, and was {BUILD} "
                          "configured after it was added (meson setup --reconfigure)?")

    made = []
    p = Path(localedir)
    while not p.exists():
        made.append(p)
        p = p.parent
    for d in reversed(made):
        d.mkdir()
    before = mountpoints()
    yield localedir, installed
    assert mountpoints() == before, "the bind mount of the catalog leaked out of its mount namespace"
    for d in made:
        try:
            d.rmdir()
        except OSError:
            break


def run(catalog, lang, *args, lc_all=True):
    """logoff *args with the installed catalogs, LANG=lang (and LC_ALL=lang)."""
    localedir, installed = catalog
    env = {k: v for k, v in os.environ.items() if not (k.startswith("LC_") or k in ("LANG", "LANGUAGE"))}
    env["LANG"] = lang
    if lc_all:
        env["LC_ALL"] = lang
    script = ('mount --bind "$2" "$1" || { echo "test_i18n: cannot bind-mount $2 on $1" >&2; exit 125; }; '
              'shift 2; exec "$@"')
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", localedir, str(installed),
            LOGOFF, *args]
    cp = subprocess.run(argv, capture_output=True, encoding="utf-8", errors="replace", timeout=60, env=env,
                        stdin=subprocess.DEVNULL)
    assert cp.returncode != 125, cp.stderr
    return cp


KO = "ko_KR.UTF-8"


def test_catalog_is_complete(tmp_path):
    """Every message of the current sources has a Korean translation, none fuzzy."""
    files = [f for f in (SOURCE / "po" / "POTFILES").read_text().split() if not f.startswith("#")]
    pot = tmp_path / f"{DOMAIN}.pot"
    cp = subprocess.run(["xgettext", "--keyword=_", "--keyword=N_", "--from-code=UTF-8", "--language=C",
                         f"--directory={SOURCE}", f"--output={pot}", *files],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    merged = tmp_path / "ko.po"
    cp = subprocess.run(["msgmerge", "--quiet", "--no-fuzzy-matching", f"--output-file={merged}",
                         str(SOURCE / "po" / "ko.po"), str(pot)], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    cp = subprocess.run(["msgfmt", "--check", "--statistics", "--output-file=/dev/null", str(merged)],
                        capture_output=True, text=True, timeout=60, env=dict(os.environ, LC_ALL="C"))
    assert cp.returncode == 0, cp.stderr
    assert "untranslated" not in cp.stderr and "fuzzy" not in cp.stderr, \
        f"po/ko.po is not complete for the current sources: {cp.stderr.strip()}"


def test_unknown_switch_in_korean(catalog):
    cp = run(catalog, KO, "/bogus")
    assert cp.returncode == 2, cp.stderr
    assert cp.stdout == ""
    lines = cp.stderr.splitlines()
    assert lines[0] == "매개 변수가 잘못되었습니다.", cp.stderr
    assert "logoff: 알 수 없는 스위치 '/bogus'" in lines, cp.stderr
    assert "사용법:" in lines and f" {USAGE}" in lines, cp.stderr
    assert "Invalid parameter(s)" not in cp.stderr and "unknown switch" not in cp.stderr


def test_korean_from_lang_alone(catalog):
    """The usual setup: only LANG is set."""
    cp = run(catalog, KO, "--bogus", lc_all=False)
    assert cp.returncode == 2
    assert cp.stderr.splitlines()[0] == "매개 변수가 잘못되었습니다.", cp.stderr


def test_no_such_session_in_korean(catalog):
    cp = run(catalog, KO, "4294967294")
    assert cp.returncode == 3, cp.stderr
    assert cp.stderr == "logoff: ID가 4294967294인 세션이 없습니다\n"


def test_help_in_korean(catalog):
    cp = run(catalog, KO, "/?")
    assert cp.returncode == 0 and cp.stderr == ""
    lines = cp.stdout.splitlines()
    assert lines[0] == "사용법:"
    assert f" {USAGE}" in lines  # the reference syntax is never translated
    assert "옵션:" in lines
    assert any(line.startswith(" /v, --verbose ") and HANGUL.search(line) for line in lines), cp.stdout
    assert any("logoff(1)" in line and HANGUL.search(line) for line in lines), cp.stdout
    assert "Usage:" not in cp.stdout and "Options:" not in cp.stdout
    assert len(lines) <= 24  # fits a screen, as the English help does

    # --help adds the columns, each described in Korean, named as --output takes them.
    cp = run(catalog, KO, "--help")
    assert cp.returncode == 0 and cp.stderr == ""
    rows = [line for line in cp.stdout.splitlines() if line.startswith("        IDLE  ")]
    assert len(rows) == 1 and "quser(1)" in rows[0] and HANGUL.search(rows[0]), cp.stdout
    assert "Available output columns" not in cp.stdout


@pytest.mark.parametrize("lang", ["C", "C.UTF-8"])
def test_english_without_a_korean_locale(catalog, lang):
    """The same commands, with the Korean catalog installed, in English."""
    cp = run(catalog, lang, "/bogus")
    assert cp.returncode == 2
    lines = cp.stderr.splitlines()
    assert lines[0] == "Invalid parameter(s)"
    assert "logoff: unknown switch '/bogus'" in lines and "Usage:" in lines and f" {USAGE}" in lines

    cp = run(catalog, lang, "4294967294")
    assert cp.returncode == 3
    assert cp.stderr == "logoff: no session with ID 4294967294\n"

    cp = run(catalog, lang, "/?")
    assert cp.returncode == 0
    assert cp.stdout.startswith("Usage:\n") and f" {USAGE}\n" in cp.stdout and "\nOptions:\n" in cp.stdout

    cp = run(catalog, lang, "/?", lc_all=False)
    assert not HANGUL.search(cp.stdout)


#!/usr/bin/env bash
# Every test of logoff, on a fresh Debian machine, as root: installs what the
# tests need, builds twice (plain and with ASan+UBSan, -Werror), runs the unit
# tests under both and the integration tests (real sessions: tests/mksession,
# a private sshd, a network namespace) against both builds, and the logind
# tests (tests/logind: a real systemd-logind in a systemd-nspawn container and a
# real elogind in private namespaces, built once with debootstrap and cached
# under /var/tmp/logoff-hosts), the remote desktop tests (tests/rdp: real
# xrdp with xfreerdp under Xvfb, X2Go with pyhoca-cli) and the Xfce desktop
# tests (tests/xfce: xrdp + Xfce 4.18 and an xfreerdp client inside a
# systemd-logind container, tests/hosts.py XfceHost) against both builds,
# then the load tests (tests/load) against the optimized one.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
        echo "tests/run.sh: run as root: the tests create real login sessions" >&2
        exit 1
fi

packages=(meson ninja-build gcc libc6-dev pkg-config gettext openssh-server openssh-client
          python3 python3-pytest iproute2 procps util-linux passwd coreutils locales
          debootstrap systemd-container
          xrdp xorgxrdp tigervnc-standalone-server freerdp2-x11 xvfb xterm x11-utils x11-apps xdotool
          netpbm fuse3 x2goserver pyhoca-cli openssl libcap2-bin groff-base libsm-dev libice-dev
          clang libfuzzer-14-dev strace zsh)
missing=()
for p in "${packages[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        # The system sshd must not start; the tests run their own.
        if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
                chmod 755 /usr/sbin/policy-rc.d
                trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        fi
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# tests/integration/test_i18n.py runs logoff in Korean: it needs this locale.
if ! locale -a 2>/dev/null | grep -iE '^ko_KR\.utf-?8$' >/dev/null; then
        localedef -i ko_KR -f UTF-8 ko_KR.UTF-8
fi

builds=(build-ci build-ci-asan)
[ -d build-ci ] || meson setup build-ci --buildtype=debugoptimized
[ -d build-ci-asan ] || meson setup build-ci-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
for b in "${builds[@]}"; do
        ninja -C "$b"
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

unit_ok=0 unit_fail=0
for b in "${builds[@]}"; do
        echo "== unit tests ($b)"
        meson test -C "$b" --print-errorlogs || true
        log="$b/meson-logs/testlog.json"
        ok=$(/usr/bin/python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(x["result"]=="OK" for x in r), sum(x["result"]!="OK" for x in r))' "$log")
        unit_ok=$((unit_ok + ${ok% *}))
        unit_fail=$((unit_fail + ${ok#* }))
done

# The fuzz targets (clang, libFuzzer, ASan+UBSan): every regression input
# once, then FUZZ_SECONDS (default 15) each from the seed corpus, in a
# scratch copy so the tree is not written.  Longer by hand:
#   FUZZ_SECONDS=3600 bash tests/run.sh, or build-fuzz/tests/fuzz-NAME DIR
[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debugoptimized
ninja -C build-fuzz
fuzz_ok=0 fuzz_fail=0
for target in args procfs utmp output backends; do
        echo "== fuzz-$target (${FUZZ_SECONDS:-15} s)"
        scratch=$(mktemp -d)
        regressions=(tests/fuzz/regressions/$target/*)
        ok=1
        if [ -e "${regressions[0]}" ]; then
                "build-fuzz/tests/fuzz-$target" "${regressions[@]}" > "$scratch.log" 2>&1 || ok=0
        fi
        if [ "$ok" = 1 ]; then
                "build-fuzz/tests/fuzz-$target" -max_total_time="${FUZZ_SECONDS:-15}" -print_final_stats=1 \
                        -artifact_prefix="$scratch/" "$scratch" "tests/fuzz/corpus/$target" >> "$scratch.log" 2>&1 || ok=0
        fi
        grep -E '^(stat::number_of_executed_units|SUMMARY|==[0-9]+==ERROR)' "$scratch.log" || true
        if [ "$ok" = 1 ]; then
                fuzz_ok=$((fuzz_ok + 1))
        else
                fuzz_fail=$((fuzz_fail + 1))
                tail -n 40 "$scratch.log"
                ls "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* 2>/dev/null || true
        fi
        rm -rf "$scratch" "$scratch.log"
done

# Runs one pytest directory against a build; prints "passed failed" from its
# junit report, where skips count as failures.
pytest_counts() {
        local dir=$1 b=$2 junit="$2/pytest-$(basename "$1").xml"
        LOGOFF_BUILD="$PWD/$b" /usr/bin/python3 -m pytest -p no:cacheprovider -q --junitxml="$junit" \
                "$dir" >&2 || true
        /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E
s = E.parse(sys.argv[1]).getroot()
s = s if s.tag == "testsuite" else s.find("testsuite")
t, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
print(t - f - e - k, f + e + k)' "$junit"
}

# Each pytest suite against each build: real sessions on this host, real
# logind hosts, real remote desktops, real Xfce desktops on a logind host.
declare -A suite_ok suite_fail
suites=(integration logind rdp xfce)
for suite in "${suites[@]}"; do
        suite_ok[$suite]=0 suite_fail[$suite]=0
        for b in "${builds[@]}"; do
                echo "== $suite tests ($b)"
                counts=$(pytest_counts "tests/$suite" "$b")
                suite_ok[$suite]=$((suite_ok[$suite] + ${counts% *}))
                suite_fail[$suite]=$((suite_fail[$suite] + ${counts#* }))
        done
done

# Load (tests/load): a session of 100,000 processes, a fork storm at a PID
# namespace's pid_max, 1,000 sessions.  Once, against the optimized build:
# what is measured is scale, not memory errors, and it takes minutes.
echo "== load tests (build-ci)"
counts=$(pytest_counts tests/load build-ci)
suites+=(load)
suite_ok[load]=${counts% *} suite_fail[load]=${counts#* }

# Skips count as failures: a test that cannot run here must be fixed, not hidden.
echo "unit test programs: $unit_ok passed, $unit_fail failed"
echo "fuzz targets: $fuzz_ok passed, $fuzz_fail failed"
ok=$((unit_ok + fuzz_ok)) fail=$((unit_fail + fuzz_fail)) all_ran=$((unit_ok > 0 && fuzz_ok > 0))
for suite in "${suites[@]}"; do
        echo "$suite tests: ${suite_ok[$suite]} passed, ${suite_fail[$suite]} failed"
        ok=$((ok + suite_ok[$suite]))
        fail=$((fail + suite_fail[$suite]))
        [ "${suite_ok[$suite]}" -gt 0 ] || all_ran=0
done
echo "tests: $ok passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$all_ran" -eq 1 ]

#!/usr/bin/env bash
# A safe demonstration on a fresh Debian machine, as root: installs the build
# tools, builds logoff, creates a throwaway user with a real login session
# (tests/mksession: audit session, pty, utmp entry) holding a few processes,
# some of which try to escape, lists the sessions, logs the throwaway one off
# verbosely, and shows it is gone.  Nothing else on the host is touched.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
        echo "demo.sh: run as root: it creates a login session" >&2
        exit 1
fi
packages=(meson ninja-build gcc libc6-dev pkg-config gettext passwd util-linux)
missing=()
for p in "${packages[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
[ -d build ] || meson setup build
ninja -C build

[ -e /run/utmp ] || install -m 664 -g utmp /dev/null /run/utmp
user=logoffdemo
created=
if ! id "$user" >/dev/null 2>&1; then
        useradd -m -s /bin/sh "$user"
        created=1
fi
cleanup() { if [ -n "$created" ]; then userdel -r "$user" 2>/dev/null || true; fi; }
trap cleanup EXIT

line=$(build/tests/mksession -u "$user" -H 192.0.2.1 -- sh -c \
        'setsid sleep 100000 & nohup sleep 100001 >/dev/null 2>&1 & trap "" HUP; exec sleep 100002')
sid=${line#sid=}
sid=${sid%% *}
sleep 0.5
echo "== a throwaway session for $user: $line"
echo "== logoff --list"
build/logoff --list
echo "== logoff $sid /v"
build/logoff "$sid" /v
echo "== logoff --list (session $sid is gone)"
build/logoff --list
echo "== who"
who

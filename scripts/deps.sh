#!/usr/bin/env bash
# deps.sh -- install every Debian package edgefleet builds, runs and tests with.
# Idempotent: installs only what is missing, so `make demo` / `make test` stay fast on a second run.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config
            libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libjansson-dev libsqlite3-dev
            libcurl4-openssl-dev libssl-dev libcrypt-dev libssh-dev libpq-dev
            libjs-chart.js)
TEST_PKGS=(libcmocka-dev python3 python3-websockets python3-bcrypt python3-psutil python3-asyncssh curl openssh-server sqlite3 chromium)

want=("${BUILD_PKGS[@]}")
[ "${1:-}" = "--test" ] && want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

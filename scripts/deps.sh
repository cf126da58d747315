#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deps.sh -- install every Debian package edgefleet builds, runs and tests with.
# `--test` adds the test tools (clang: libFuzzer, for make fuzz) and the optional backends'
# clients and servers (PostgreSQL, MariaDB, NATS: the tests start their own on loopback, never the
# system services), libsystemd (sd_notify, optional in other builds) and what `make test-packages`
# checks with (systemd-analyze, man); `--deb` what `make deb` builds the Debian packages with
# (debhelper, lintian, and every optional library, so each package is built the same everywhere);
# `--bench` what bench/ compares against (not started as services: the benches run the binaries
# themselves on loopback ports).
# Idempotent: installs only what is missing, so `make demo` / `make test` stay fast on a second run.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config
            libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libjansson-dev libsqlite3-dev
            libcurl4-openssl-dev libssl-dev libcrypt-dev libssh-dev libpq-dev
            libjs-chart.js curl)
# bench/: the comparison servers and agents, the HTTP load tool, SQLite for the device-log check,
# and for bench/cluster the database servers and NATS (run from tests/helpers on loopback)
BENCH_PKGS=(mosquitto mosquitto-clients wrk zabbix-agent prometheus-node-exporter sqlite3 python3
            postgresql mariadb-server nats-server)
TEST_PKGS=(libcmocka-dev clang python3 python3-websockets python3-bcrypt python3-psutil python3-asyncssh curl openssh-server sqlite3 chromium mosquitto openssl python3-aiosmtpd prometheus-alertmanager prometheus
           libmariadb-dev libnats-dev postgresql mariadb-server nats-server
           libsystemd-dev systemd man-db)
# make deb (debian/control's Build-Depends, plus lintian to check the result)
DEB_PKGS=(debhelper dpkg-dev lintian libpq-dev libmariadb-dev libnats-dev libsystemd-dev)

want=("${BUILD_PKGS[@]}")
[ "${1:-}" = "--test" ] && want+=("${TEST_PKGS[@]}")
[ "${1:-}" = "--deb" ] && want+=("${DEB_PKGS[@]}")
[ "${1:-}" = "--bench" ] && want+=("${BENCH_PKGS[@]}")

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

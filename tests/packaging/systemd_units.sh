#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# systemd_units.sh PACKAGING_BUILD_DIR EDGEFLEETD EDGEFLEET_AGENT -- the units this build
# configured (packaging/systemd/*.service.in) pass `systemd-analyze verify`, with ExecStart
# pointed at the build tree's binaries (verify checks that the program exists; the installed
# units are verified again on the installed programs by `make test-packages`). Prints verify's
# output and edgefleetd.service's `systemd-analyze security` exposure (docs/install.md).
# Exit 77 (skipped) only when systemd-analyze is missing (package systemd; scripts/deps.sh
# --test installs it).
set -uo pipefail
dir=$1 server=$2 agent=$3
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not found (apt-get install systemd, or scripts/deps.sh --test)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for u in edgefleetd edgefleet-agent; do
  bin=$server
  [ "$u" = edgefleet-agent ] && bin=$agent
  sed -E "s|^ExecStart=[^ ]+/$u |ExecStart=$bin |" "$dir/$u.service" > "$tmp/$u.service"
  grep -q "^ExecStart=$bin " "$tmp/$u.service" || { echo "FAIL: no ExecStart of $u in $dir/$u.service"; exit 1; }
done
echo "== systemd-analyze verify edgefleetd.service edgefleet-agent.service ($(systemd-analyze --version | head -n1))"
out=$(cd "$tmp" && systemd-analyze verify --man=no edgefleetd.service edgefleet-agent.service 2>&1)
rc=$?
echo "${out:-(no output: both units are valid)}"
echo "exit status $rc"
[ $rc -eq 0 ] && [ -z "$out" ] || { echo "FAIL: systemd-analyze verify"; exit 1; }
grep -q '^Type=notify$' "$tmp/edgefleetd.service" && echo "edgefleetd.service: Type=notify (built with libsystemd)" ||
  echo "edgefleetd.service: Type=exec (built without libsystemd)"
echo "== systemd-analyze security --offline=yes edgefleetd.service (exposure, 0 best .. 10 worst)"
(cd "$tmp" && systemd-analyze security --offline=yes edgefleetd.service 2>&1 | tail -n 1)
(cd "$tmp" && systemd-analyze security --offline=yes edgefleet-agent.service 2>&1 | tail -n 1)
echo "PASS"

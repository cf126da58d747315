#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-deb-agent.sh ARCH -- the edgefleet-agent of `make deb ARCH=ARCH` (arm64, armhf), taken
# from its packages as a device would install them (dpkg-deb -x of edgefleet-agent and
# libedgefleet0), run under qemu-user against a native edgefleetd (tests/cross/10-agent.py: log
# in, status read back through REST, a custom order, SIGTERM). `make test-deb-agent` runs it
# after `make deb ARCH=...`; the native build $BUILD (default build) provides edgefleetd.
set -euo pipefail
ARCH=${1:?usage: test-deb-agent.sh arm64|armhf}
BUILD=${BUILD:-build}
case "$ARCH" in
  arm64) triplet=aarch64-linux-gnu; qemu=qemu-aarch64 ;;
  armhf) triplet=arm-linux-gnueabihf; qemu=qemu-arm ;;
  *) echo "test-deb-agent: ARCH must be arm64 or armhf" >&2; exit 2 ;;
esac
emu=$(command -v "$qemu-static" || command -v "$qemu" || true)
if [ -z "$emu" ]; then
  echo "test-deb-agent $ARCH: SKIPPED: no $qemu (scripts/cross.sh $ARCH installs it)"
  exit 0
fi
shopt -s nullglob
debs=(dist/edgefleet-agent_*_"$ARCH".deb dist/libedgefleet0_*_"$ARCH".deb)
[ ${#debs[@]} -eq 2 ] || { echo "test-deb-agent: no $ARCH packages in dist/ (make deb ARCH=$ARCH)" >&2; exit 1; }
root=$(mktemp -d /tmp/ef-deb-agent-XXXXXX)
trap 'rm -rf "$root"' EXIT
for d in "${debs[@]}"; do dpkg-deb -x "$d" "$root"; done
agent=$root/usr/sbin/edgefleet-agent # where the package installs it (docs/install.md)
[ -x "$agent" ] || { echo "test-deb-agent: no usr/sbin/edgefleet-agent in the package" >&2; exit 1; }
lib=$(find "$root/usr/lib/$triplet" -name 'libedgefleet.so.*' -type f | head -1)
echo "test-deb-agent $ARCH: $(file -b "$agent" | cut -d, -f1-2) from ${debs[*]}"
# the package's libedgefleet, not one of a build tree: the guest's loader searches LD_LIBRARY_PATH
EF_BUILD=$(realpath "$BUILD") EF_SOURCE=$(pwd) PYTHONPATH=$(pwd)/tests/helpers \
  PYTHONDONTWRITEBYTECODE=1 EF_AGENT="$agent" EF_AGENT_EMULATOR="$emu" EF_CROSSCOMPILING=1 \
  EF_LIBEDGEFLEET="$lib" LD_LIBRARY_PATH="$root/usr/lib/$triplet" \
  python3 -u tests/cross/10-agent.py

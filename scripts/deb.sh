#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deb.sh [ARCH] -- edgefleet's Debian packages (debian/, debhelper) for ARCH (default: this
# machine's, dpkg --print-architecture), built from a copy of this tree in build-deb/ARCH/ (so
# that dpkg-buildpackage writes nothing outside the tree), checked with lintian, and left in
# dist/: edgefleetd, edgefleet-agent, edgefleetctl, libedgefleet0, libedgefleet-dev
# (*_VERSION_ARCH.deb; the *-dbgsym debug symbol packages stay in build-deb/ARCH/). `make deb` runs it after
# `scripts/deps.sh --deb`.
# ARCH arm64 or armhf (not this machine's) is a cross build of what a device runs: libedgefleet0,
# libedgefleet-dev and edgefleet-agent (build profile pkg.edgefleet.edge-only), with what
# scripts/cross.sh installs (the cross toolchain, ARCH's multiarch libraries, qemu-user for the
# man pages) and the toolchain file of docs/cross.md (debian/rules). dpkg-buildpackage -d: its
# Build-Depends check would want libwebsockets-dev:ARCH, which cannot be installed beside the
# native one; cross.sh unpacks it instead.
# JOBS: parallel jobs (default: nproc). LINTIAN=0 skips lintian.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=${1:-$(dpkg --print-architecture)}
JOBS=${JOBS:-$(nproc)}

ver=$(sed -nE 's/^project\(edgefleet VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)
deb_ver=$(dpkg-parsechangelog -S Version)
if [ "$ver" != "$deb_ver" ]; then
  echo "deb: CMakeLists.txt's version is $ver but debian/changelog's is $deb_ver:" \
       "add a changelog entry for $ver (dch -v $ver)" >&2
  exit 1
fi

work=build-deb/$ARCH
src=$work/edgefleet-$ver
rm -rf "$work"
mkdir -p "$src"
# The tree as .gitignore sees it: no build dirs, dist/, var/ or caches.
tar -c --exclude=./.git --exclude='./build*' --exclude=./dist --exclude=./var \
    --exclude=__pycache__ --exclude='*.pyc' --exclude=./node_modules -f - . | tar -x -C "$src"

opts=()
if [ "$ARCH" != "$(dpkg --print-architecture)" ]; then
  case "$ARCH" in
    arm64|armhf) ;;
    *) echo "deb: ARCH=$ARCH: packages are built for this machine or, cross, for arm64 and armhf" >&2
       exit 2 ;;
  esac
  devroot=$(pwd)/build-deb/devroot-$ARCH # kept across builds (cross.sh redoes it when needed)
  scripts/cross.sh "$ARCH" "$devroot"
  export EF_CROSS_DEVROOT=$devroot
  opts=(-d -Ppkg.edgefleet.edge-only)
fi

echo "deb: building edgefleet $ver for $ARCH in $src"
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$JOBS ${DEB_BUILD_OPTIONS:-}" \
   dpkg-buildpackage -b -us -uc -a"$ARCH" "${opts[@]}" >../dpkg-buildpackage.log 2>&1) || {
  tail -n 60 "$work/dpkg-buildpackage.log"
  echo "deb: dpkg-buildpackage failed; the whole log: $work/dpkg-buildpackage.log" >&2
  exit 1
}
echo "deb: built in $(( $(date +%s) - start )) s (log: $work/dpkg-buildpackage.log)"

changes=$work/edgefleet_${ver}_$ARCH.changes
if [ "${LINTIAN:-1}" != 0 ]; then
  # Every tag down to info (I:), and the overridden ones (O:) with the reason of each, which is
  # in debian/PACKAGE.lintian-overrides; errors and warnings that are not overridden fail.
  echo "deb: lintian $(lintian --version | awk '{print $2}') --display-info --show-overrides" \
       "on $(basename "$changes")"
  out=$(lintian --display-info --show-overrides --fail-on none "$changes" 2>&1) ||
    { echo "$out"; echo "deb: lintian failed" >&2; exit 1; }
  out=$(grep -v '^running with root privileges is not recommended!$' <<<"$out" || true)
  echo "${out:-(no tags)}"
  if grep -q '^[EW]: ' <<<"$out"; then
    echo "deb: lintian: errors or warnings above (E:, W:) are not overridden" >&2
    exit 1
  fi
  echo "deb: lintian: no error or warning that is not overridden"
fi

mkdir -p dist
rm -f dist/*_"$ARCH".deb
for deb in "$work"/*_"$ver"_"$ARCH".deb; do
  case $deb in *-dbgsym_*) ;; *) cp "$deb" dist/ ;; esac
done
ls -l dist/*_"$ver"_"$ARCH".deb

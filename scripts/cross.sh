#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cross.sh ARCH -- install what cross-building libedgefleet and edgefleet-agent for ARCH (arm64 or
# armhf) needs, and what runs the result under qemu-user (docs/cross.md): Debian's cross
# toolchain (crossbuild-essential-ARCH), the multiarch -dev packages of the libraries the library
# and the agent link or dlopen() (with ARCH's runtime libraries as their dependencies), cmocka
# for the unit tests, and qemu-user. Debian packages only (apt-get); idempotent: installs only
# what is missing, so a second `make cross` does not touch apt.
#   cross.sh ARCH DEVROOT   install, unpack libwebsockets-dev:ARCH into DEVROOT (below)
#
# libwebsockets-dev is the one -dev package that cannot be installed for two architectures at
# once (Debian 12: its /usr/include/lws_config.h differs between them, in LWS_INSTALL_LIBDIR
# only, so dpkg refuses libwebsockets-dev:ARCH beside the native one that the server build
# needs). Its runtime library (libwebsockets17:ARCH, with the libuv plugin) is installed as
# usual; the -dev package is fetched with `apt-get download` and unpacked into DEVROOT (the cross
# build directory's devroot/), its .pc file pointed at DEVROOT for the headers and at the
# installed ARCH library; cmake/EfCross.cmake puts DEVROOT's pkgconfig directory first.
set -euo pipefail

arch="${1:-}"
devroot="${2:-}"
case "$arch" in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) echo "cross.sh: ARCH must be arm64 or armhf (got '${arch}')" >&2; exit 2 ;;
esac

# Native (build machine) packages: the cross compiler, cmake and pkg-config, qemu-user.
# qemu-user-static: its qemu-aarch64-static / qemu-arm-static need no host libraries; no
# binfmt_misc registration is needed either, ctest starts them through
# CMAKE_CROSSCOMPILING_EMULATOR (cmake/toolchain-ARCH.cmake).
# python3-websockets: tests/helpers/efharness.py, which the arm64 agent's login test runs on.
native=(crossbuild-essential-"$arch" cmake pkg-config make qemu-user-static python3
        python3-websockets)
# Foreign (ARCH) packages, multiarch: what cmake/EfDeps.cmake finds for src/common, src/edge and
# src/agent with EF_EDGE_ONLY=ON. libssh and libcurl are dlopen()ed (src/edge/ssh_lazy.c,
# src/agent/curl_lazy.c): their -dev packages bring the headers, and their runtime libraries,
# which the lazy-loading unit tests load under qemu. libwebsockets-evlib-uv: lws' libuv
# event-loop plugin, which libedgefleet needs at run time; libcap-dev: what libwebsockets.pc
# requires.
foreign=(libc6-dev libwebsockets-evlib-uv libcap-dev libuv1-dev libjansson-dev libssl-dev
         libcrypt-dev libssh-dev libcurl4-openssl-dev libcmocka-dev)

missing=()
for p in "${native[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for p in "${foreign[@]}"; do
  dpkg-query -W -f='${Status}' "$p:$arch" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p:$arch")
done
have_arch=1
dpkg --print-foreign-architectures | grep -qx "$arch" || have_arch=0

[ -n "$devroot" ] || { echo "cross.sh: usage: cross.sh ARCH DEVROOT" >&2; exit 2; }
devroot=$(realpath -m "$devroot") # libwebsockets.pc gets it as its prefix
case "$devroot" in # it is emptied below
  /|/usr|/usr/*|/etc|/etc/*) echo "cross.sh: DEVROOT $devroot: give a directory of the build" >&2; exit 2 ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ] || [ $have_arch = 0 ]; then
  if [ $have_arch = 0 ]; then
    echo "cross: dpkg --add-architecture $arch"
    $SUDO dpkg --add-architecture "$arch"
  fi
  echo "cross: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# libwebsockets-dev:ARCH into DEVROOT, once per version of the installed libwebsockets runtime.
lwsver=$(dpkg-query -W -f='${Version}' "libwebsockets-evlib-uv:$arch")
stamp="$devroot/.libwebsockets-dev-$lwsver"
[ -e "$stamp" ] && exit 0
rm -rf "$devroot"
mkdir -p "$devroot"
echo "cross: unpacking libwebsockets-dev:$arch $lwsver into $devroot"
# apt-get download writes to the current directory; as root it would hand the download to the
# _apt user, who cannot write here: let root do it (APT::Sandbox::User).
(cd "$devroot" && apt-get download -qq -o APT::Sandbox::User=root "libwebsockets-dev:$arch=$lwsver")
dpkg-deb -x "$devroot"/libwebsockets-dev_*_"$arch".deb "$devroot"
rm -f "$devroot"/libwebsockets-dev_*_"$arch".deb
libdir="$devroot/usr/lib/$triplet"
# The link-time name, pointing at ARCH's installed runtime library (the .deb's symlink is relative).
so=$(readlink "$libdir/libwebsockets.so")
[ -e "/usr/lib/$triplet/$so" ] || { echo "cross.sh: /usr/lib/$triplet/$so missing" >&2; exit 1; }
ln -sfn "/usr/lib/$triplet/$so" "$libdir/libwebsockets.so"
rm -f "$libdir/libwebsockets.a"
sed -i -e "s|^prefix=.*|prefix=\"$devroot/usr\"|" "$libdir/pkgconfig/libwebsockets.pc"
touch "$stamp"

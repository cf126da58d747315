# SPDX-License-Identifier: MIT
# toolchain-armhf.cmake -- cross-build for Debian armhf (32-bit ARMv7, hard float) with
# crossbuild-essential-armhf and the multiarch :armhf -dev packages; tests run under qemu-arm.
# See docs/cross.md, or just `make cross ARCH=armhf`.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(EF_CROSS_TRIPLET arm-linux-gnueabihf)
set(EF_CROSS_QEMU qemu-arm)
set(EF_DEB_ARCH armhf) # Debian's name, for packages built from this build (Architecture:)
include(${CMAKE_CURRENT_LIST_DIR}/EfCross.cmake)

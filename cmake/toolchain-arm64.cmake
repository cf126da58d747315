# SPDX-License-Identifier: MIT
# toolchain-arm64.cmake -- cross-build for Debian arm64 (aarch64) with crossbuild-essential-arm64
# and the multiarch :arm64 -dev packages; tests run under qemu-aarch64. See docs/cross.md, or just
# `make cross ARCH=arm64`.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(EF_CROSS_TRIPLET aarch64-linux-gnu)
set(EF_CROSS_QEMU qemu-aarch64)
set(EF_DEB_ARCH arm64) # Debian's name, for packages built from this build (Architecture:)
include(${CMAKE_CURRENT_LIST_DIR}/EfCross.cmake)

# SPDX-License-Identifier: MIT
# EfCross.cmake -- the shared part of cmake/toolchain-ARCH.cmake (docs/cross.md): Debian's cross
# compiler for EF_CROSS_TRIPLET, the multiarch libraries of ARCH through pkg-config, and qemu-user
# as CMAKE_CROSSCOMPILING_EMULATOR, so that ctest runs the cross-built tests.
# The toolchain file sets CMAKE_SYSTEM_PROCESSOR, EF_CROSS_TRIPLET and EF_CROSS_QEMU, then
# includes this. scripts/cross.sh ARCH installs what it names.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${EF_CROSS_TRIPLET}-gcc)
# Debian's multiarch layout: ARCH's headers and libraries live beside the native ones
# (/usr/include/TRIPLET, /usr/lib/TRIPLET), which the cross gcc and ld search by themselves; no
# sysroot. CMake's own find_library looks in /usr/lib/TRIPLET from CMAKE_LIBRARY_ARCHITECTURE,
# which it reads off the compiler.

# pkg-config: ARCH's .pc files only (PKG_CONFIG_LIBDIR replaces the native search path, so no
# x86 library can be picked up), the architecture-independent ones, and first the libwebsockets
# -dev files that scripts/cross.sh unpacks into EF_CROSS_DEVROOT (libwebsockets-dev cannot be
# installed for two architectures at once; see there). A cache variable, so that a re-run of
# cmake from `cmake --build` keeps it; passed on to try_compile, which reads this file again in
# the same process (and so would set the environment below without it).
set(EF_CROSS_DEVROOT "" CACHE PATH "scripts/cross.sh's unpacked libwebsockets-dev for ARCH")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EF_CROSS_DEVROOT)
set(ENV{PKG_CONFIG_LIBDIR}
    "${EF_CROSS_DEVROOT}/usr/lib/${EF_CROSS_TRIPLET}/pkgconfig:/usr/lib/${EF_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Installed for Debian: libedgefleet in /usr/lib/TRIPLET. GNUInstallDirs picks that multiarch
# directory by itself only in native builds; a cache default, so -DCMAKE_INSTALL_LIBDIR wins.
set(CMAKE_INSTALL_LIBDIR "lib/${EF_CROSS_TRIPLET}" CACHE PATH
    "Object code libraries: Debian's multiarch directory for ${EF_CROSS_TRIPLET}")

# Programs (pkg-config, python3, qemu) are the build machine's; no CMAKE_FIND_ROOT_PATH is set,
# so libraries and headers are found in the multiarch directories above.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# qemu-user runs what ctest starts (add_test with a target as COMMAND; tests/CMakeLists.txt
# passes it on where a test starts a cross-built program itself). No -L: the multiarch libc6:ARCH
# puts ARCH's dynamic loader in /lib, where the binaries' PT_INTERP points, and that loader
# searches /usr/lib/TRIPLET.
find_program(EF_CROSS_QEMU_BIN NAMES ${EF_CROSS_QEMU}-static ${EF_CROSS_QEMU})
if(EF_CROSS_QEMU_BIN)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EF_CROSS_QEMU_BIN})
endif()

# SPDX-License-Identifier: MIT
# EfWarnings.cmake -- warning and sanitizer flags for edgefleet's own targets only.
# ef_target(<target>) applies them; third-party headers stay out of -Werror.
set(EF_SAN_FLAGS "")
if(EF_ASAN)
  list(APPEND EF_SAN_FLAGS -fsanitize=address -fno-omit-frame-pointer)
endif()
if(EF_TSAN)
  if(EF_ASAN)
    message(FATAL_ERROR "EF_TSAN and EF_ASAN cannot be combined (one sanitizer runtime per process)")
  endif()
  list(APPEND EF_SAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
endif()
if(EF_UBSAN)
  list(APPEND EF_SAN_FLAGS -fsanitize=undefined -fno-sanitize-recover=undefined)
endif()
# EF_FUZZ: libFuzzer targets (tests/fuzz, docs/fuzzing.md). Every edgefleet object gets libFuzzer's
# coverage instrumentation and ASan + UBSan (clang's UBSan also checks float-to-int casts); only
# the fuzz executables link libFuzzer's main (-fsanitize=fuzzer, tests/fuzz/CMakeLists.txt).
if(EF_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "EF_FUZZ=ON needs clang (libFuzzer), not ${CMAKE_C_COMPILER_ID} "
            "(${CMAKE_C_COMPILER}). Install it (apt-get install clang, or scripts/deps.sh --test) "
            "and configure a fresh build directory with -DCMAKE_C_COMPILER=clang, or run "
            "`make fuzz`.")
  endif()
  list(APPEND EF_SAN_FLAGS -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
endif()

function(ef_target tgt)
  target_compile_options(${tgt} PRIVATE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
                         -Wmissing-prototypes -Wno-missing-field-initializers ${EF_SAN_FLAGS})
  # 64-bit off_t, ino_t and time_t on 32-bit targets too (armhf; no-ops on 64-bit ones): without
  # them readdir() and stat() fail with EOVERFLOW on a file system with 64-bit inode numbers or
  # directory offsets (ext4 seen from qemu-arm, XFS, NFS, btrfs), files past 2 GiB cannot be
  # opened, and times stop in 2038 (docs/cross.md). Neither type crosses an API edgefleet calls
  # or offers (include/edgefleet/ has none; the libraries' calls it makes take none), so the
  # 32-bit libraries of Debian 12 are called as before.
  target_compile_definitions(${tgt} PRIVATE _GNU_SOURCE _FILE_OFFSET_BITS=64 _TIME_BITS=64)
  if(EF_SAN_FLAGS)
    target_link_options(${tgt} PRIVATE ${EF_SAN_FLAGS})
  endif()
endfunction()

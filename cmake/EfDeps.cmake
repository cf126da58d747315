# SPDX-License-Identifier: MIT
# EfDeps.cmake -- the Debian libraries edgefleet is built on, as imported targets.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(LWS     REQUIRED IMPORTED_TARGET libwebsockets)
pkg_check_modules(UV      REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(CRYPTO  REQUIRED IMPORTED_TARGET libcrypto)
pkg_check_modules(SSL     REQUIRED IMPORTED_TARGET libssl)
pkg_check_modules(XCRYPT  REQUIRED IMPORTED_TARGET libxcrypt)
pkg_check_modules(LIBSSH  REQUIRED IMPORTED_TARGET libssh)
pkg_check_modules(CURL    REQUIRED IMPORTED_TARGET libcurl)
# EF_EDGE_ONLY (libedgefleet and the agent alone, the ARM cross builds): none of the server's.
if(EF_EDGE_ONLY)
  if(EF_TESTS)
    pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  endif()
  return()
endif()
pkg_check_modules(SQLITE  REQUIRED IMPORTED_TARGET sqlite3)
# Optional: the database servers' clients (store_pg.c, store_mysql.c), NATS (the cluster,
# src/server/cluster.c) and libsystemd (sd_notify readiness and watchdog of edgefleetd.service,
# src/server/service.c; without it the unit is Type=exec). Each is compiled in when found; the
# test build requires all four, so a test run never skips one silently. `make demo` needs none.
if(EF_TESTS)
  set(ef_opt_dep REQUIRED)
else()
  set(ef_opt_dep "")
endif()
pkg_check_modules(PQ      ${ef_opt_dep} IMPORTED_TARGET libpq)
pkg_check_modules(MARIADB ${ef_opt_dep} IMPORTED_TARGET libmariadb)
pkg_check_modules(NATS    ${ef_opt_dep} IMPORTED_TARGET libnats)
pkg_check_modules(SYSTEMD ${ef_opt_dep} IMPORTED_TARGET libsystemd)
if(EF_TESTS OR EF_FUZZ) # the server stubs of tests/unit/server/stubs, used by tests/fuzz too
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

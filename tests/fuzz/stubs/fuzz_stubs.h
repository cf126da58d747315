/* SPDX-License-Identifier: MIT */
/* fuzz_stubs.h -- stubs the fuzz targets add to those of tests/unit/server/stubs (stubs.h). */
#ifndef EF_FUZZ_STUBS_H
#define EF_FUZZ_STUBS_H

#include <stdbool.h>

#include "login.h"

/* login_stubs.c: answer the login in flight (false when there is none). */
bool fuzz_login_finish(const struct login_result *res);

#endif

/* SPDX-License-Identifier: MIT */
/* json_assert.h -- cmocka assertion on JSON values for the server's unit tests: `got` equals the
 * JSON text `want` (member order aside); on failure both are printed. Include after cmocka.h. */
#ifndef EF_TEST_JSON_ASSERT_H
#define EF_TEST_JSON_ASSERT_H

#include <jansson.h>

static inline void assert_json_eq(json_t *got, const char *want) {
  json_t *w = json_loads(want, 0, NULL);
  assert_non_null(w);
  if (!json_equal(got, w)) {
    char *g = got ? json_dumps(got, JSON_SORT_KEYS) : NULL;
    fail_msg("got %s, want %s", g ? g : "NULL", want);
  }
  json_decref(w);
}

#endif

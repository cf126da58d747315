/* SPDX-License-Identifier: MIT */
/* fuzz_mergepatch.c -- RFC 7386 merge patches (src/common/mergepatch.c): the input is two JSON
 * texts one after the other ("{...} {...}", any JSON values), a and b. Properties:
 *   apply(a, diff(a, b)) == b          when b has no member whose value is null (the format
 *                                      cannot set a member to null: mergepatch.h)
 *   diff(a, b) == NULL  <=>  a == b    (same condition), and diff(a, a) == NULL always
 *   apply is idempotent:               apply(apply(a, p), p) == apply(a, p), p = b as a patch
 *   diff and apply change neither their inputs nor the patch; a patch counts at least 1 change.
 * A violation aborts (FUZZ_CHECK). Seeds: corpus/mergepatch (miner records and their uploads). */
#include <jansson.h>

#include "fuzz.h"
#include "mergepatch.h"

/* A member (at any depth of objects; arrays are copied whole, so not inside them) whose value is
 * null. */
static bool has_null_member(const json_t *v) {
  const char *k;
  json_t *m;
  if (!json_is_object(v)) return false;
  json_object_foreach((json_t *)v, k, m) {
    if (json_is_null(m) || has_null_member(m)) return true;
  }
  return false;
}

static json_t *copy(const json_t *v) { return v ? json_deep_copy(v) : NULL; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t e;
  json_t *a = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
  if (!a) return 0;
  size_t used = (size_t)e.position;
  FUZZ_CHECK(used <= size);
  json_t *b = json_loadb((const char *)data + used, size - used, JSON_DECODE_ANY, &e);
  if (!b) {
    json_decref(a);
    return 0;
  }
  json_t *a0 = copy(a), *b0 = copy(b);

  /* diff(a, a) is empty; diff(a, b) names what changed, and turns a into b. */
  json_t *none = mergepatch_diff(a, a);
  FUZZ_CHECK(none == NULL);
  json_t *d = mergepatch_diff(a, b);
  FUZZ_CHECK(json_equal(a, a0) && json_equal(b, b0)); /* inputs untouched */
  bool exact = !has_null_member(b);
  if (exact) FUZZ_CHECK((d == NULL) == (json_equal(a, b) != 0));
  if (d) {
    FUZZ_CHECK(mergepatch_count(d) >= 1);
    json_t *d0 = copy(d);
    json_t *r = copy(a);
    FUZZ_CHECK(mergepatch_apply(&r, d) == 0);
    FUZZ_CHECK(json_equal(d, d0)); /* the patch untouched */
    if (exact) FUZZ_CHECK(json_equal(r, b));
    json_decref(r);
    json_decref(d0);
    json_decref(d);
  }

  /* b as a patch of a: idempotent, and the patch untouched. */
  json_t *r1 = copy(a);
  FUZZ_CHECK(mergepatch_apply(&r1, b) == 0);
  FUZZ_CHECK(r1 != NULL && json_equal(b, b0));
  json_t *r2 = copy(r1);
  FUZZ_CHECK(mergepatch_apply(&r2, b) == 0);
  FUZZ_CHECK(json_equal(r1, r2));
  /* Applying to "no value" (NULL) is applying to a non-object. */
  json_t *r3 = NULL;
  FUZZ_CHECK(mergepatch_apply(&r3, b) == 0 && r3 != NULL);
  FUZZ_CHECK(mergepatch_apply(NULL, b) != 0 && mergepatch_apply(&r3, NULL) != 0);
  json_decref(r1);
  json_decref(r2);
  json_decref(r3);

  json_decref(a);
  json_decref(b);
  json_decref(a0);
  json_decref(b0);
  return 0;
}

/* SPDX-License-Identifier: MIT */
/* test_mergepatch.c -- unit tests of src/common/mergepatch.c: RFC 7386 Appendix A verbatim, edge
 * cases, and a seeded property test (apply(a, diff(a, b)) == b over random document pairs).
 * EF_SEED=<n> replays a run; the seed in use is always printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "edgefleet/error.h"
#include "mergepatch.h"

static json_t *parse(const char *text) {
  json_error_t err;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
  if (!v)
    fail_msg("bad test JSON %s: %s", text, err.text);
  return v;
}

static void assert_json_eq(const json_t *got, const json_t *want) {
  if (json_equal(got, want))
    return;
  char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
  char *w = json_dumps(want, JSON_ENCODE_ANY | JSON_SORT_KEYS);
  print_error("got  %s\nwant %s\n", g ? g : "(NULL)", w);
  free(g);
  free(w);
  fail();
}

/* apply(parse(target), parse(patch)) must equal parse(result). */
static void check_apply(const char *target, const char *patch, const char *result) {
  json_t *t = parse(target), *p = parse(patch), *r = parse(result);
  assert_int_equal(mergepatch_apply(&t, p), 0);
  assert_json_eq(t, r);
  json_decref(t);
  json_decref(p);
  json_decref(r);
}

/* diff(from, to) applied to from gives to; NULL exactly when from == to. */
static void check_roundtrip(const json_t *from, const json_t *to) {
  json_t *patch = mergepatch_diff(from, to);
  if (json_equal(from, to))
    assert_null(patch);
  else
    assert_non_null(patch);
  json_t *t = json_deep_copy(from);
  if (patch)
    assert_int_equal(mergepatch_apply(&t, patch), 0);
  assert_json_eq(t, to);
  json_decref(t);
  json_decref(patch);
}

/* ----- RFC 7386 ----- */

static const char *const appendix_a[][3] = {
  {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
  {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
  {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
  {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
  {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
  {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
  {"{\"a\": {\"b\": \"c\"}}", "{\"a\": {\"b\": \"d\", \"c\": null}}", "{\"a\": {\"b\": \"d\"}}"},
  {"{\"a\": [{\"b\":\"c\"}]}", "{\"a\": [1]}", "{\"a\": [1]}"},
  {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
  {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
  {"{\"a\":\"foo\"}", "null", "null"},
  {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
  {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
  {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
  {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
};

static void test_rfc_appendix_a(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof appendix_a / sizeof appendix_a[0]; i++)
    check_apply(appendix_a[i][0], appendix_a[i][1], appendix_a[i][2]);
}

/* The diff of each Appendix A pair (original -> result) also reproduces the result. */
static void test_rfc_appendix_a_diff(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof appendix_a / sizeof appendix_a[0]; i++) {
    json_t *from = parse(appendix_a[i][0]), *to = parse(appendix_a[i][2]);
    check_roundtrip(from, to);
    json_decref(from);
    json_decref(to);
  }
}

/* The worked example of RFC 7386 §3. */
static void test_rfc_section3(void **state) {
  (void)state;
  const char *target = "{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\","
                       "\"familyName\":\"Doe\"},\"tags\":[\"example\",\"sample\"],"
                       "\"content\":\"This will be unchanged\"}";
  const char *patch = "{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\","
                      "\"author\":{\"familyName\":null},\"tags\":[\"example\"]}";
  const char *result = "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},"
                       "\"tags\":[\"example\"],\"content\":\"This will be unchanged\","
                       "\"phoneNumber\":\"+01-123-456-7890\"}";
  check_apply(target, patch, result);
  /* and our diff finds exactly that patch */
  json_t *t = parse(target), *r = parse(result), *want = parse(patch);
  json_t *got = mergepatch_diff(t, r);
  assert_json_eq(got, want);
  assert_int_equal(mergepatch_count(got), 4);
  json_decref(t);
  json_decref(r);
  json_decref(want);
  json_decref(got);
}

/* ----- edge cases ----- */

static void test_diff_equal_is_null(void **state) {
  (void)state;
  const char *docs[] = {"{}", "[]", "1", "\"x\"", "true", "null",
                        "{\"a\":{\"b\":[1,{\"c\":2}]},\"d\":1.5}"};
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    json_t *a = parse(docs[i]), *b = parse(docs[i]);
    assert_null(mergepatch_diff(a, b));
    assert_null(mergepatch_diff(a, a));
    json_decref(a);
    json_decref(b);
  }
}

static void test_diff_shapes(void **state) {
  (void)state;
  static const char *const cases[][3] = {
    /* from, to, expected patch */
    {"{}", "{\"a\":1}", "{\"a\":1}"},
    {"{\"a\":1}", "{}", "{\"a\":null}"},
    {"{\"a\":{}}", "{\"a\":{\"b\":{}}}", "{\"a\":{\"b\":{}}}"},
    {"{\"a\":{\"b\":{\"c\":1,\"d\":2}}}", "{\"a\":{\"b\":{\"c\":1}}}",
     "{\"a\":{\"b\":{\"d\":null}}}"},
    {"{\"a\":{\"b\":{\"c\":1}},\"x\":1}", "{\"x\":1}", "{\"a\":null}"},
    {"{\"a\":{\"b\":1}}", "{\"a\":[1]}", "{\"a\":[1]}"},
    {"{\"a\":[1]}", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}"},
    {"{\"a\":\"s\"}", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}"},
    {"{\"a\":{\"b\":1}}", "{\"a\":7}", "{\"a\":7}"},
    {"{\"a\":[1,2]}", "{\"a\":[1,2,3]}", "{\"a\":[1,2,3]}"},
    {"{\"a\":1}", "{\"a\":1.0}", "{\"a\":1.0}"},
    {"{\"a\":true}", "{\"a\":false}", "{\"a\":false}"},
    {"{\"a\":1}", "[1]", "[1]"},
    {"[1]", "{\"a\":1}", "{\"a\":1}"},
    {"{\"a\":1}", "null", "null"},
    {"\"x\"", "\"y\"", "\"y\""},
    {"{\"\\u00e9t\\u00e9\":1,\"\\u6f22\\u5b57\":{\"k\\ud83d\\ude00\":2}}",
     "{\"\\u00e9t\\u00e9\":1,\"\\u6f22\\u5b57\":{\"k\\ud83d\\ude00\":3},\"\\u00fc\":[]}",
     "{\"\\u6f22\\u5b57\":{\"k\\ud83d\\ude00\":3},\"\\u00fc\":[]}"},
    {"{\"\":1}", "{\"\":2}", "{\"\":2}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *from = parse(cases[i][0]), *to = parse(cases[i][1]), *want = parse(cases[i][2]);
    json_t *got = mergepatch_diff(from, to);
    assert_json_eq(got, want);
    check_roundtrip(from, to);
    json_decref(from);
    json_decref(to);
    json_decref(want);
    json_decref(got);
  }
}

/* A member that is literally null in `to` is a deletion (documented limit of RFC 7386). */
static void test_diff_null_members(void **state) {
  (void)state;
  json_t *from = parse("{\"a\":1,\"b\":null,\"c\":null}");
  json_t *to = parse("{\"a\":null,\"b\":null,\"d\":null}");
  json_t *patch = mergepatch_diff(from, to);
  json_t *want = parse("{\"a\":null,\"c\":null}");
  assert_json_eq(patch, want);
  assert_int_equal(mergepatch_apply(&from, patch), 0);
  json_t *res = parse("{\"b\":null}");
  assert_json_eq(from, res);
  json_decref(patch);
  json_decref(want);
  json_decref(res);
  /* nothing expressible: null where from has nothing */
  json_t *e = parse("{}"), *n = parse("{\"x\":null}");
  assert_null(mergepatch_diff(e, n));
  json_decref(e);
  json_decref(n);
  json_decref(from);
  json_decref(to);
}

static void test_apply_edges(void **state) {
  (void)state;
  /* nulls inside patch values are stripped, even where the target had nothing */
  check_apply("{}", "{\"a\":{\"b\":null,\"c\":{\"d\":null,\"e\":1}}}", "{\"a\":{\"c\":{\"e\":1}}}");
  /* nested deletion leaves an empty object */
  check_apply("{\"a\":{\"b\":{\"c\":1}}}", "{\"a\":{\"b\":{\"c\":null}}}", "{\"a\":{\"b\":{}}}");
  /* deleting something absent is a no-op */
  check_apply("{\"a\":1}", "{\"zz\":null}", "{\"a\":1}");
  /* empty patch object changes nothing on an object, turns a non-object into {} */
  check_apply("{\"a\":1}", "{}", "{\"a\":1}");
  check_apply("[1,2]", "{}", "{}");
  check_apply("3", "{\"a\":1}", "{\"a\":1}");
  /* arrays in the patch are copied verbatim, nulls included */
  check_apply("{\"a\":[1]}", "{\"a\":[null,{\"b\":null}]}", "{\"a\":[null,{\"b\":null}]}");
  /* type changes through a patch member */
  check_apply("{\"a\":{\"b\":1}}", "{\"a\":\"s\"}", "{\"a\":\"s\"}");
  check_apply("{\"a\":\"s\"}", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}");
  check_apply("{\"a\":[1]}", "{\"a\":{\"b\":[2]}}", "{\"a\":{\"b\":[2]}}");

  /* NULL target means "no value" */
  json_t *t = NULL, *p = parse("{\"a\":1}");
  assert_int_equal(mergepatch_apply(&t, p), 0);
  assert_json_eq(t, p);
  assert_int_equal(mergepatch_apply(NULL, p), EF_EINVAL);
  assert_int_equal(mergepatch_apply(&t, NULL), EF_EINVAL);
  json_decref(t);
  /* the patch is never modified nor shared */
  json_t *before = json_deep_copy(p);
  json_t *t2 = parse("{\"a\":{\"x\":1}}");
  assert_int_equal(mergepatch_apply(&t2, p), 0);
  json_object_set_new(t2, "a", json_integer(99));
  assert_json_eq(p, before);
  json_decref(t2);
  json_decref(before);
  json_decref(p);
}

static void test_count(void **state) {
  (void)state;
  static const struct {
    const char *patch;
    size_t n;
  } cases[] = {
    {"{}", 1},
    {"{\"a\":1}", 1},
    {"{\"a\":null,\"b\":[1,2,3]}", 2},
    {"{\"a\":{\"b\":1,\"c\":{\"d\":null,\"e\":{}}}}", 3},
    {"[1,2]", 1},
    {"null", 1},
    {"\"s\"", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *p = parse(cases[i].patch);
    assert_int_equal(mergepatch_count(p), cases[i].n);
    json_decref(p);
  }
  assert_int_equal(mergepatch_count(NULL), 0);
}

/* ----- property test ----- */

static uint64_t rng_state;

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

static const char *const keys[] = {"a", "b", "c", "id", "name", "jobs", "PC1", "x.y", "",
                                   "\xc3\xa9t\xc3\xa9", "\xe6\xbc\xa2", "k\xf0\x9f\x98\x80"};

static json_t *rand_value(int depth);

static json_t *rand_scalar(void) {
  switch (below(6)) {
  case 0: return json_integer((json_int_t)below(2000) - 1000);
  case 1: return json_real((double)((int)below(4000) - 2000) / 8.0);
  case 2: return json_boolean(below(2));
  case 3: return json_string("");
  default: {
    char buf[16];
    snprintf(buf, sizeof buf, "s%u", below(50));
    return json_string(buf);
  }
  }
}

static json_t *rand_object(int depth) {
  json_t *o = json_object();
  unsigned n = below(depth >= 4 ? 3 : 6);
  for (unsigned i = 0; i < n; i++)
    json_object_set_new(o, keys[below(sizeof keys / sizeof keys[0])], rand_value(depth + 1));
  return o;
}

static json_t *rand_array(int depth) {
  json_t *a = json_array();
  unsigned n = below(4);
  for (unsigned i = 0; i < n; i++)
    json_array_append_new(a, depth < 4 && below(4) == 0 ? rand_object(depth + 1) : rand_scalar());
  return a;
}

/* Objects nest up to depth 4; no nulls anywhere. */
static json_t *rand_value(int depth) {
  unsigned r = below(10);
  if (depth < 4 && r < 3)
    return rand_object(depth);
  if (r < 5)
    return rand_array(depth);
  return rand_scalar();
}

static json_t *rand_doc(void) {
  return below(20) == 0 ? rand_value(4) : rand_object(1);
}

/* Random edits of `o` in place: delete, replace, add, recurse. */
static void mutate(json_t *o, int depth) {
  const char *key;
  json_t *value;
  void *tmp;
  json_object_foreach_safe(o, tmp, key, value) {
    switch (below(8)) {
    case 0: json_object_del(o, key); break;
    case 1: json_object_set_new(o, key, rand_value(depth + 1)); break;
    case 2:
    case 3:
      if (json_is_object(value))
        mutate(value, depth + 1);
      break;
    default: break;
    }
  }
  if (below(3) == 0)
    json_object_set_new(o, keys[below(sizeof keys / sizeof keys[0])], rand_value(depth + 1));
}

/* Every member named by `patch` really changed between a and b (recursively). */
static void check_minimal(const json_t *a, const json_t *b, const json_t *patch) {
  if (!json_is_object(patch) || !json_is_object(a) || !json_is_object(b))
    return;
  const char *key;
  json_t *pv;
  json_object_foreach((json_t *)patch, key, pv) {
    json_t *av = json_object_get(a, key), *bv = json_object_get(b, key);
    assert_true(av || bv);
    if (av && bv)
      assert_false(json_equal(av, bv));
    if (json_is_null(pv))
      assert_true(av && !bv);
    if (json_is_object(pv) && json_is_object(av) && json_is_object(bv))
      check_minimal(av, bv, pv);
  }
}

static void property_case(const json_t *a, const json_t *b) {
  json_t *patch = mergepatch_diff(a, b);
  json_t *t = json_deep_copy(a);
  if (patch) {
    assert_int_equal(mergepatch_apply(&t, patch), 0);
    assert_true(mergepatch_count(patch) > 0);
  } else {
    assert_true(json_equal(a, b));
  }
  assert_json_eq(t, b);
  check_minimal(a, b, patch);
  assert_null(mergepatch_diff(a, a));
  json_decref(t);
  json_decref(patch);
}

static void test_property_roundtrip(void **state) {
  (void)state;
  const char *env = getenv("EF_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();
  printf("test_property_roundtrip: seed %llu (EF_SEED=%llu replays it)\n",
         (unsigned long long)seed, (unsigned long long)seed);
  rng_state = seed;
  for (int i = 0; i < 2000; i++) {
    json_t *a = rand_doc();
    json_t *b;
    if (i % 2 == 0 && json_is_object(a)) {
      b = json_deep_copy(a);
      mutate(b, 1);
    } else {
      b = rand_doc();
    }
    property_case(a, b);
    property_case(b, a);
    json_decref(a);
    json_decref(b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rfc_appendix_a),
    cmocka_unit_test(test_rfc_appendix_a_diff),
    cmocka_unit_test(test_rfc_section3),
    cmocka_unit_test(test_diff_equal_is_null),
    cmocka_unit_test(test_diff_shapes),
    cmocka_unit_test(test_diff_null_members),
    cmocka_unit_test(test_apply_edges),
    cmocka_unit_test(test_count),
    cmocka_unit_test(test_property_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

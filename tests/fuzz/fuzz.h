/* SPDX-License-Identifier: MIT */
/* fuzz.h -- what the fuzz targets of tests/fuzz share (docs/fuzzing.md).
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput. Built with clang and EF_FUZZ=ON it is linked
 * with libFuzzer's main (make fuzz); otherwise with fuzz_main.c, which feeds it every file of the
 * corpus directories once (ctest's fuzz_<name>_corpus), so that the corpora, crash reproducers
 * included, are regression tests of every build, gcc's too.
 *
 * A target must be deterministic (the same input does the same thing: no clocks or random ids
 * in a decision), must free everything it made before returning (the leak checker runs per
 * input), and reports a broken property with FUZZ_CHECK, which aborts: libFuzzer then saves the
 * input as a crash.
 */
#ifndef EF_FUZZ_H
#define EF_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with the failed condition when a property does not hold. */
#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      fprintf(stderr, "fuzz: property violated at %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
      abort();                                                                                \
    }                                                                                         \
  } while (0)

/* Records of an input separated by one byte (a newline between messages, a NUL between RPC
 * answers): fuzz_next gives the next one (not NUL-terminated) until the input is used up. */
struct fuzz_split {
  const char *p, *end;
  bool done;
};

static inline struct fuzz_split fuzz_split(const uint8_t *data, size_t size) {
  return (struct fuzz_split){.p = (const char *)data, .end = (const char *)data + size,
                             .done = false};
}

static inline bool fuzz_next(struct fuzz_split *s, char sep, const char **rec, size_t *len) {
  if (s->done) return false;
  const char *e = memchr(s->p, sep, (size_t)(s->end - s->p));
  *rec = s->p;
  if (!e) {
    *len = (size_t)(s->end - s->p);
    s->done = true;
  } else {
    *len = (size_t)(e - s->p);
    s->p = e + 1;
  }
  return true;
}

/* A NUL-terminated copy of rec[0..len) (free()). */
static inline char *fuzz_strndup(const char *rec, size_t len) {
  char *s = malloc(len + 1);
  if (!s) abort();
  memcpy(s, rec, len);
  s[len] = '\0';
  return s;
}

/* rec[0..len) starts with the literal p. */
static inline bool fuzz_prefix(const char *rec, size_t len, const char *p) {
  size_t n = strlen(p);
  return len >= n && memcmp(rec, p, n) == 0;
}

#endif

/* SPDX-License-Identifier: MIT */
/* lotus_internal.h -- what the lotus parsers share (parse_util.c): line walking with colour
 * stripping, error collection, tabwriter column slicing, safe JSON strings. Not installed. */
#ifndef EF_LOTUS_INTERNAL_H
#define EF_LOTUS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOTUS_MAX_ERRORS 20  /* error texts kept; "errorCount" has the total */
#define LOTUS_MAX_LINE 8192  /* longer lines are reported and skipped */
#define LOTUS_MAX_VALUE 256  /* longest value text copied into the JSON */
#define LOTUS_MAX_COLS 16    /* tabwriter columns understood */

/* One parse: the result object being built and its error list. */
struct lotus_ctx {
  json_t *root;        /* the parser's result (owned by the ctx until lotus_finish) */
  json_t *errors;      /* array of texts, created on the first error */
  unsigned nerrors;    /* all errors, also those not kept */
  unsigned lineno;     /* 1-based number of the line being parsed */
};

/* A cleaned line: colour escapes and CR removed, NULs replaced, NUL-terminated, writable.
 * Valid only during the callback. `indent` is the width of the leading blanks (tab = 8). */
struct lotus_line {
  char *s;
  size_t n;
  unsigned indent;
};

typedef void (*lotus_line_fn)(struct lotus_ctx *c, struct lotus_line *l, void *ud);

void lotus_ctx_init(struct lotus_ctx *c);
/* Attach "errors"/"errorCount" to the root and hand the root to the caller. */
json_t *lotus_finish(struct lotus_ctx *c);
/* Record "line N: <message>" (the message is sanitised and cut to a readable length). */
void lotus_error(struct lotus_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record "line N: unrecognised line: <text>". */
void lotus_unrecognised(struct lotus_ctx *c, const char *s, size_t n);

/* Call fn for every line of buf (including blank ones); too-long lines are reported instead. */
void lotus_each_line(struct lotus_ctx *c, const char *buf, size_t len, lotus_line_fn fn,
                     void *ud);

/* Remove colour escapes in place from s[0..n); returns the new length. */
size_t lotus_strip_ansi(char *s, size_t n);

/* A JSON string of s[0..n) made valid: invalid UTF-8 and control bytes become '?', longer than
 * LOTUS_MAX_VALUE is cut (at a character boundary). Never NULL. */
json_t *lotus_jstr(const char *s, size_t n);
/* obj[key] = lotus_jstr(s, n); the key is sanitised the same way. */
void lotus_set_str(json_t *obj, const char *key, const char *s, size_t n);
/* obj[key] = value (stolen), with the key sanitised (an invalid key would be dropped). */
void lotus_set(json_t *obj, const char *key, size_t keylen, json_t *value);

/* Blank handling on (pointer, length) views. */
bool lotus_blank(char c);
void lotus_trim(const char **s, size_t *n);
/* s starts with the literal p. */
bool lotus_prefix(const char *s, size_t n, const char *p);
/* A whole unsigned decimal (no sign, no blanks), overflow-checked. */
bool lotus_uint(const char *s, size_t n, uint64_t *out);
/* A decimal number ("12", "1.00", "0.0721") as a double, or false. */
bool lotus_number(const char *s, size_t n, double *out);

/* Tabwriter/tablewriter columns: the start offsets of the header's cells. */
struct lotus_cols {
  unsigned n;
  size_t at[LOTUS_MAX_COLS];
  char name[LOTUS_MAX_COLS][32];
};
/* Find the cells of a header line (cells are separated by 2+ blanks; a single blank stays
 * inside a cell, e.g. "sectors (faults)"). Returns the count. */
unsigned lotus_cols_from_header(struct lotus_cols *cols, const char *s, size_t n);
/* Slice a row by the header's offsets into cells (trimmed views). Returns false when the row
 * does not line up with the header (a blank is missing before a column start). */
bool lotus_cols_slice(const struct lotus_cols *cols, const char *s, size_t n,
                      const char *cell[], size_t celln[]);
/* Split on runs of blanks into at most max tokens; returns the count (more tokens -> max+1). */
unsigned lotus_split_ws(const char *s, size_t n, const char *tok[], size_t tokn[], unsigned max);

/* Helpers that add a value in two forms: the printed text and its exact expansion. */
/* obj[key] = text, obj[key"Atto"] = exact attoFIL, obj[key"Exact"] = false when rounded.
 * `short_era`: the text comes from FIL.Short() (v1.2.2+), so "X FIL" with <= 3 decimals may
 * have been rounded. Returns false if the text is not a FIL amount (only the text is set). */
bool lotus_set_fil(json_t *obj, const char *key, const char *s, size_t n, bool short_era);
/* obj[key] = text, obj[key"Bytes"] = decimal string of the printed value in bytes. */
bool lotus_set_size_str(json_t *obj, const char *key, const char *s, size_t n);
/* obj[key] = text, obj[key"Seconds"] = seconds (a real) when the text is a Go duration. */
bool lotus_set_duration(json_t *obj, const char *key, const char *s, size_t n);

#endif

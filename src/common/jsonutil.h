/* SPDX-License-Identifier: MIT */
/* jsonutil.h -- small typed accessors over jansson, so that handlers validate input in one line.
 * All returned pointers are borrowed from `obj` and live as long as it does. */
#ifndef EF_JSONUTIL_H
#define EF_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The string at obj[key], or NULL when absent or not a string. */
const char *jstr(const json_t *obj, const char *key);
/* The object at obj[key], or NULL when absent or not an object. */
json_t *jobj(const json_t *obj, const char *key);
/* Parse a text that must be a JSON object; NULL otherwise. Caller owns the result. */
json_t *jparse_object(const char *text, size_t len);
/* Compact serialization; caller frees with ef_free(). NULL never (aborts on OOM). */
char *jdump(const json_t *v);
/* Serialize into a caller-owned string and then drop the reference to v. */
char *jdump_decref(json_t *v);

#endif

/* SPDX-License-Identifier: MIT */
/* mergepatch.h -- RFC 7386 JSON Merge Patch: compute the patch between two documents, apply one,
 * and count its changes. Used for `upload_miner_info` with `full:false` and front-end pushes.
 *
 * Limits of the format (RFC 7386 §1): a patch cannot set a member to the value `null` (null means
 * "delete"), and arrays are always replaced whole. mergepatch_diff() therefore treats a member
 * whose value is `null` in `to` as a deletion: diff/apply round-trips exactly only for documents
 * without null member values (null inside arrays is fine: arrays are copied verbatim).
 */
#ifndef EF_MERGEPATCH_H
#define EF_MERGEPATCH_H

#include <jansson.h>
#include <stddef.h>

/* The smallest merge patch turning `from` into `to`, or NULL when applying nothing would do
 * (the documents are equal, or differ only by members that are null in `to` and absent in
 * `from`). Members of `from` missing in `to` become `null`; objects present in both are diffed
 * recursively; everything else that differs (scalars, arrays, a type change) is copied whole.
 * When `to` or `from` is not an object, the patch is a copy of `to` itself. Both arguments are
 * borrowed (non-NULL); the caller owns the result (json_decref). */
json_t *mergepatch_diff(const json_t *from, const json_t *to);

/* Apply `patch` to `*target` in place, following RFC 7386 §2. `*target` is an owned reference
 * (NULL stands for "no value" and is treated like a non-object); it is modified in place when it
 * and `patch` are objects (nested objects of `*target` too, so do not share them), and replaced
 * (the old reference dropped, a new one stored) when `patch` is not an object or `*target` is
 * not an object. `patch` is borrowed and never modified; values are deep-copied out of it.
 * `patch` must not be `*target` nor part of it. Returns 0, or EF_EINVAL when target or patch
 * is NULL. */
int mergepatch_apply(json_t **target, const json_t *patch);

/* Number of leaf changes in `patch`, for statistics: every member whose value is not a
 * non-empty object counts 1 (a deletion, a scalar, an array, an empty object), non-empty
 * objects count the sum of their members; a non-object patch and an empty object (which
 * mergepatch_diff returns only to replace a non-object by `{}`) count 1; NULL counts 0. */
size_t mergepatch_count(const json_t *patch);

#endif

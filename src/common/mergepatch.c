/* SPDX-License-Identifier: MIT */
/* mergepatch.c -- RFC 7386 JSON Merge Patch over jansson: diff, apply, count.
 *
 * DESIGN: diff walks both objects once; a member whose values are equal never appears in the
 * patch, so the patch is minimal in the simple sense (it names only changed members, and only
 * down to the deepest object that changed). apply is the §2 pseudo-code, recursive; a patch
 * value that lands where the target has no object is merged into an empty object, which is what
 * strips nested nulls out of patch values, as the RFC requires.
 */
#include "mergepatch.h"

#include "edgefleet/error.h"

/* MergePatch(target, patch) of RFC 7386 §2. `target` is owned (may be NULL); the result is owned
 * and may be `target` itself. */
static json_t *merge(json_t *target, const json_t *patch) {
  if (!json_is_object(patch)) {
    json_decref(target);
    return json_deep_copy(patch);
  }
  if (!json_is_object(target)) {
    json_decref(target);
    target = json_object();
  }
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)patch, key, value) {
    if (json_is_null(value)) {
      json_object_del(target, key);
      continue;
    }
    json_t *old = json_object_get(target, key);
    json_incref(old); /* merge() consumes its target reference */
    json_object_set_new(target, key, merge(old, value));
  }
  return target;
}

json_t *mergepatch_diff(const json_t *from, const json_t *to) {
  if (!json_is_object(from) || !json_is_object(to))
    return json_equal(from, to) ? NULL : json_deep_copy(to);

  json_t *patch = json_object();
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)from, key, value) {
    if (!json_object_get(to, key))
      json_object_set_new(patch, key, json_null());
  }
  json_object_foreach((json_t *)to, key, value) {
    json_t *old = json_object_get(from, key);
    if (json_is_null(value)) {
      /* Cannot be expressed: delete what `from` has, nothing to do when it has nothing. */
      if (old && !json_is_null(old))
        json_object_set_new(patch, key, json_null());
      continue;
    }
    if (old && json_is_object(old) && json_is_object(value)) {
      json_t *sub = mergepatch_diff(old, value);
      if (sub)
        json_object_set_new(patch, key, sub);
      continue;
    }
    if (!old || !json_equal(old, value))
      json_object_set_new(patch, key, json_deep_copy(value));
  }
  if (json_object_size(patch) == 0) {
    json_decref(patch);
    return NULL;
  }
  return patch;
}

int mergepatch_apply(json_t **target, const json_t *patch) {
  if (!target || !patch)
    return EF_EINVAL;
  *target = merge(*target, patch);
  return 0;
}

size_t mergepatch_count(const json_t *patch) {
  if (!patch)
    return 0;
  if (!json_is_object(patch) || json_object_size(patch) == 0)
    return 1;
  size_t n = 0;
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)patch, key, value) {
    if (json_is_object(value) && json_object_size(value) > 0)
      n += mergepatch_count(value);
    else
      n++;
  }
  return n;
}

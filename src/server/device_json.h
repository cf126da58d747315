/* SPDX-License-Identifier: MIT */
/* device_json.h -- the REST JSON of store records: devices (both ways, with validation), groups,
 * device logs, and ids as they travel in JSON.
 *
 * A device's columns are listed once, in STORE_DEVICE_FIELDS (store.h); both directions of the
 * mapping are generated from that list, so a new column needs no change here. Device JSON never
 * carries `password` or `token_hash`; ids leave as decimal strings, times as ms integers.
 *
 * All functions are pure (no store, no loop): safe on any thread.
 */
#ifndef EF_DEVICE_JSON_H
#define EF_DEVICE_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* device_from_json flags */
#define DEVJ_NEW 1u /* a new device: password, hardware.sn and hardware.model are required */
#define DEVJ_NO_PASSWORD 2u /* with DEVJ_NEW: the password is not required (it comes as a
                               password_hash, which the caller reads: rest_device.c) */

/* Fill `out` (zeroed first) from the device JSON `obj`: every STORE_DEVICE_FIELDS member found
 * at its nested place, and `password` (plain text, to be hashed by the caller). Members are
 * optional unless DEVJ_NEW says otherwise; a member that is null counts as absent. Present
 * members must be strings (password, hardware.sn and hardware.model non-empty ones), parents
 * objects, `nic` an array of objects whose type/mac/ipv4 are strings; nic is stored as its
 * compact JSON text. Unknown members are ignored. device_id, token and times are not read.
 * Returns 0; EF_ENOENT when a required member is missing (err = "<path>: required", e.g.
 * "hardware.sn: required"); EF_EINVAL when a member is malformed (err = "<path>: <problem>",
 * e.g. "nic[1].mac: must be a string"). On failure `out` is cleared; on success its strings
 * are the caller's (store_device_clear). */
int device_from_json(const json_t *obj, unsigned flags, struct store_device *out, char *err,
                     size_t errlen);

/* The device's JSON (new reference): device_id, the STORE_DEVICE_FIELDS in their nested
 * places (absent ones null, nic parsed back into an array), created_time, updated_time. */
json_t *device_to_json(const struct store_device *d);
/* An array of device_to_json() of arr[0..n). */
json_t *devices_to_json(const struct store_device *arr, size_t n);

/* {"group_id","group_name","group_description","created_time","updated_time"} */
json_t *group_to_json(const struct store_group *g);
json_t *groups_to_json(const struct store_group *arr, size_t n);

/* {"log_id","device_id","event","detail","result","time"} */
json_t *log_to_json(const struct store_log *l);
json_t *logs_to_json(const struct store_log *arr, size_t n);

/* An id as JSON: its decimal string. */
json_t *id_to_json(uint64_t id);
/* An id from JSON: a decimal string or a positive integer. false for anything else. */
bool id_from_json(const json_t *v, uint64_t *out);

#endif

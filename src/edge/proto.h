/* SPDX-License-Identifier: MIT */
/* proto.h -- southbound messages the device builds and parses (docs/protocol.md), pure functions.
 * Built messages are new ef_malloc'd strings (caller frees with ef_free). */
#ifndef EF_EDGE_PROTO_H
#define EF_EDGE_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Login: token login when token != NULL ({"device_id","token"}); otherwise {"device_id",
 * "password"} when device_id is set, else {"device_sn","device_model","password"}.
 * NULL when the identity needed is missing. */
char *proto_login(const char *device_id, const char *device_sn, const char *device_model,
                  const char *password, const char *token);
char *proto_ping(void);
/* Status upload. `sections` holds CPU_info/Memory_info/Disk_info (borrowed); `extra` (borrowed,
 * may be NULL) is merged in first so that the library's own keys win. */
char *proto_status(const char *device_id, const json_t *sections, const json_t *extra);
/* upload_instruction_result; order_id (borrowed) is echoed in Headers when non-NULL. */
char *proto_result(bool success, const char *message, const json_t *order_id);
/* upload_miner_info; NULL when data_json is not a JSON object. */
char *proto_miner(const char *data_json, bool full);

enum proto_type {
  PROTO_LOGIN_REPLY,   /* no "type", has "status" */
  PROTO_PONG,          /* ping_pong */
  PROTO_STATUS_ACK,    /* send_statusInfo_response */
  PROTO_GIVE_ORDER,
  PROTO_RESTART_CONFIRM,
  PROTO_REPORT_FULL,   /* report_full_info */
  PROTO_MINER_ACK,     /* send_minerInfo_response */
  PROTO_UNKNOWN,
};

struct proto_msg {
  enum proto_type type;
  json_t *root;        /* owned; free with proto_msg_free */
  /* PROTO_LOGIN_REPLY */
  bool success;
  const char *message;       /* fail message or NULL */
  const char *device_id;     /* data.device_id or NULL */
  const char *token;         /* data.token or NULL */
  int64_t token_expires;     /* ms since epoch; 0 when absent */
  /* PROTO_GIVE_ORDER */
  const char *order_type;    /* NULL when missing */
  json_t *order_id;          /* borrowed; NULL when absent */
  char *params;              /* owned JSON text, "{}" when absent or not an object */
  const char *remote_dir;    /* data.remote_dir or NULL */
  const char *order_device;  /* data.device_id or NULL */
};

/* Parse one text frame; 0, or EF_EPARSE when it is not a JSON object. */
int proto_parse(const char *text, size_t len, struct proto_msg *out);
void proto_msg_free(struct proto_msg *m);
/* Expiry as sent by the server: a number or a decimal string, in ms (values below 1e11 are taken
 * as seconds). 0 when absent or unusable. */
int64_t proto_expiry_ms(const json_t *v);

#endif

/* SPDX-License-Identifier: MIT */
/* wire.h -- the southbound protocol's vocabulary, spelled once: every message type on /ws, the
 * fixed frames the server and the devices exchange, and the spellings of the original protocol
 * that devices in the field match on (docs/protocol.md). The server, libedgefleet and the load
 * generator all use these names; nothing else spells a frame inline.
 *
 * Everything is a string literal macro, so `sizeof WIRE_PONG_FRAME - 1` is a frame's length at
 * compile time and frames can be compared with memcmp on the hot path.
 */
#ifndef EF_WIRE_H
#define EF_WIRE_H

/* ----- message types: the "type" member (docs/protocol.md#messages) ----- */
#define WIRE_PING_PONG "ping_pong"                  /* both ways: data "ping" / "pong" */
#define WIRE_UPLOAD_STATUS "upload_status_info"     /* device → server */
#define WIRE_STATUS_ACK "send_statusInfo_response"  /* server → device */
#define WIRE_GIVE_ORDER "give_order"                /* server → device */
#define WIRE_UPLOAD_RESULT "upload_instruction_result" /* device → server */
#define WIRE_RESTART_CONFIRM "restart_confirm"      /* server → device */
#define WIRE_REPORT_FULL "report_full_info"         /* server → device (miner agents) */
#define WIRE_UPLOAD_MINER "upload_miner_info"       /* device → server */
#define WIRE_MINER_ACK "send_minerInfo_response"    /* server → device */
#define WIRE_ERROR "error"                          /* server → device: not understood */

/* ----- result status: the "status" member of login replies and upload_instruction_result ----- */
#define WIRE_STATUS_SUCCESS "success"
#define WIRE_STATUS_FAIL "fail"

/* ----- fixed frames ----- */
/* A message whose Headers are empty, up to its data: the data's JSON text and "}" follow. */
#define WIRE_FRAME_HEAD(type) "{\"type\":\"" type "\",\"Headers\":{},\"data\":"
/* A message whose Headers are empty and whose data is the JSON text `data`. */
#define WIRE_FRAME(type, data) WIRE_FRAME_HEAD(type) data "}"

#define WIRE_PING_FRAME WIRE_FRAME(WIRE_PING_PONG, "\"ping\"")
/* The ping as Python's json.dumps writes it (the original controller): ", " and ": ". */
#define WIRE_PING_FRAME_SPACED "{\"type\": \"ping_pong\", \"Headers\": {}, \"data\": \"ping\"}"
#define WIRE_PONG_FRAME WIRE_FRAME(WIRE_PING_PONG, "\"pong\"")
#define WIRE_STATUS_ACK_FRAME WIRE_FRAME(WIRE_STATUS_ACK, "{}")
#define WIRE_MINER_ACK_FRAME WIRE_FRAME(WIRE_MINER_ACK, "{}")
#define WIRE_REPORT_FULL_FRAME WIRE_FRAME(WIRE_REPORT_FULL, "{}")
#define WIRE_RESTART_CONFIRM_FRAME WIRE_FRAME(WIRE_RESTART_CONFIRM, "{}")

/* ----- orders (docs/protocol.md#orders) ----- */
#define WIRE_ORDER_RESTART "restart"                /* inner orders: the protocol's own */
#define WIRE_ORDER_UPLOAD_LOG "upload_log"
/* A device's first answer to restart; the server answers WIRE_RESTART_CONFIRM_FRAME. */
#define WIRE_RESTART_WAIT "wait Server Confirm"
/* The original device's result messages (Headers.message), kept verbatim: the server passes
 * them on to REST callers and scripts match them. */
#define WIRE_RESULT_NOT_IN_CONFIG "order not in config"     /* no handler for that order */
#define WIRE_RESULT_EXEC_OK "successfully exec order."     /* a custom order, no message of its own */
#define WIRE_RESULT_EXEC_FAIL "fail to exec order."
#define WIRE_RESULT_UPLOAD_OK "successfully upload log."   /* upload_log (reason in parentheses) */
#define WIRE_RESULT_UPLOAD_FAIL "fail to upload log."

/* ----- device states, as stored and shown (docs/protocol.md#states) ----- */
#define WIRE_STATE_ONLINE "online"
#define WIRE_STATE_UNKNOWN "Unknown"
#define WIRE_STATE_OFFLINE "offline"

/* ----- the original protocol's messages, kept verbatim: devices and scripts match them ----- */
#define WIRE_MSG_TIMEOUT "TimeOut."                         /* no login within login_timeout */
#define WIRE_MSG_INVALID_JSON "Invalid Json"
#define WIRE_MSG_NO_PASSWORD "Not provide password"
#define WIRE_MSG_MISSING_PARAMS "Missing required Parameters!"
#define WIRE_MSG_NOT_FOUND "Device NOT FOUND."
#define WIRE_MSG_BAD_PASSWORD "password Not Correct"
#define WIRE_MSG_OFFLINE "Device is offline!"              /* order to a device not connected */
#define WIRE_MSG_STATE_UNKNOWN "Device state is Unknown!"  /* order to a device that missed */
#define WIRE_MSG_BUSY "Device busy!"                       /* an order is already in flight */
#define WIRE_MSG_NO_STATUS "wrong device_id OR offline device."
#define WIRE_MSG_MINER_NOT_FOUND "Miner NOT FOUND."

#endif

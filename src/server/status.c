/* SPDX-License-Identifier: MIT */
/* status.c -- the status upload (upload_status_info, docs/protocol.md#status): kept as received
 * in the device's live session, acknowledged, and noted in the device log now and then.
 *
 * The message is kept as received (no re-serialisation on the hot path); reads parse it. The
 * first upload of a session is logged, then one per log_status_every: a fleet's log shows that
 * devices report without a row per upload (19.5k devices: 4.7 M rows an hour).
 */
#include <stdlib.h>

#include "clock.h"
#include "jsonutil.h"
#include "log.h"
#include "server.h"
#include "wire.h"

static void handle_status(const struct ws_msg *m) {
  json_t *data = jobj(m->root, "data");
  if (!data) {
    live_sess_error(m->s, "upload_status_info needs a data object");
    return;
  }
  /* An agent whose host lotus knows by another name says so (lotus_worker_name): the miner's
   * workers are joined by lotus' name (join.c). */
  const char *host = jstr(data, "lotus_worker_name");
  if (!host || !*host) host = jstr(data, "host_name");
  if (host && *host && !live_sess_set_host(m->s, host) &&
      live_status_time(m->srv->live, m->device_id) <= 0) /* once a session */
    ef_log(EF_LOG_WARN, "device %llu: host_name %s is held by another connected device; "
           "its status is not joined to that host's workers",
           (unsigned long long)m->device_id, host);
  int64_t now = ef_now_ms();
  live_sess_set_status(m->s, m->raw, m->len, now);
  live_sess_send(m->s, WIRE_STATUS_ACK_FRAME, sizeof WIRE_STATUS_ACK_FRAME - 1);
  for (int i = 0; i < m->srv->n_status_listeners; i++)
    m->srv->status_listeners[i].fn(m->srv->status_listeners[i].ud, m->device_id, data, m->raw,
                                   m->len, now);
  const struct server_config *cfg = &m->srv->cfg;
  int64_t logged = live_sess_status_logged(m->s);
  if (cfg->log_status_uploads && (!logged || now - logged >= cfg->log_status_every)) {
    live_sess_set_status_logged(m->s, now);
    devlog_add(m->srv->devlog, m->device_id, "status_upload", NULL, "success");
  }
}

void status_listen(struct server *srv, status_listener fn, void *ud) {
  int n = srv->n_status_listeners;
  if (n == (int)(sizeof srv->status_listeners / sizeof *srv->status_listeners)) abort();
  srv->status_listeners[n].fn = fn;
  srv->status_listeners[n].ud = ud;
  srv->n_status_listeners = n + 1;
}

const struct ws_route status_ws_routes[] = {
  {WIRE_UPLOAD_STATUS, handle_status},
  {NULL, NULL},
};

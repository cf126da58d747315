/* SPDX-License-Identifier: MIT */
/* lotus_collector.h -- the lotus miner collector: runs `lotus-miner` (or asks its JSON-RPC API)
 * on its own thread every lotus_interval, builds the miner record (lotus_record.h) and uploads
 * it as a full record, then as RFC 7386 merge patches of changes (docs/protocol.md#miner-data).
 *
 * Threads: lotus_collector_start() starts the collector's thread; everything that may block
 * (child processes with a time limit, HTTP calls with a timeout) happens there, never on the
 * library's loop. lotus_collector_request_full() is thread-safe and never blocks (the library
 * calls it on its loop when the server sends report_full_info). The send function is called on
 * the collector's thread (ef_client_send_miner() is thread-safe).
 * docs/lotus-collector.md describes the record, the options and the upload sizes.
 */
#ifndef EF_AGENT_LOTUS_COLLECTOR_H
#define EF_AGENT_LOTUS_COLLECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the collector gets its data, and how often. Strings are borrowed for the collector's
 * life (they normally point into struct agent_conf). */
struct lotus_conf {
  const char *source;      /* "cli" (default) or "rpc" */
  const char *miner_path;  /* the lotus-miner program (cli; searched in PATH) */
  int64_t interval_ms;     /* collection period */
  int64_t timeout_ms;      /* time limit of one command / one HTTP call */
  bool sectors;            /* also run `sectors list` (cli; can be huge) */
  const char *api;         /* rpc: miner API, "TOKEN:/ip4/H/tcp/P/http" or http://H:P; NULL =
                              $MINER_API_INFO */
  const char *token;       /* rpc: overrides the token of `api` */
  const char *node_api;    /* rpc: full node API; NULL = $FULLNODE_API_INFO (optional) */
  const char *node_token;  /* rpc: overrides the token of `node_api` */
  /* Worker reachability (lotus_reach.h): `storage list` URLs, one connect each; needs
   * miner_path (also with the rpc source). 0 = not probed (netState absent). */
  int64_t reach_timeout_ms;
  int64_t reach_max;       /* workers probed a round */
  /* `proving check --only-bad DL` before deadlines open (off by default: it reads every
   * challenged sector); needs miner_path. */
  bool proving_check;
  int64_t proving_check_before_ms;  /* how long before a deadline opens */
  int64_t proving_check_deadlines;  /* how many of the next deadlines (1..47) */
  int64_t proving_check_timeout_ms; /* time limit of one check */
};

/* Delivers one upload: `json` the data object (valid during the call), full != 0 for a whole
 * record. Returns 0 when queued; non-zero makes the next upload a full one. */
typedef int (*lotus_send_fn)(void *ud, const char *json, int full);

/* ---- the delta engine: last record sent -> merge patch ------------------------------------ */

struct lotus_delta;

struct lotus_delta_stats {
  uint64_t full_count, full_bytes;    /* full uploads and their JSON bytes */
  uint64_t patch_count, patch_bytes;  /* patches and their JSON bytes */
  uint64_t unchanged;                 /* collections that sent nothing */
};

/* send/ud as above; *out is the caller's, free with lotus_delta_free(). */
void lotus_delta_new(lotus_send_fn send, void *ud, struct lotus_delta **out);
void lotus_delta_free(struct lotus_delta **d);
/* Upload `rec` (borrowed): a full record the first time, after lotus_delta_full() asked for one,
 * after a failed send, or when minerId changed; otherwise the merge patch from the last record
 * sent (plus minerId and timestamp), or nothing when only "timestamp" differs. Returns 1 when
 * something was sent, 0 when nothing was needed, negative when the send failed. */
int lotus_delta_push(struct lotus_delta *d, const json_t *rec);
/* Make the next push full; when a record was already sent, resend it whole now. */
int lotus_delta_full(struct lotus_delta *d);
void lotus_delta_get_stats(const struct lotus_delta *d, struct lotus_delta_stats *st);

/* ---- the collector ------------------------------------------------------------------------ */

struct lotus_collector;

/* Check conf and prepare (no thread yet). EF_ECONFIG with err set on a bad source or API
 * address. *out is the caller's; free with lotus_collector_free(). */
int lotus_collector_new(const struct lotus_conf *conf, lotus_send_fn send, void *ud,
                        struct lotus_collector **out, char *err, size_t errlen);
/* Start the collector's thread: a collection at once, then every interval. */
int lotus_collector_start(struct lotus_collector *lc);
/* The server wants a full record: resend the last one at the next moment (never blocks). */
void lotus_collector_request_full(struct lotus_collector *lc);
/* One collection and upload on the calling thread (blocks up to a few timeouts); for tests and
 * the bench. Must not be used while the thread runs. The new record goes to *rec when rec is
 * non-NULL (the caller's reference). Returns lotus_delta_push()'s result. */
int lotus_collector_run_once(struct lotus_collector *lc, int64_t now_ms, json_t **rec);
/* The upload counts; thread-safe. While the thread runs: as of its last collection or full
 * resend. */
void lotus_collector_get_stats(struct lotus_collector *lc, struct lotus_delta_stats *st);
/* Stop the thread (waits for a command in progress: at most timeout + 1 s) and free. NULL and
 * *lc == NULL are no-ops. */
void lotus_collector_free(struct lotus_collector **lc);

#endif

/* SPDX-License-Identifier: MIT */
/* edge.h -- libedgefleet: the device side of edgefleet's southbound protocol.
 *
 * A device program creates one client, sets its options (the same keys as the
 * `edgefleet-agent` config file), registers handlers for its custom orders, optionally a status
 * provider, and runs it:
 *
 *   ef_client *c;
 *   ef_client_new(&c);
 *   ef_client_set(c, "server", "ws://127.0.0.1:9090/ws");
 *   ef_client_set(c, "device_id", "123");  ef_client_set(c, "password", "secret");
 *   ef_client_set(c, "data_dir", "/var/lib/mydevice");
 *   ef_client_on_order(c, "blink", blink_cb, &led);
 *   ef_client_run(c);               // blocks until ef_client_stop() or the retry limit
 *   ef_client_free(&c);
 *
 * What it does (docs/protocol.md): connect, log in (session token first, password fallback; the
 * token is kept in data_dir), heartbeat, status upload every status_interval, reconnect every
 * reconnect_interval plus random jitter up to max_retries (0 = forever) -- with several server
 * URLs, fail over round robin between them (below, at `server`) --, execute `restart` (re-exec
 * of this process after the server's confirm or 3 s) and `upload_log` (SFTP) itself, dispatch
 * every other order to the handler registered under its name ("order not in config" otherwise),
 * and keep a local operation log in data_dir that rotates by days.
 *
 * Threads: ef_client_run() runs the client's event loop on the calling thread. Order handlers
 * run on a separate worker thread, one at a time, and may block (the server gives up after its
 * order timeout). The status provider and the log callback run on the loop thread and must not
 * block. ef_client_stop() and ef_client_send_miner() may be called from any thread;
 * ef_client_stop() is also async-signal-safe. Everything else: before ef_client_run() only.
 *
 * Errors: calls return 0 or a negative EF_E* code (edgefleet/error.h). On out of memory the
 * library aborts.
 */
#ifndef EDGEFLEET_EDGE_H
#define EDGEFLEET_EDGE_H

#include <stddef.h>

#include "edgefleet/error.h"
#include "edgefleet/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ef_client ef_client;

/* The version of the libedgefleet this program runs with, "MAJOR.MINOR.PATCH"; the program was
 * compiled with EF_VERSION_STRING (edgefleet/version.h). A static string. */
const char *ef_version(void);

/* Create a client with default options. *out is the caller's; free it with ef_client_free(). */
int ef_client_new(ef_client **out);
/* Free a stopped client and set *c to NULL. NULL and *c == NULL are no-ops. */
void ef_client_free(ef_client **c);

/* Set one option by name ('-' and '_' are equal). Returns EF_ENOENT for an unknown key and
 * EF_ECONFIG for a bad value. The strings are copied. Durations take ms, s, m, h, d; a bare
 * number is seconds ("5" is 5 s, "500ms" half a second). Options and defaults:
 *   server               ws://host:port/path of the server's southbound endpoint (required);
 *                        wss:// for TLS (port 443 by default). Several URLs separated by
 *                        commas (blanks around each ignored, at most 32; a comma inside a URL
 *                        must be written %2C) are the nodes of one cluster: the client starts at
 *                        a random one and moves round robin to the next when an attempt fails
 *                        (connect error, refused or unanswered login) or a logged-in connection
 *                        ends. Before the next URL it waits a random [0, reconnect_jitter] only;
 *                        once every URL has failed in a row (a round; the URL that dropped the
 *                        connection counts), or after a connection that stayed logged in for less
 *                        than reconnect_interval, reconnect_interval + [0, reconnect_jitter].
 *                        A refused session token is followed at once by the password on the same
 *                        URL. One URL: as before (every wait interval + jitter)
 *   ca_file              wss: PEM CAs the server's certificate must chain to [system store]
 *   cert_file, key_file  wss: PEM client certificate and key (mutual TLS) [key: cert_file]
 *   pinned_pubkey        wss: sha256//<base64 SHA-256 of the server's SubjectPublicKeyInfo>,
 *                        ';' between several; checked besides the chain
 *                        (a failed verification is a connect failure, logged with its reason
 *                        and retried like any other). The TLS options apply to every wss://
 *                        URL of the list
 *   device_id            login by id ...
 *   device_sn, device_model   ... or by serial number + model
 *   password             the device password (the fallback when no valid token is kept)
 *   data_dir             where the session token and the operation log live   [.]
 *   ping_interval        5s     heartbeat period after a successful exchange
 *   pong_timeout         3s     wait for a pong / a status ack before counting a failure
 *   status_interval      15s    status upload period
 *   max_failures         3      consecutive failures that drop the connection
 *   reconnect_interval   10s    wait before reconnecting (several URLs: once all of them failed)
 *   reconnect_jitter     5s     plus a uniform random wait in [0, jitter] (several URLs: alone,
 *                               the wait before the next URL)
 *   max_retries          5      failed attempts in a row on each URL (rounds over the list)
 *                               before ef_client_run() gives up: max_retries x number of URLs
 *                               attempts without a login; 0 = forever
 *   restart_wait         3s     re-exec after this long without a restart_confirm
 *   connect_timeout      10s    limit for the TCP connect and the WebSocket handshake (counted
 *                               in whole seconds, rounded up)
 *   login_timeout        10s    wait for the reply to a login before dropping the connection
 *   log_file             device.log   operation log name inside data_dir
 *   log_rotate           1d     rotate the operation log at this age
 *   log_keep             3      rotated files kept (older ones are deleted)
 *   sftp_host, sftp_port [22], sftp_user, sftp_password   target of the upload_log order
 *   sftp_key             private key file (OpenSSH format, no passphrase), tried before the
 *                        password
 *   sftp_known_hosts     known_hosts file the server's key must match; unset = any key accepted
 *   sftp_timeout         8s     limit for the whole upload (connect, login, transfer)
 *   max_message          1m     largest message accepted from the server
 */
int ef_client_set(ef_client *c, const char *key, const char *value);
/* The i-th option (0, 1, ...): its name, default (NULL: none) and a one-line description, for a
 * program's --help. Static strings. EF_ENOENT past the last one. */
int ef_client_option(size_t i, const char **name, const char **def, const char **help);
/* Read "key = value" lines from a file into ef_client_set(); EF_ECONFIG with a message through
 * the log callback on the first bad line. */
int ef_client_load_config(ef_client *c, const char *path);

/* Result of an order handler: write a human-readable message into msg (size msg_len, always
 * NUL-terminated by the library) and return 0 for success or non-zero for failure.
 * `params_json` is the order's params object as JSON text ("{}" when absent); it and `order`
 * are valid only during the call. Runs on the order worker thread. */
typedef int (*ef_order_cb)(void *ud, const char *order, const char *params_json, char *msg,
                           size_t msg_len);
/* Register (or replace) the handler for order `name`. `restart` and `upload_log` are built in
 * and cannot be registered. ud is the caller's and must outlive the client. */
int ef_client_on_order(ef_client *c, const char *name, ef_order_cb cb, void *ud);

/* Status provider: return a JSON object text (malloc'd; the library frees it) whose members are
 * merged into each status upload's `data` beside the library's own CPU_info, Memory_info,
 * Disk_info, device_id and dev_state; NULL adds nothing. Runs on the loop thread. */
typedef char *(*ef_status_cb)(void *ud);
void ef_client_on_status(ef_client *c, ef_status_cb cb, void *ud);

/* Log callback for everything the library has to say (level: 0 error, 1 warn, 2 info, 3 debug).
 * Without one the library is silent; the operation log file is written regardless. */
typedef void (*ef_log_cb)(void *ud, int level, const char *msg);
void ef_client_on_log(ef_client *c, ef_log_cb cb, void *ud);

/* Connection events, for programs that show or act on them (may be NULL). */
enum ef_client_event { EF_EV_CONNECTED, EF_EV_LOGGED_IN, EF_EV_DISCONNECTED, EF_EV_LOGIN_FAILED };
typedef void (*ef_event_cb)(void *ud, enum ef_client_event ev, const char *detail);
void ef_client_on_event(ef_client *c, ef_event_cb cb, void *ud);

/* Run the client on the calling thread until ef_client_stop(), or until max_retries rounds over
 * the server list have failed in a row (then EF_ECLOSED). Returns 0 after a stop. */
int ef_client_run(ef_client *c);
/* Ask a running client to close its connection and return from ef_client_run(). */
void ef_client_stop(ef_client *c);

/* Queue a miner record upload (docs/protocol.md#miner-data): `json` is the upload's data object;
 * full != 0 sends Headers.full = true. Copied; sent when connected and logged in, the newest
 * pending one replaces an older unsent patch only when it is full. Thread-safe. */
int ef_client_send_miner(ef_client *c, const char *json, int full);
/* Called on the loop thread when the server asks for a full miner record (report_full_info). */
typedef void (*ef_full_cb)(void *ud);
void ef_client_on_full_request(ef_client *c, ef_full_cb cb, void *ud);

/* The device id the server confirmed at the last login, or NULL before one. */
const char *ef_client_device_id(const ef_client *c);

#ifdef __cplusplus
}
#endif
#endif

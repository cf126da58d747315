/* SPDX-License-Identifier: MIT */
/* options.c -- libedgefleet's options as one cfg table (names, bounds, defaults: edge.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "edge_internal.h"
#include "edgefleet/error.h"
#include "failover.h"
#include "mem.h"

#define DAY_MS (86400LL * 1000)

static const struct cfg_opt opts[] = {
  CFG_ROW(struct edge_conf, server, CFG_STR, 0, 0, NULL,
          "ws:// or wss://host:port/path of the server's device endpoint; several, comma "
          "separated: failover"),
  CFG_ROW(struct edge_conf, ca_file, CFG_STR, 0, 0, NULL,
          "wss: PEM CA certificates the server's must chain to [the system's store] (--ca)"),
  CFG_ROW(struct edge_conf, cert_file, CFG_STR, 0, 0, NULL,
          "wss: PEM client certificate, for a server that requires one (--cert)"),
  CFG_ROW(struct edge_conf, key_file, CFG_STR, 0, 0, NULL,
          "wss: PEM private key of cert_file [cert_file] (--key)"),
  CFG_ROW(struct edge_conf, pinned_pubkey, CFG_STR, 0, 0, NULL,
          "wss: sha256//<base64> of the server's public key, ';' between several (--pin)"),
  CFG_ROW(struct edge_conf, device_id, CFG_STR, 0, 0, NULL, "log in by device id ..."),
  CFG_ROW(struct edge_conf, device_sn, CFG_STR, 0, 0, NULL, "... or by serial number (--sn) ..."),
  CFG_ROW(struct edge_conf, device_model, CFG_STR, 0, 0, NULL, "... and model (--model)"),
  CFG_ROW(struct edge_conf, password, CFG_STR, 0, 0, NULL,
          "device password (fallback when no session token)"),
  CFG_ROW(struct edge_conf, data_dir, CFG_STR, 0, 0, ".",
          "session token and operation log directory"),
  CFG_ROW(struct edge_conf, ping_interval, CFG_MS, 10, DAY_MS, "5s", "heartbeat period"),
  CFG_ROW(struct edge_conf, pong_timeout, CFG_MS, 10, DAY_MS, "3s",
          "wait for a pong or status ack"),
  CFG_ROW(struct edge_conf, status_interval, CFG_MS, 10, DAY_MS, "15s", "status upload period"),
  CFG_ROW(struct edge_conf, max_failures, CFG_INT, 1, 1000, "3",
          "consecutive failures that drop the connection"),
  CFG_ROW(struct edge_conf, reconnect_interval, CFG_MS, 0, DAY_MS, "10s",
          "wait before reconnecting (several servers: after all failed)"),
  CFG_ROW(struct edge_conf, reconnect_jitter, CFG_MS, 0, DAY_MS, "5s",
          "plus a random wait up to this (alone before the next server)"),
  CFG_ROW(struct edge_conf, max_retries, CFG_INT, 0, 1000000, "5",
          "failed attempts in a row per server before giving up, 0 = forever"),
  CFG_ROW(struct edge_conf, restart_wait, CFG_MS, 0, DAY_MS, "3s",
          "re-exec after this long without restart_confirm"),
  CFG_ROW(struct edge_conf, connect_timeout, CFG_MS, 1000, 3600 * 1000, "10s",
          "limit for the TCP connect and the WebSocket handshake (whole seconds)"),
  CFG_ROW(struct edge_conf, login_timeout, CFG_MS, 100, DAY_MS, "10s",
          "wait for the reply to a login"),
  CFG_ROW(struct edge_conf, log_file, CFG_STR, 0, 0, "device.log",
          "operation log name inside data_dir"),
  CFG_ROW(struct edge_conf, log_rotate, CFG_MS, 1000, 3650 * DAY_MS, "1d",
          "rotate the operation log at this age"),
  CFG_ROW(struct edge_conf, log_keep, CFG_INT, 0, 10000, "3",
          "rotated operation logs kept, 0 = all"),
  CFG_ROW(struct edge_conf, sftp_host, CFG_STR, 0, 0, NULL, "upload_log target host"),
  CFG_ROW(struct edge_conf, sftp_port, CFG_INT, 1, 65535, "22", "upload_log target port"),
  CFG_ROW(struct edge_conf, sftp_user, CFG_STR, 0, 0, NULL, "upload_log user"),
  CFG_ROW(struct edge_conf, sftp_password, CFG_STR, 0, 0, NULL, "upload_log password"),
  CFG_ROW(struct edge_conf, sftp_key, CFG_STR, 0, 0, NULL,
          "upload_log private key file (tried first)"),
  CFG_ROW(struct edge_conf, sftp_known_hosts, CFG_STR, 0, 0, NULL,
          "upload_log known_hosts file; unset = any host key"),
  CFG_ROW(struct edge_conf, sftp_timeout, CFG_MS, 100, DAY_MS, "8s",
          "whole upload_log transfer limit"),
  CFG_ROW(struct edge_conf, max_message, CFG_SIZE, 1024, 256LL * 1024 * 1024, "1m",
          "largest message accepted from the server"),
  CFG_END,
};

const char *ef_version(void) { return EF_VERSION_STRING; }

int options_defaults(struct edge_conf *conf) {
  memset(conf, 0, sizeof *conf);
  return cfg_table_defaults(opts, conf);
}

void options_free(struct edge_conf *conf) { cfg_table_free(opts, conf); }

int ef_client_option(size_t i, const char **name, const char **def, const char **help) {
  if (i >= sizeof opts / sizeof *opts - 1) return EF_ENOENT;
  if (name) *name = opts[i].name;
  if (def) *def = opts[i].def;
  if (help) *help = opts[i].help;
  return 0;
}

int options_parse_url(const char *url, struct edge_url *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!url || !*url) {
    snprintf(err, errlen, "server: not set (ws://host:port/path or wss://...)");
    return EF_ECONFIG;
  }
  out->tls = strncasecmp(url, "wss://", 6) == 0;
  if (!out->tls && strncasecmp(url, "ws://", 5) != 0) {
    snprintf(err, errlen, "server: '%s' must start with ws:// or wss://", url);
    return EF_ECONFIG;
  }
  const char *h = url + (out->tls ? 6 : 5), *slash = strchr(h, '/');
  size_t hostport = slash ? (size_t)(slash - h) : strlen(h);
  const char *hend = h + hostport;
  const char *colon = NULL;
  if (*h == '[') { /* [ipv6]:port */
    const char *rb = memchr(h, ']', hostport);
    if (!rb) goto bad;
    if (rb + 1 < hend && rb[1] != ':') goto bad;
    colon = rb + 1 < hend ? rb + 1 : NULL;
    if ((size_t)(rb - h - 1) >= sizeof out->host || rb == h + 1) goto bad;
    memcpy(out->host, h + 1, (size_t)(rb - h - 1));
  } else {
    colon = memchr(h, ':', hostport);
    size_t hl = colon ? (size_t)(colon - h) : hostport;
    if (hl == 0 || hl >= sizeof out->host) goto bad;
    memcpy(out->host, h, hl);
  }
  out->port = out->tls ? 443 : 80;
  if (colon) {
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end != hend || colon + 1 == hend || p < 1 || p > 65535) goto bad;
    out->port = (int)p;
  }
  snprintf(out->path, sizeof out->path, "%s", slash ? slash : "/");
  if (strlen(slash ? slash : "/") >= sizeof out->path) goto bad;
  return 0;
bad:
  snprintf(err, errlen, "server: '%s' is not a ws[s]://host[:port][/path] URL", url);
  return EF_ECONFIG;
}

int options_set(struct edge_conf *conf, const char *key, const char *value, char *err,
                size_t errlen) {
  char k[128];
  if (!key || !value) {
    snprintf(err, errlen, "option name and value are required");
    return EF_EINVAL;
  }
  snprintf(k, sizeof k, "%s", key);
  for (char *p = k; *p; p++)
    if (*p == '-') *p = '_';
  if (strcmp(k, "server") == 0) {
    int rc = failover_parse(value, NULL, err, errlen);
    if (rc) return rc;
  }
  if (strcmp(k, "pinned_pubkey") == 0 && *value) {
    struct edge_pins p;
    int rc = tls_pins_parse(value, &p, err, errlen);
    if (rc) return rc;
  }
  return cfg_table_set(opts, conf, k, value, err, errlen);
}

static int set_from_file(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  return options_set(&((ef_client *)ud)->conf, key, value, err, errlen);
}

int ef_client_set(ef_client *c, const char *key, const char *value) {
  if (!c) return EF_EINVAL;
  if (c->running) return EF_EBUSY;
  char err[512] = "";
  int rc = options_set(&c->conf, key, value, err, sizeof err);
  if (rc == EF_ECONFIG || rc == EF_EINVAL) client_log(c, 0, "%s", err);
  return rc;
}

int ef_client_load_config(ef_client *c, const char *path) {
  if (!c || !path) return EF_EINVAL;
  if (c->running) return EF_EBUSY;
  char err[768] = "";
  int rc = cfg_parse_file(path, set_from_file, c, err, sizeof err);
  if (rc) client_log(c, 0, "%s", err);
  return rc;
}

/* SPDX-License-Identifier: MIT */
/* provision.c -- `--provision`: register the simulated devices through the REST API's
 * device_add_batch, 10,000 per request, over plain blocking HTTP/1.1 (a one-off step before the
 * run, so no event loop is needed). A 409 means the chunk's devices exist already: go on. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "jsonutil.h"
#include "loadgen.h"
#include "log.h"
#include "mem.h"

#define CHUNK 10000
#define REPLY_MAX (1 << 20)
#define IO_TIMEOUT_S 300

static const char PATH[] = "/service/devices_manage/device_add_batch";

/* The API token: the file's first line, trimmed. NULL (logged) on failure. */
static char *read_token(const char *file) {
  FILE *f = fopen(file, "r");
  if (!f) {
    ef_log(EF_LOG_ERROR, "--provision %s: %s", file, strerror(errno));
    return NULL;
  }
  char buf[512];
  char *tok = NULL;
  if (fgets(buf, sizeof buf, f)) {
    size_t n = strcspn(buf, "\r\n");
    while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t')) n--;
    char *s = buf;
    while (*s == ' ' || *s == '\t') s++, n--;
    if (n > 0 && n < sizeof buf && !strpbrk(s, "\"\\")) tok = ef_strndup(s, n);
  }
  fclose(f);
  if (!tok) ef_log(EF_LOG_ERROR, "--provision %s: no API token in the file", file);
  return tok;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* POST body; returns the HTTP status (or -1, logged) and the response body in *reply. */
static int post(const struct lg_config *cfg, const char *token, const char *body, char **reply) {
  *reply = NULL;
  int fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ef_log(EF_LOG_ERROR, "provision: socket: %s", strerror(errno));
    return -1;
  }
  struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) != 0) {
    ef_log(EF_LOG_ERROR, "provision: connect to %s: %s", cfg->host, strerror(errno));
    close(fd);
    return -1;
  }
  size_t blen = strlen(body);
  char *head = ef_asprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                           "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                           "Connection: close\r\n\r\n",
                           PATH, cfg->host, token, blen);
  int rc = write_all(fd, head, strlen(head)) || write_all(fd, body, blen) ? -1 : 0;
  ef_free(head);
  if (rc) {
    ef_log(EF_LOG_ERROR, "provision: sending the request: %s", strerror(errno));
    close(fd);
    return -1;
  }
  size_t cap = 4096, len = 0;
  char *buf = ef_malloc(cap);
  for (;;) {
    if (len + 1 >= cap) {
      if (cap >= REPLY_MAX) break;
      cap *= 2;
      buf = ef_realloc(buf, cap);
    }
    ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ef_log(EF_LOG_ERROR, "provision: reading the reply: %s", strerror(errno));
      ef_free(buf);
      close(fd);
      return -1;
    }
    if (r == 0) break;
    len += (size_t)r;
    /* Stop at Content-Length when the server keeps the connection open anyway. */
    buf[len] = '\0';
    char *eoh = strstr(buf, "\r\n\r\n");
    const char *cl = eoh ? strcasestr(buf, "\r\nContent-Length:") : NULL;
    if (cl && cl < eoh && len >= (size_t)(eoh + 4 - buf) + strtoul(cl + 17, NULL, 10)) break;
  }
  close(fd);
  buf[len] = '\0';
  int status = 0;
  if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
    ef_log(EF_LOG_ERROR, "provision: not an HTTP response from %s", cfg->host);
    ef_free(buf);
    return -1;
  }
  char *eoh = strstr(buf, "\r\n\r\n");
  *reply = ef_strdup(eoh ? eoh + 4 : "");
  ef_free(buf);
  return status;
}

/* The "message" of a JSON failure body, or the body itself. */
static void log_failure(int status, const char *reply, int64_t first) {
  json_t *j = jparse_object(reply, strlen(reply));
  const char *msg = j ? jstr(j, "message") : NULL;
  ef_log(EF_LOG_ERROR, "provision: device_add_batch from device %lld: HTTP %d: %.300s",
         (long long)first, status, msg ? msg : reply);
  if (j) json_decref(j);
}

int provision_devices(const struct lg_config *cfg) {
  char *token = read_token(cfg->provision);
  if (!token) return -1;
  int64_t first = cfg->first_index, end = cfg->first_index + cfg->devices;
  int64_t added = 0, existed = 0, t0 = lg_mono_us();
  int rc = 0;
  for (int64_t at = first; at < end && rc == 0; at += CHUNK) {
    int64_t stop = at + CHUNK < end ? at + CHUNK : end;
    json_t *arr = json_array();
    char sn[160];
    for (int64_t i = at; i < stop; i++) {
      snprintf(sn, sizeof sn, "%s%lld", cfg->sn_prefix, (long long)i);
      json_array_append_new(arr, json_pack("{s:{s:s, s:s}, s:s, s:s}", "hardware", "sn", sn,
                                           "model", cfg->model, "password", cfg->password,
                                           "device_name", sn));
    }
    char *body = jdump_decref(json_pack("{s:o}", "devices", arr));
    char *reply = NULL;
    int status = post(cfg, token, body, &reply);
    ef_free(body);
    if (status == 200) {
      added += stop - at;
    } else if (status == 409) {
      existed += stop - at;
      ef_log(EF_LOG_INFO, "provision: devices %lld..%lld exist already (409), going on",
             (long long)at, (long long)stop - 1);
    } else {
      if (status > 0) log_failure(status, reply ? reply : "", at);
      rc = -1;
    }
    ef_free(reply);
  }
  if (rc == 0)
    ef_log(EF_LOG_INFO, "provision: %lld devices registered, %lld existed, in %.1f s",
           (long long)added, (long long)existed, (double)(lg_mono_us() - t0) / 1e6);
  explicit_bzero(token, strlen(token));
  ef_free(token);
  return rc;
}

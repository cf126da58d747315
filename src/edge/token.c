/* SPDX-License-Identifier: MIT */
/* token.c -- session token file read/write/expiry (see token.h). */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgefleet/error.h"
#include "jsonutil.h"
#include "mem.h"

static char *path_in(const char *dir, const char *name) {
  return ef_asprintf("%s/%s", dir && *dir ? dir : ".", name);
}

void token_delete(const char *dir) {
  char *p = path_in(dir, TOKEN_FILE);
  unlink(p);
  ef_free(p);
}

void token_clear(struct token *t) {
  ef_free(t->device_id);
  ef_free(t->token);
  memset(t, 0, sizeof *t);
}

int token_load(const char *dir, int64_t now_ms, struct token *out) {
  memset(out, 0, sizeof *out);
  char *p = path_in(dir, TOKEN_FILE);
  if (access(p, F_OK) != 0) {
    ef_free(p);
    return EF_ENOENT;
  }
  json_error_t e;
  json_t *o = json_load_file(p, JSON_REJECT_DUPLICATES, &e);
  ef_free(p);
  if (!o || !json_is_object(o)) {
    json_decref(o);
    token_delete(dir); /* present but malformed */
    return EF_ENOENT;
  }
  const char *id = jstr(o, "device_id"), *tok = jstr(o, "token");
  json_t *exp = json_object_get(o, "expires");
  if (!id || !*id || !tok || !*tok || (exp && !json_is_integer(exp))) {
    json_decref(o);
    token_delete(dir);
    return EF_ENOENT;
  }
  int64_t expires = exp ? (int64_t)json_integer_value(exp) : 0;
  if (expires > 0 && expires <= now_ms) {
    json_decref(o);
    token_delete(dir);
    return EF_ETIMEDOUT;
  }
  out->device_id = ef_strdup(id);
  out->token = ef_strdup(tok);
  out->expires = expires;
  json_decref(o);
  return 0;
}

int token_save(const char *dir, const char *device_id, const char *token, int64_t expires) {
  char *p = path_in(dir, TOKEN_FILE);
  char *tmp = ef_asprintf("%s.tmp.%ld", p, (long)getpid());
  int rc = EF_ESYS;
  json_t *o = json_pack("{s:s, s:s, s:I}", "device_id", device_id, "token", token, "expires",
                        (json_int_t)expires);
  char *text = jdump_decref(o);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) goto fail_open;
  size_t len = strlen(text), off = 0;
  while (off < len) {
    ssize_t w = write(fd, text + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) goto fail_write;
    off += (size_t)w;
  }
  if (fchmod(fd, 0600) != 0 || close(fd) != 0) {
    fd = -1;
    goto fail_write;
  }
  fd = -1;
  if (rename(tmp, p) != 0) goto fail_write;
  rc = 0;
  goto done;
fail_write:
  if (fd >= 0) close(fd);
  unlink(tmp);
fail_open:
done:
  ef_free(text);
  ef_free(tmp);
  ef_free(p);
  return rc;
}

/* SPDX-License-Identifier: MIT */
/* parse_workers.c -- `lotus-miner sealing workers`, `proving workers` and v0.4
 * `lotus-storage-miner workers list` -> {"workers":[...]} in printed order.
 *
 * A worker is a "Worker <id>, host <name>[ (disabled)]" line followed by indented "KEY: ..."
 * lines. The bars are never read (they are wider than 64 columns when over-committed, and hold
 * colour codes on a TTY): only the figures after the closing ']' are. Formats per era in
 * docs/lotus.md#workers: "N core(s)" (<= v0.10) vs "N/M core(s)", numeric vs uuid ids, GPU summary
 * line (v1.13.2+), TASK lines (v1.17+, only the last entry in v1.17.0-v1.19.x). Unknown keys
 * ("GMEM:" of private patches) are kept under "extra".
 */
#include <stdio.h>
#include <string.h>

#include "lotus_internal.h"
#include "lotus_parse.h"

#define MAX_EXTRA 16

struct workers {
  json_t *list;
  json_t *cur; /* the worker being filled (borrowed from list), or NULL */
};

/* The figures after a bar: the text after the first ']' that follows '[' (or after the key). */
static void after_bar(const char **s, size_t *n) {
  const char *open = memchr(*s, '[', *n);
  if (open) {
    size_t rest = *n - (size_t)(open - *s);
    const char *close = memchr(open, ']', rest);
    if (close) {
      *n -= (size_t)(close + 1 - *s);
      *s = close + 1;
    }
  }
  lotus_trim(s, n);
}

/* "2 core(s) in use" or "2/64 core(s) in use" */
static bool parse_cpu(json_t *w, const char *s, size_t n) {
  after_bar(&s, &n);
  const char *tok[4];
  size_t tokn[4];
  unsigned k = lotus_split_ws(s, n, tok, tokn, 3);
  if (k < 1) return false;
  const char *slash = memchr(tok[0], '/', tokn[0]);
  uint64_t used, total;
  json_t *cpu = json_object();
  if (slash) {
    size_t un = (size_t)(slash - tok[0]);
    if (!lotus_uint(tok[0], un, &used) || !lotus_uint(slash + 1, tokn[0] - un - 1, &total))
      goto fail;
    json_object_set_new(cpu, "used", json_integer((json_int_t)used));
    json_object_set_new(cpu, "total", json_integer((json_int_t)total));
  } else {
    if (!lotus_uint(tok[0], tokn[0], &used)) goto fail;
    json_object_set_new(cpu, "used", json_integer((json_int_t)used));
  }
  json_object_set_new(w, "cpu", cpu);
  return true;
fail:
  json_decref(cpu);
  return false;
}

static void set_mem_value(json_t *m, const char *key, const char *s, size_t n) {
  lotus_trim(&s, &n);
  lotus_set_str(m, key, s, n);
  uint64_t b;
  char k[32];
  snprintf(k, sizeof k, "%sBytes", key);
  if (ef_lotus_size_to_u64(s, n, &b) == 0 && b <= (uint64_t)INT64_MAX)
    json_object_set_new(m, k, json_integer((json_int_t)b));
}

/* "24% 123.2 GiB/503 GiB" */
static bool parse_mem(json_t *w, const char *key, const char *s, size_t n) {
  after_bar(&s, &n);
  const char *pct = memchr(s, '%', n);
  if (!pct) return false;
  uint64_t p;
  if (!lotus_uint(s, (size_t)(pct - s), &p)) return false;
  const char *rest = pct + 1;
  size_t rn = n - (size_t)(rest - s);
  const char *slash = memchr(rest, '/', rn);
  if (!slash) return false;
  json_t *m = json_object();
  json_object_set_new(m, "percent", json_integer((json_int_t)p));
  set_mem_value(m, "used", rest, (size_t)(slash - rest));
  set_mem_value(m, "total", slash + 1, rn - (size_t)(slash + 1 - rest));
  json_object_set_new(w, key, m);
  return true;
}

/* "50% 1.00/2 gpu(s) in use" */
static bool parse_gpu_summary(json_t *w, const char *s, size_t n) {
  after_bar(&s, &n);
  const char *tok[4];
  size_t tokn[4];
  unsigned k = lotus_split_ws(s, n, tok, tokn, 3);
  if (k < 2 || tokn[0] < 2 || tok[0][tokn[0] - 1] != '%') return false;
  uint64_t p, total;
  double used;
  const char *slash = memchr(tok[1], '/', tokn[1]);
  if (!slash || !lotus_uint(tok[0], tokn[0] - 1, &p)) return false;
  size_t un = (size_t)(slash - tok[1]);
  if (!lotus_number(tok[1], un, &used) || !lotus_uint(slash + 1, tokn[1] - un - 1, &total))
    return false;
  json_t *g = json_object();
  json_object_set_new(g, "percent", json_integer((json_int_t)p));
  json_object_set_new(g, "used", json_real(used));
  json_object_set_new(g, "total", json_integer((json_int_t)total));
  json_object_set_new(w, "gpu", g);
  return true;
}

/* "NVIDIA GeForce RTX 3090, used" / ", not used" */
static bool parse_gpu_line(json_t *w, const char *s, size_t n) {
  lotus_trim(&s, &n);
  const char *comma = NULL;
  for (size_t i = n; i > 0; i--)
    if (s[i - 1] == ',') {
      comma = s + i - 1;
      break;
    }
  if (!comma) return false;
  const char *st = comma + 1;
  size_t sn = n - (size_t)(st - s);
  lotus_trim(&st, &sn);
  bool used;
  if (sn == 4 && memcmp(st, "used", 4) == 0)
    used = true;
  else if (sn == 8 && memcmp(st, "not used", 8) == 0)
    used = false;
  else
    return false;
  size_t nn = (size_t)(comma - s);
  lotus_trim(&s, &nn);
  json_t *g = json_object();
  lotus_set_str(g, "name", s, nn);
  json_object_set_new(g, "used", json_boolean(used));
  json_array_append_new(json_object_get(w, "gpus"), g);
  return true;
}

/* "GET(1) PC1(12/12) AP(1/2) " */
static bool parse_tasks(json_t *w, const char *s, size_t n) {
  json_t *tasks = json_object_get(w, "tasks");
  size_t i = 0;
  bool any = false;
  while (i < n) {
    while (i < n && lotus_blank(s[i])) i++;
    if (i >= n) break;
    size_t start = i;
    while (i < n && !lotus_blank(s[i])) i++;
    const char *t = s + start;
    size_t tn = i - start;
    const char *open = memchr(t, '(', tn);
    if (!open || t[tn - 1] != ')' || open == t) return false;
    const char *in = open + 1;
    size_t inn = tn - (size_t)(in - t) - 1;
    const char *slash = memchr(in, '/', inn);
    uint64_t running, max = 0;
    size_t rn = slash ? (size_t)(slash - in) : inn;
    if (!lotus_uint(in, rn, &running)) return false;
    if (slash && !lotus_uint(slash + 1, inn - rn - 1, &max)) return false;
    json_t *task = json_object();
    lotus_set_str(task, "task", t, (size_t)(open - t));
    json_object_set_new(task, "running", json_integer((json_int_t)running));
    if (slash) json_object_set_new(task, "max", json_integer((json_int_t)max));
    json_array_append_new(tasks, task);
    any = true;
  }
  return any;
}

/* "Worker <id>, host <hostname>[ (disabled)]" */
static bool parse_worker_head(struct workers *ws, const char *s, size_t n) {
  if (!lotus_prefix(s, n, "Worker ")) return false;
  const char *id = s + 7;
  size_t rest = n - 7;
  const char *comma = memchr(id, ',', rest);
  if (!comma) return false;
  size_t idn = (size_t)(comma - id);
  const char *h = comma + 1;
  size_t hn = n - (size_t)(h - s);
  lotus_trim(&h, &hn);
  if (!lotus_prefix(h, hn, "host")) return false;
  h += 4, hn -= 4;
  bool enabled = true;
  lotus_trim(&h, &hn);
  if (hn >= 10 && memcmp(h + hn - 10, "(disabled)", 10) == 0) {
    enabled = false;
    hn -= 10;
    lotus_trim(&h, &hn);
  }
  lotus_trim(&id, &idn);
  json_t *w = json_object();
  lotus_set_str(w, "id", id, idn);
  lotus_set_str(w, "hostName", h, hn);
  json_object_set_new(w, "enabled", json_boolean(enabled));
  json_object_set_new(w, "tasks", json_array());
  json_object_set_new(w, "gpus", json_array());
  json_array_append_new(ws->list, w);
  ws->cur = w;
  return true;
}

static void on_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  struct workers *ws = ud;
  const char *s = l->s;
  size_t n = l->n;
  lotus_trim(&s, &n);
  if (n == 0) return;
  if (lotus_prefix(s, n, "ERROR:")) {
    lotus_error(c, "lotus-miner: %.*s", (int)(n > 200 ? 200 : n), s);
    return;
  }
  if (parse_worker_head(ws, s, n)) return;
  const char *colon = memchr(s, ':', n);
  if (!ws->cur || !colon || colon == s) {
    lotus_unrecognised(c, s, n);
    return;
  }
  json_t *w = ws->cur;
  size_t kn = (size_t)(colon - s);
  const char *v = colon + 1;
  size_t vn = n - kn - 1;
  bool ok;
  if (kn == 4 && memcmp(s, "TASK", 4) == 0)
    ok = parse_tasks(w, v, vn);
  else if (kn == 3 && memcmp(s, "CPU", 3) == 0)
    ok = parse_cpu(w, v, vn);
  else if (kn == 3 && memcmp(s, "RAM", 3) == 0)
    ok = parse_mem(w, "ram", v, vn);
  else if (kn == 4 && memcmp(s, "VMEM", 4) == 0)
    ok = parse_mem(w, "vmem", v, vn);
  else if (kn == 3 && memcmp(s, "GPU", 3) == 0)
    ok = memchr(v, '[', vn) ? parse_gpu_summary(w, v, vn) : parse_gpu_line(w, v, vn);
  else if (kn <= 32 && !memchr(s, ' ', kn)) { /* an unknown key: keep it */
    json_t *extra = json_object_get(w, "extra");
    if (!extra) {
      extra = json_object();
      json_object_set_new(w, "extra", extra);
    }
    if (json_object_size(extra) < MAX_EXTRA) {
      lotus_trim(&v, &vn);
      lotus_set(extra, s, kn, lotus_jstr(v, vn));
    }
    ok = true;
  } else {
    ok = false;
  }
  if (!ok) lotus_unrecognised(c, s, n);
}

json_t *ef_lotus_parse_workers(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  struct workers ws = {.list = json_array()};
  json_object_set_new(c.root, "workers", ws.list);
  lotus_each_line(&c, buf, len, on_line, &ws);
  return lotus_finish(&c);
}

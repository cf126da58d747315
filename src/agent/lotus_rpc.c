/* SPDX-License-Identifier: MIT */
/* lotus_rpc.c -- the lotus collector's JSON-RPC source (lotus_rpc.h): libcurl POSTs of
 * {"jsonrpc":"2.0","method":"Filecoin.X","params":[...],"id":1} with a bearer token, the answers
 * turned into the CLI parsers' shapes.
 *
 * What comes from where: the miner API gives ActorAddress (minerId), ActorSectorSize,
 * SectorsSummary (sectorStates), WorkerStats (workers) and WorkerJobs (jobs); the full node API,
 * when configured, gives StateMinerPower, StateMinerInfo (worker and control addresses),
 * WalletBalance (miner, worker, control balances), StateMinerAvailableBalance and StateReadState
 * (PreCommit deposits, initial pledge, vesting), StateMinerSectorCount (proving, faulty and
 * committed power), ChainHead (the clock for epochs), StateMinerProvingDeadline,
 * StateMinerDeadlines and StateMinerPartitions (deadlines[]), StateMinerFaults and
 * StateMinerRecoveries, StateAccountKey (key addresses of owner/worker/control) and MpoolPending
 * (totalMessages: the pool's messages from those addresses); lotus_rpc_deadlines.c shapes them.
 * attoFIL integers are formatted as lotus' CLI does (ef_lotus_fil_short) and kept exact in
 * "…Atto". The projected win rate is computed as `lotus-miner info` does (cli/miner/info.go).
 *
 * libcurl is loaded on the first collection (curl_lazy.h), not by the dynamic linker at start:
 * when it cannot be, every collection fails with that reason in err (the record's "error").
 */
#define _DEFAULT_SOURCE /* timegm */
#include "lotus_rpc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curl_lazy.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "lotus_record.h"
#include "lotus_rpc_deadlines.h"
#include "lotus_units.h"
#include "mem.h"

#define URL_MAX 512
#define TOKEN_MAX 1024
#define BODY_MAX (16u << 20)

struct lotus_rpc {
  const struct lazy_curl *cu; /* set with curl on the first collection */
  CURL *curl;
  char miner_url[URL_MAX], miner_token[TOKEN_MAX];
  char node_url[URL_MAX], node_token[TOKEN_MAX];
  bool node;
  int64_t timeout_ms;
};

/* ---- API info --------------------------------------------------------------------------- */

static bool copy_str(char *dst, size_t cap, const char *s, size_t n) {
  if (n + 1 > cap) return false;
  memcpy(dst, s, n);
  dst[n] = '\0';
  return true;
}

/* "/ip4/1.2.3.4/tcp/2345/http" -> "http://1.2.3.4:2345/rpc/v0". */
static int multiaddr_url(const char *ma, char *url, size_t cap) {
  char proto[8], host[256], port[8];
  if (sscanf(ma, "/%7[^/]/%255[^/]/tcp/%7[0-9]", proto, host, port) != 3) return EF_EPARSE;
  const char *fmt;
  if (strcmp(proto, "ip6") == 0) fmt = "http://[%s]:%s/rpc/v0";
  else if (!strcmp(proto, "ip4") || !strcmp(proto, "dns") || !strcmp(proto, "dns4") ||
           !strcmp(proto, "dns6"))
    fmt = "http://%s:%s/rpc/v0";
  else return EF_EPARSE;
  for (const char *h = host; *h; h++)
    if (!(isalnum((unsigned char)*h) || *h == '.' || *h == '-' || *h == ':')) return EF_EPARSE;
  int n = snprintf(url, cap, fmt, host, port);
  return n < 0 || (size_t)n >= cap ? EF_ETOOBIG : 0;
}

static int http_url(const char *s, char *url, size_t cap) {
  const char *rest = strstr(s, "://");
  if (!rest) return EF_EPARSE;
  bool has_path = strchr(rest + 3, '/') != NULL;
  int n = snprintf(url, cap, "%s%s", s, has_path ? "" : "/rpc/v0");
  return n < 0 || (size_t)n >= cap ? EF_ETOOBIG : 0;
}

int lotus_api_info_parse(const char *info, char *url, size_t url_cap, char *token,
                         size_t token_cap) {
  if (!info || !*info || url_cap == 0 || token_cap == 0) return EF_EPARSE;
  url[0] = token[0] = '\0';
  if (strncmp(info, "http://", 7) == 0 || strncmp(info, "https://", 8) == 0)
    return http_url(info, url, url_cap) == 0 ? 0 : EF_EPARSE;
  const char *colon = strchr(info, ':');
  if (!colon || colon == info) return EF_EPARSE;
  if (!copy_str(token, token_cap, info, (size_t)(colon - info))) return EF_EPARSE;
  for (const char *t = token; *t; t++)
    if (!isgraph((unsigned char)*t)) return EF_EPARSE;
  const char *addr = colon + 1;
  int rc = strncmp(addr, "http", 4) == 0 ? http_url(addr, url, url_cap)
                                         : multiaddr_url(addr, url, url_cap);
  if (rc != 0) {
    url[0] = token[0] = '\0';
    return EF_EPARSE;
  }
  return 0;
}

/* ---- life ------------------------------------------------------------------------------- */

static int endpoint(const char *api, const char *tok, char *url, char *token, const char *what,
                    char *err, size_t errlen) {
  if (lotus_api_info_parse(api, url, URL_MAX, token, TOKEN_MAX) != 0) {
    snprintf(err, errlen, "%s: '%.64s' is neither TOKEN:/ip4/HOST/tcp/PORT/http nor http://HOST:PORT",
             what, api);
    return EF_ECONFIG;
  }
  if (tok && *tok && !copy_str(token, TOKEN_MAX, tok, strlen(tok))) {
    snprintf(err, errlen, "%s: token too long", what);
    return EF_ECONFIG;
  }
  return 0;
}

int lotus_rpc_new(const char *miner_api, const char *miner_token, const char *node_api,
                  const char *node_token, int64_t timeout_ms, struct lotus_rpc **out, char *err,
                  size_t errlen) {
  struct lotus_rpc *r = ef_calloc(1, sizeof *r);
  r->timeout_ms = timeout_ms;
  if (endpoint(miner_api, miner_token, r->miner_url, r->miner_token, "lotus_api", err, errlen))
    goto fail;
  if (node_api) {
    if (endpoint(node_api, node_token, r->node_url, r->node_token, "lotus_node_api", err, errlen))
      goto fail;
    r->node = true;
  }
  *out = r;
  return 0;

fail:
  ef_free(r);
  return EF_ECONFIG;
}

/* Load libcurl and make the handle on first use. false with err set when that fails. */
static bool ready(struct lotus_rpc *r, char *err, size_t errlen) {
  if (r->curl) return true;
  const struct lazy_curl *cu = lazy_curl(err, errlen);
  if (!cu) return false;
  if (cu->curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(err, errlen, "lotus rpc: cannot initialise libcurl");
    return false;
  }
  r->curl = cu->curl_easy_init();
  if (!r->curl) {
    snprintf(err, errlen, "lotus rpc: cannot initialise libcurl");
    cu->curl_global_cleanup();
    return false;
  }
  r->cu = cu;
  return true;
}

void lotus_rpc_free(struct lotus_rpc **r) {
  if (!r || !*r) return;
  if ((*r)->curl) {
    (*r)->cu->curl_easy_cleanup((*r)->curl);
    (*r)->cu->curl_global_cleanup();
  }
  ef_free(*r);
  *r = NULL;
}

/* ---- one call --------------------------------------------------------------------------- */

struct body {
  char *p;
  size_t len;
  bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud) {
  struct body *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > BODY_MAX) {
    b->too_big = true;
    return 0; /* aborts the transfer */
  }
  b->p = ef_realloc(b->p, b->len + n + 1);
  memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = '\0';
  return n;
}

/* Call `method` with `params` (stolen). On success *result is a new reference. Otherwise -1 with
 * "rpc Filecoin.X: why" appended to err. */
static int call(struct lotus_rpc *r, bool node, const char *method, json_t *params,
                json_t **result, char *err, size_t errlen) {
  *result = NULL;
  json_t *req = json_pack("{s:s, s:s, s:o, s:i}", "jsonrpc", "2.0", "method", method, "params",
                          params, "id", 1);
  char *text = jdump(req);
  json_decref(req);
  char auth[TOKEN_MAX + 32];
  const char *token = node ? r->node_token : r->miner_token;
  const struct lazy_curl *cu = r->cu;
  struct curl_slist *hdrs = cu->curl_slist_append(NULL, "Content-Type: application/json");
  if (*token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    hdrs = cu->curl_slist_append(hdrs, auth);
  }
  struct body b = {0};
  CURL *c = r->curl;
  cu->curl_easy_reset(c);
  cu->curl_easy_setopt(c, CURLOPT_URL, node ? r->node_url : r->miner_url);
  cu->curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  cu->curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
  cu->curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
  cu->curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)r->timeout_ms);
  cu->curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  cu->curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  cu->curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  cu->curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  CURLcode cc = cu->curl_easy_perform(c);
  long status = 0;
  cu->curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  cu->curl_slist_free_all(hdrs);
  ef_free(text);

  char why[300] = "";
  json_t *resp = NULL;
  if (b.too_big) snprintf(why, sizeof why, "answer larger than %u bytes", BODY_MAX);
  else if (cc != CURLE_OK) snprintf(why, sizeof why, "%s", cu->curl_easy_strerror(cc));
  else if (status == 401 || status == 403)
    snprintf(why, sizeof why, "HTTP %ld, the API token was refused (%s)", status,
             *token ? "check lotus_token / lotus_node_token" : "no token configured");
  else if (!(resp = jparse_object(b.p ? b.p : "", b.len)))
    snprintf(why, sizeof why, "HTTP %ld, not a JSON-RPC answer", status);
  else if (jobj(resp, "error"))
    snprintf(why, sizeof why, "%.256s",
             jstr(jobj(resp, "error"), "message") ? jstr(jobj(resp, "error"), "message")
                                                  : "error without message");
  else if (!json_object_get(resp, "result"))
    snprintf(why, sizeof why, "HTTP %ld, answer without result", status);
  else *result = json_incref(json_object_get(resp, "result"));
  json_decref(resp);
  ef_free(b.p);
  if (*result) return 0;
  size_t n = strlen(err);
  if (n + 3 < errlen)
    snprintf(err + n, errlen - n, "%srpc %s: %s", n ? "; " : "", method, why);
  return -1;
}

/* ---- value helpers ---------------------------------------------------------------------- */

static bool all_digits(const char *s) {
  if (!s || !*s) return false;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return false;
  return true;
}

/* info[key] = FIL text of the attoFIL integer `atto`, plus keyAtto/keyExact. */
static void set_fil(json_t *info, const char *key, const char *atto) {
  char out[EF_LOTUS_FIL_MAX], k[64];
  if (!atto || ef_lotus_fil_short(atto, out, sizeof out) != 0) return;
  json_object_set_new(info, key, json_string(out));
  snprintf(k, sizeof k, "%sAtto", key);
  json_object_set_new(info, k, json_string(atto));
  snprintf(k, sizeof k, "%sExact", key);
  json_object_set_new(info, k, json_true());
}

/* info[key] = the byte count `bytes` (decimal text or integer) as lotus prints it, plus
 * keyBytes: SizeStr ("%.4g" and B KiB MiB ...) or, for quality-adjusted power, DeciStr ("%.3g"
 * and "" Ki Mi ..., as `lotus-miner info` prints it since v1.32.1). Both divide by 1024 while the
 * value is >= 1024, in doubles here (network power exceeds 2^64 bytes). */
static void put_size(json_t *info, const char *key, const json_t *bytes, bool deci) {
  static const char *const size_units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"};
  static const char *const deci_units[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi"};
  char num[48], out[48], k[64];
  if (json_is_integer(bytes)) snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(bytes));
  else if (json_is_string(bytes) && strlen(json_string_value(bytes)) < sizeof num)
    snprintf(num, sizeof num, "%s", json_string_value(bytes));
  else return;
  if (!all_digits(num)) return;
  double f = strtod(num, NULL);
  int i = 0;
  while (f >= 1024 && i + 1 < 8) f /= 1024, i++;
  if (f == 0) snprintf(out, sizeof out, deci ? "0 " : "0 B");
  else if (deci) snprintf(out, sizeof out, "%.3g %s", f, deci_units[i]);
  else snprintf(out, sizeof out, "%.4g %s", f, size_units[i]);
  json_object_set_new(info, key, json_string(out));
  snprintf(k, sizeof k, "%sBytes", key);
  json_object_set_new(info, k, json_string(num));
}

static void set_size(json_t *info, const char *key, const json_t *bytes) {
  put_size(info, key, bytes, false);
}

/* Sum of non-negative decimal integers a + b into out (cap >= EF_LOTUS_ATTO_MAX). */
static bool dec_add(const char *a, const char *b, char *out, size_t cap) {
  size_t la = strlen(a), lb = strlen(b), n = (la > lb ? la : lb) + 1;
  if (!all_digits(a) || !all_digits(b) || n + 1 > cap) return false;
  out[n] = '\0';
  int carry = 0;
  for (size_t i = 0; i < n; i++) {
    int d = carry;
    if (i < la) d += a[la - 1 - i] - '0';
    if (i < lb) d += b[lb - 1 - i] - '0';
    out[n - 1 - i] = (char)('0' + d % 10);
    carry = d / 10;
  }
  size_t z = 0;
  while (z + 1 < n && out[z] == '0') z++;
  memmove(out, out + z, n - z + 1);
  return true;
}

/* ---- WorkerStats / WorkerJobs ----------------------------------------------------------- */

/* o[k] as an integer: an integer as it is, a real truncated, 0 for anything else -- and for a
 * real outside the range of json_int_t (1e300 CPUs is no count; converting it is undefined
 * behaviour). */
static json_int_t jint(const json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  if (json_is_integer(v)) return json_integer_value(v);
  double d = json_number_value(v);
  return d > -9.2e18 && d < 9.2e18 ? (json_int_t)d : 0;
}

static json_t *size_pair(uint64_t used, uint64_t total) {
  char u[32] = "", t[32] = "";
  ef_lotus_size_str(used, u, sizeof u);
  ef_lotus_size_str(total, t, sizeof t);
  return json_pack("{s:I, s:s, s:I, s:s, s:I}", "percent",
                   (json_int_t)(total ? used * 100 / total : 0), "used", u, "usedBytes",
                   (json_int_t)used, "total", t, "totalBytes", (json_int_t)total);
}

static json_t *one_worker(const char *id, const json_t *ws) {
  json_t *info = jobj(ws, "Info");
  json_t *res = jobj(info, "Resources");
  const char *host = jstr(info, "Hostname");
  json_t *en = json_object_get(ws, "Enabled");
  json_t *w = json_pack("{s:s, s:s, s:b}", "id", id, "hostName", host ? host : "", "enabled",
                        !json_is_false(en));
  json_t *types = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(ws, "Tasks"), i, v)
    if (json_is_string(v)) json_array_append_new(types, json_string(lotus_task_short(json_string_value(v))));
  json_object_set_new(w, "taskTypes", types);
  json_t *tasks = json_array();
  const char *k;
  json_object_foreach(jobj(ws, "TaskCounts"), k, v) {
    const char *colon = strchr(k, ':'); /* "8:seal/v0/precommit/1" (sector size class:task) */
    json_t *t = json_pack("{s:s, s:I}", "task", lotus_task_short(colon ? colon + 1 : k),
                          "running", (json_int_t)json_integer_value(v));
    json_array_append_new(tasks, t);
  }
  json_object_set_new(w, "tasks", tasks);
  json_object_set_new(w, "cpu", json_pack("{s:I, s:I}", "used", jint(ws, "CpuUse"), "total",
                                          jint(res, "CPUs")));
  uint64_t total = (uint64_t)jint(res, "MemPhysical");
  uint64_t tasks_min = (uint64_t)jint(ws, "MemUsedMin");
  uint64_t used = json_object_get(res, "MemUsed")
                      ? (uint64_t)jint(res, "MemUsed")
                      : (uint64_t)jint(res, "MemReserved") + tasks_min;
  if (used < tasks_min) used = tasks_min;
  json_object_set_new(w, "ram", size_pair(used, total));
  json_t *gpu_used = json_object_get(ws, "GpuUsed");
  bool busy = json_is_true(gpu_used) || json_number_value(gpu_used) > 0;
  json_t *gpus = json_array();
  json_array_foreach(json_object_get(res, "GPUs"), i, v)
    if (json_is_string(v))
      json_array_append_new(gpus, json_pack("{s:s, s:b}", "name", json_string_value(v), "used", busy));
  json_object_set_new(w, "gpus", gpus);
  return w;
}

json_t *lotus_rpc_workers(const json_t *stats) {
  json_t *arr = json_array();
  const char *id;
  json_t *ws;
  json_object_foreach((json_t *)stats, id, ws)
    if (json_is_object(ws)) json_array_append_new(arr, one_worker(id, ws));
  return json_pack("{s:o}", "workers", arr);
}

/* RFC 3339 ("2023-08-24T09:07:51.503671822Z", "...+02:00") -> Unix ms; -1 when not one. */
static int64_t rfc3339_ms(const char *s) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  int y, mo, d, h, mi, sec, n = 0;
  if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return -1;
  const char *p = s + n;
  double frac = 0, scale = 0.1;
  if (*p == '.')
    for (p++; isdigit((unsigned char)*p); p++, scale /= 10) frac += (*p - '0') * scale;
  int off = 0;
  if (*p == '+' || *p == '-') {
    int oh, om;
    if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return -1;
    off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
  } else if (*p != 'Z') {
    return -1;
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  return ((int64_t)t - off) * 1000 + (int64_t)(frac * 1000);
}

static const char *host_of(const json_t *stats, const char *worker) {
  return jstr(jobj(json_object_get(stats, worker), "Info"), "Hostname");
}

static json_t *one_job(const char *worker, const json_t *j, const json_t *stats, int64_t now_ms) {
  char id[40] = "", sector[24] = "", wid[16], state[32], time_s[64] = "n/a";
  json_t *jid = json_object_get(j, "ID");
  bool old = json_is_integer(jid); /* v0.5.5 - v1.1.2: numeric ids, RunWait 1 = assigned(0) */
  if (old) snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT, json_integer_value(jid));
  else if (jstr(jid, "ID")) snprintf(id, sizeof id, "%.8s", jstr(jid, "ID"));
  json_t *num = json_object_get(jobj(j, "Sector"), "Number");
  if (json_is_integer(num)) snprintf(sector, sizeof sector, "%" JSON_INTEGER_FORMAT, json_integer_value(num));
  snprintf(wid, sizeof wid, "%.8s", worker);
  json_int_t rw = jint(j, "RunWait");
  if (rw == 0) snprintf(state, sizeof state, "running");
  else if (old && rw > 0) snprintf(state, sizeof state, "assigned(%d)", (int)(rw - 1));
  else if (rw > 1) snprintf(state, sizeof state, "assigned(%d)", (int)(rw - 1));
  else if (rw == 1) snprintf(state, sizeof state, "prepared");
  else if (rw == -1) snprintf(state, sizeof state, "ret-wait");
  else if (rw == -2) snprintf(state, sizeof state, "returned");
  else if (rw == -3) snprintf(state, sizeof state, "ret-done");
  else snprintf(state, sizeof state, "unknown(%d)", (int)rw);
  int64_t start = rfc3339_ms(jstr(j, "Start"));
  if (start >= 946684800000LL && now_ms >= start) { /* lotus' 1970 "unknown start" -> n/a */
    int64_t ms = (now_ms - start) / 100 * 100;
    ef_lotus_duration_str(ms * 1000000, time_s, sizeof time_s);
  }
  const char *host = jstr(j, "Hostname");
  if (!host || !*host) host = host_of(stats, worker);
  const char *task = jstr(j, "Task");
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "sector", sector, "worker",
                   wid, "hostName", host ? host : "", "task", lotus_task_short(task ? task : ""),
                   "state", state, "time", time_s);
}

json_t *lotus_rpc_jobs(const json_t *jobs, const json_t *stats, int64_t now_ms) {
  json_t *arr = json_array();
  const char *worker;
  json_t *list;
  json_object_foreach((json_t *)jobs, worker, list) {
    size_t i;
    json_t *j;
    json_array_foreach(list, i, j)
      if (json_is_object(j)) json_array_append_new(arr, one_job(worker, j, stats, now_ms));
  }
  return json_pack("{s:o}", "jobs", arr);
}

/* ---- one collection --------------------------------------------------------------------- */

static json_t *addr_param(const char *addr, bool tipset) {
  return tipset ? json_pack("[s, n]", addr) : json_pack("[s]", addr);
}

/* The decimal integer text `s` as a double (big powers), NAN when it is not one. */
static double dec_double(const json_t *v) {
  const char *s = json_string_value(v);
  if (!all_digits(s)) return NAN;
  return strtod(s, NULL);
}

/* expectBlock / expectBlock99 as `lotus-miner info` prints them (5 blocks per epoch, 30 s
 * epochs, Poisson for multi-wins, durations truncated to the second). */
static void win_rate(json_t *info, const json_t *power) {
  double qa = dec_double(json_object_get(jobj(power, "MinerPower"), "QualityAdjPower"));
  double net = dec_double(json_object_get(jobj(power, "TotalPower"), "QualityAdjPower"));
  if (!(qa > 0) || !(net > 0) || !json_is_true(json_object_get(power, "HasMinPower"))) return;
  double ratio = -expm1(-(qa * 5 / net));
  if (!(ratio > 0)) return;
  char every[64], p999[64], text[160];
  double avg = 30.0 / ratio, n999 = 30.0 * log(1 - 0.999) / log(1 - ratio);
  if (avg > 9e9 || n999 > 9e9) return;
  ef_lotus_duration_str((int64_t)avg * 1000000000LL, every, sizeof every);
  ef_lotus_duration_str((int64_t)n999 * 1000000000LL, p999, sizeof p999);
  snprintf(text, sizeof text, "%.02f/week (every %s)", ratio * 7 * 2880, every);
  json_object_set_new(info, "expectBlock", json_string(text));
  json_object_set_new(info, "expectBlock99", json_string(p999));
}

/* effectivePower ("Proving": active + faulty sectors), faultyPower, committedPower, faultyPercent
 * from StateMinerSectorCount, as `lotus-miner info` computes them. */
static void sector_power(struct lotus_rpc *r, json_t *info, const char *miner, char *err,
                         size_t errlen) {
  const char *size = jstr(info, "sectorSizeBytes");
  json_t *res;
  if (!all_digits(size) ||
      call(r, true, "Filecoin.StateMinerSectorCount", addr_param(miner, true), &res, err, errlen) != 0)
    return;
  uint64_t ss = strtoull(size, NULL, 10);
  json_int_t live = jint(res, "Live"), active = jint(res, "Active"), faulty = jint(res, "Faulty");
  json_decref(res);
  json_t *b = json_integer((json_int_t)((uint64_t)(active + faulty) * ss));
  set_size(info, "effectivePower", b);
  json_decref(b);
  b = json_integer((json_int_t)((uint64_t)live * ss));
  set_size(info, "committedPower", b);
  json_decref(b);
  if (faulty > 0) {
    b = json_integer((json_int_t)((uint64_t)faulty * ss));
    set_size(info, "faultyPower", b);
    json_decref(b);
    double pct = live ? (double)(100 * faulty) / (double)live : 0;
    json_object_set_new(info, "faultyPercent", json_real(round(pct * 100) / 100));
  }
}

/* deadlines[], currentDeadline and the window times; faults and recoveries. */
static void proving_fields(struct lotus_rpc *r, json_t *info, const char *miner, char *err,
                           size_t errlen) {
  json_t *head = NULL, *dl = NULL, *dls = NULL, *parts[LOTUS_RPC_DEADLINES] = {0};
  struct lotus_chain_clock clock, *ck = NULL;
  if (call(r, true, "Filecoin.ChainHead", json_array(), &head, err, errlen) == 0) {
    json_t *h = json_object_get(head, "Height");
    json_t *ts = json_object_get(json_array_get(json_object_get(head, "Blocks"), 0), "Timestamp");
    if (json_is_integer(h) && json_is_integer(ts)) {
      clock = (struct lotus_chain_clock){json_integer_value(h), json_integer_value(ts) * 1000};
      ck = &clock;
    }
  }
  if (call(r, true, "Filecoin.StateMinerProvingDeadline", addr_param(miner, true), &dl, err,
           errlen) == 0 &&
      call(r, true, "Filecoin.StateMinerDeadlines", addr_param(miner, true), &dls, err, errlen) == 0) {
    for (size_t i = 0; i < json_array_size(dls) && i < LOTUS_RPC_DEADLINES; i++)
      if (call(r, true, "Filecoin.StateMinerPartitions",
               json_pack("[s, I, n]", miner, (json_int_t)i), &parts[i], err, errlen) != 0)
        break; /* one failure is reported once, not 48 times */
    lotus_rpc_put_deadlines(info, dl, dls, parts, ck);
  }
  json_t *faults = NULL, *rec = NULL;
  call(r, true, "Filecoin.StateMinerFaults", addr_param(miner, true), &faults, err, errlen);
  call(r, true, "Filecoin.StateMinerRecoveries", addr_param(miner, true), &rec, err, errlen);
  lotus_rpc_put_faults(info, faults, rec);
  json_decref(faults);
  json_decref(rec);
  for (size_t i = 0; i < LOTUS_RPC_DEADLINES; i++) json_decref(parts[i]);
  json_decref(dl);
  json_decref(dls);
  json_decref(head);
}

/* totalMessages: MpoolPending's messages sent from the owner, worker or a control address, by
 * their ID or key address (StateAccountKey; an address without one, e.g. a multisig owner,
 * counts by its ID address only). */
static void pending_messages(struct lotus_rpc *r, json_t *info, const json_t *mi, char *err,
                             size_t errlen) {
  json_t *addrs = json_array(), *v;
  const char *keys[] = {"Owner", "Worker"};
  for (size_t i = 0; i < 2; i++)
    if (jstr(mi, keys[i])) json_array_append_new(addrs, json_string(jstr(mi, keys[i])));
  size_t i, n;
  json_array_foreach(json_object_get(mi, "ControlAddresses"), i, v)
    if (json_is_string(v)) json_array_append(addrs, v);
  n = json_array_size(addrs);
  for (i = 0; i < n; i++) {
    char scratch[256] = ""; /* a non-account actor has no key: not an error of the record */
    json_t *key;
    if (call(r, true, "Filecoin.StateAccountKey",
             json_pack("[O, n]", json_array_get(addrs, i)), &key, scratch, sizeof scratch) == 0) {
      if (json_is_string(key)) json_array_append(addrs, key);
      json_decref(key);
    }
  }
  json_t *pending;
  if (call(r, true, "Filecoin.MpoolPending", json_pack("[n]"), &pending, err, errlen) == 0 &&
      json_is_array(pending)) {
    json_object_set_new(info, "totalMessages",
                        json_integer(lotus_rpc_count_messages(pending, addrs)));
  } else {
    json_object_set_new(info, "totalMessagesError", json_string("rpc Filecoin.MpoolPending failed"));
  }
  json_decref(pending);
  json_decref(addrs);
}

static void chain_fields(struct lotus_rpc *r, json_t *info, const char *miner, char *err,
                         size_t errlen) {
  json_t *res;
  if (call(r, true, "Filecoin.StateMinerPower", addr_param(miner, true), &res, err, errlen) == 0) {
    json_t *mp = jobj(res, "MinerPower"), *tp = jobj(res, "TotalPower");
    set_size(info, "rawBytePower", json_object_get(mp, "RawBytePower"));
    put_size(info, "adjustedPower", json_object_get(mp, "QualityAdjPower"), true);
    set_size(info, "totalRawPower", json_object_get(tp, "RawBytePower"));
    put_size(info, "totalAdjustedPower", json_object_get(tp, "QualityAdjPower"), true);
    json_t *hm = json_object_get(res, "HasMinPower");
    if (json_is_false(hm)) json_object_set_new(info, "belowMinPower", json_true());
    win_rate(info, res);
    json_decref(res);
  }
  if (call(r, true, "Filecoin.WalletBalance", json_pack("[s]", miner), &res, err, errlen) == 0) {
    set_fil(info, "minerBalance", json_string_value(res));
    json_decref(res);
  }
  if (call(r, true, "Filecoin.StateMinerAvailableBalance", addr_param(miner, true), &res, err,
           errlen) == 0) {
    set_fil(info, "minerAvailable", json_string_value(res));
    json_decref(res);
  }
  if (call(r, true, "Filecoin.StateReadState", addr_param(miner, true), &res, err, errlen) == 0) {
    json_t *st = jobj(res, "State");
    set_fil(info, "preCommitDeposit", jstr(st, "PreCommitDeposits"));
    set_fil(info, "pledgeBalance", jstr(st, "InitialPledge"));
    set_fil(info, "vestingBalance", jstr(st, "LockedFunds"));
    json_decref(res);
  }
  sector_power(r, info, miner, err, errlen);
  proving_fields(r, info, miner, err, errlen);
  json_t *mi;
  if (call(r, true, "Filecoin.StateMinerInfo", addr_param(miner, true), &mi, err, errlen) != 0) {
    json_object_set_new(info, "totalMessagesError",
                        json_string("the miner's addresses are unknown (StateMinerInfo failed)"));
    return;
  }
  if (!json_object_get(info, "sectorSize")) set_size(info, "sectorSize", json_object_get(mi, "SectorSize"));
  lotus_rpc_put_addresses(info, mi);
  pending_messages(r, info, mi, err, errlen);
  const char *worker = jstr(mi, "Worker");
  if (worker && call(r, true, "Filecoin.WalletBalance", json_pack("[s]", worker), &res, err,
                     errlen) == 0) {
    set_fil(info, "workerBalance", json_string_value(res));
    json_decref(res);
  }
  json_t *ctl = json_object_get(mi, "ControlAddresses");
  if (json_array_size(ctl) > 0) {
    char sum[EF_LOTUS_ATTO_MAX] = "0", tmp[EF_LOTUS_ATTO_MAX];
    bool ok = true;
    size_t i;
    json_t *a;
    json_array_foreach(ctl, i, a) {
      if (!json_is_string(a) ||
          call(r, true, "Filecoin.WalletBalance", json_pack("[O]", a), &res, err, errlen) != 0) {
        ok = false;
        break;
      }
      const char *v = json_string_value(res);
      ok = v && dec_add(sum, v, tmp, sizeof tmp);
      if (ok) memcpy(sum, tmp, sizeof sum);
      json_decref(res);
      if (!ok) break;
    }
    if (ok) set_fil(info, "postBalance", sum);
  }
  json_decref(mi);
}

int lotus_rpc_collect(struct lotus_rpc *r, int64_t now_ms, json_t **info, json_t **workers,
                      json_t **jobs, char *err, size_t errlen) {
  *info = *workers = *jobs = NULL;
  if (errlen) err[0] = '\0';
  if (!ready(r, err, errlen)) return EF_EIO;
  json_t *res;
  if (call(r, false, "Filecoin.ActorAddress", json_array(), &res, err, errlen) != 0) return EF_EIO;
  const char *miner = json_string_value(res);
  if (!miner || !*miner) {
    json_decref(res);
    snprintf(err, errlen, "rpc Filecoin.ActorAddress: not an address");
    return EF_EIO;
  }
  json_t *inf = json_pack("{s:s}", "minerId", miner);
  json_decref(res);
  miner = jstr(inf, "minerId");
  if (call(r, false, "Filecoin.ActorSectorSize", json_pack("[s]", miner), &res, err, errlen) == 0) {
    set_size(inf, "sectorSize", res);
    json_decref(res);
  }
  if (call(r, false, "Filecoin.SectorsSummary", json_array(), &res, err, errlen) == 0) {
    if (json_is_object(res)) json_object_set(inf, "sectorStates", res);
    json_decref(res);
  }
  if (r->node) chain_fields(r, inf, miner, err, errlen);
  else
    json_object_set_new(inf, "totalMessagesError",
                        json_string("no lotus_node_api configured (MpoolPending is a full-node call)"));
  *info = inf;

  json_t *stats = NULL;
  if (call(r, false, "Filecoin.WorkerStats", json_array(), &stats, err, errlen) == 0) {
    *workers = lotus_rpc_workers(stats);
  }
  if (call(r, false, "Filecoin.WorkerJobs", json_array(), &res, err, errlen) == 0) {
    *jobs = lotus_rpc_jobs(res, stats, now_ms);
    json_decref(res);
  }
  json_decref(stats);
  return 0;
}

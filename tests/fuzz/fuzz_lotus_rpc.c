/* SPDX-License-Identifier: MIT */
/* fuzz_lotus_rpc.c -- the lotus collector's JSON-RPC source (src/agent/lotus_rpc.c) on arbitrary
 * answers: a whole collection (lotus_rpc_collect: every call of the miner's and the full node's
 * API, the answers' JSON-RPC envelopes, the conversions to the CLI parsers' shapes) runs against
 * a fake libcurl that answers each call from the input, then the record is built from what it
 * produced (src/agent/lotus_record.c), as the collector does.
 *
 * The input is records separated by NUL bytes, each "Method BODY": BODY is the HTTP body the fake
 * answers Filecoin.Method with (a method's records are used in order, its last one again when
 * they run out; a method without a record, or a record "!Method", fails the transfer).
 * "api TEXT" and "node TEXT" give the miner's and the full node's API info (the config values
 * lotus_api and lotus_node_api, also parsed here). Seeds: corpus/lotus_rpc, made from the
 * answers in tests/data/lotus-rpc. libcurl is reached only through lazy_curl() (curl_lazy.h),
 * which this file defines instead of src/agent/curl_lazy.c. */
#include <jansson.h>
#include <stdarg.h>

#include "curl_lazy.h"
#include "edgefleet/error.h"
#include "fuzz.h"
#include "log.h"
#include "lotus_record.h"
#include "lotus_rpc.h"

#define NOW_MS 1700000000000LL
#define MAX_RECORDS 64

struct answer {
  char method[64];
  const char *body;
  size_t len;
  bool fail;
};

static struct answer answers[MAX_RECORDS];
static size_t nanswers;
static unsigned calls_of[MAX_RECORDS]; /* per answer index: times its method was called */

/* ----- the fake libcurl ----- */

static struct {
  curl_write_callback write;
  void *wdata;
  const char *post;
} easy;
static int handle; /* what CURL * and curl_slist * point at */

static CURLcode f_global_init(long flags) {
  (void)flags;
  return CURLE_OK;
}
static void f_global_cleanup(void) {}
static CURL *f_easy_init(void) { return &handle; }
static void f_easy_cleanup(CURL *c) { FUZZ_CHECK(c == &handle); }
static void f_easy_reset(CURL *c) {
  FUZZ_CHECK(c == &handle);
  memset(&easy, 0, sizeof easy);
}

static CURLcode f_easy_setopt(CURL *c, CURLoption opt, ...) {
  FUZZ_CHECK(c == &handle);
  va_list ap;
  va_start(ap, opt);
  if (opt == CURLOPT_WRITEFUNCTION) easy.write = va_arg(ap, curl_write_callback);
  else if (opt == CURLOPT_WRITEDATA) easy.wdata = va_arg(ap, void *);
  else if (opt == CURLOPT_POSTFIELDS) easy.post = va_arg(ap, const char *);
  va_end(ap);
  return CURLE_OK;
}

/* The answer for the method named in the request: its next record, else its last one. */
static const struct answer *answer_for(const char *method) {
  const struct answer *last = NULL;
  for (size_t i = 0; i < nanswers; i++) {
    if (strcmp(answers[i].method, method) != 0) continue;
    last = &answers[i];
    if (calls_of[i]++ == 0) return last;
  }
  return last;
}

static CURLcode f_easy_perform(CURL *c) {
  FUZZ_CHECK(c == &handle && easy.write && easy.post);
  json_t *req = json_loads(easy.post, 0, NULL); /* the request is the collector's: valid JSON */
  FUZZ_CHECK(req != NULL);
  const char *m = json_string_value(json_object_get(req, "method"));
  FUZZ_CHECK(m && strncmp(m, "Filecoin.", 9) == 0);
  const struct answer *a = answer_for(m + 9);
  json_decref(req);
  if (!a) return CURLE_COULDNT_CONNECT;
  if (a->fail) return CURLE_OPERATION_TIMEDOUT;
  /* In two writes, as a body may arrive. */
  size_t half = a->len / 2;
  if (half && easy.write((char *)a->body, 1, half, easy.wdata) != half) return CURLE_WRITE_ERROR;
  size_t rest = a->len - half;
  if (rest && easy.write((char *)a->body + half, 1, rest, easy.wdata) != rest)
    return CURLE_WRITE_ERROR;
  return CURLE_OK;
}

static CURLcode f_easy_getinfo(CURL *c, CURLINFO info, ...) {
  FUZZ_CHECK(c == &handle);
  va_list ap;
  va_start(ap, info);
  if (info == CURLINFO_RESPONSE_CODE) *va_arg(ap, long *) = 200;
  va_end(ap);
  return CURLE_OK;
}

static const char *f_easy_strerror(CURLcode cc) {
  return cc == CURLE_OPERATION_TIMEDOUT ? "Timeout was reached" : "Could not connect";
}

static struct curl_slist *f_slist_append(struct curl_slist *l, const char *s) {
  (void)l;
  FUZZ_CHECK(s != NULL);
  return (struct curl_slist *)&handle;
}
static void f_slist_free_all(struct curl_slist *l) { (void)l; }

static const struct lazy_curl fake = {
  .curl_global_init = f_global_init,
  .curl_global_cleanup = f_global_cleanup,
  .curl_easy_init = f_easy_init,
  .curl_easy_cleanup = f_easy_cleanup,
  .curl_easy_reset = f_easy_reset,
  .curl_easy_setopt = f_easy_setopt,
  .curl_easy_perform = f_easy_perform,
  .curl_easy_getinfo = f_easy_getinfo,
  .curl_easy_strerror = f_easy_strerror,
  .curl_slist_append = f_slist_append,
  .curl_slist_free_all = f_slist_free_all,
};

const struct lazy_curl *lazy_curl(char *err, size_t errlen) {
  (void)err;
  (void)errlen;
  return &fake;
}

/* ----- the collection ----- */

static void check_parts(json_t *info, json_t *workers, json_t *jobs) {
  FUZZ_CHECK(json_is_object(info) && json_is_string(json_object_get(info, "minerId")));
  FUZZ_CHECK(!workers || json_is_array(json_object_get(workers, "workers")));
  FUZZ_CHECK(!jobs || json_is_array(json_object_get(jobs, "jobs")));
  json_t *rec = lotus_record_build(info, workers, jobs, NULL, NOW_MS);
  FUZZ_CHECK(json_is_object(rec));
  char *text = json_dumps(rec, JSON_COMPACT);
  FUZZ_CHECK(text != NULL);
  free(text);
  json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool quiet;
  if (!quiet) { /* every log line is formatted (its arguments checked), and dropped */
    quiet = log_set_file("/dev/null") == 0;
    ef_log_threshold = EF_LOG_DEBUG;
  }
  nanswers = 0;
  memset(calls_of, 0, sizeof calls_of);
  char *api = NULL, *node = NULL;
  struct fuzz_split sp = fuzz_split(data, size);
  const char *rec;
  size_t len;
  while (nanswers < MAX_RECORDS && fuzz_next(&sp, '\0', &rec, &len)) {
    const char *sp1 = memchr(rec, ' ', len);
    size_t mlen = sp1 ? (size_t)(sp1 - rec) : len;
    const char *body = sp1 ? sp1 + 1 : rec + len;
    size_t blen = len - (size_t)(body - rec);
    if (mlen == 3 && memcmp(rec, "api", 3) == 0) {
      free(api);
      api = fuzz_strndup(body, blen);
      continue;
    }
    if (mlen == 4 && memcmp(rec, "node", 4) == 0) {
      free(node);
      node = fuzz_strndup(body, blen);
      continue;
    }
    struct answer *a = &answers[nanswers];
    a->fail = mlen > 0 && rec[0] == '!';
    const char *m = a->fail ? rec + 1 : rec;
    size_t ml = a->fail ? mlen - 1 : mlen;
    if (ml >= sizeof a->method) continue;
    memcpy(a->method, m, ml);
    a->method[ml] = '\0';
    a->body = body;
    a->len = blen;
    nanswers++;
  }

  struct lotus_rpc *r = NULL;
  char err[1024] = "";
  int rc = lotus_rpc_new(api ? api : "http://127.0.0.1:2345/rpc/v0", NULL,
                         node ? node : "tok:/ip4/127.0.0.1/tcp/1234/http", NULL, 1000, &r, err,
                         sizeof err);
  if (rc == 0) {
    json_t *info = NULL, *workers = NULL, *jobs = NULL;
    rc = lotus_rpc_collect(r, NOW_MS, &info, &workers, &jobs, err, sizeof err);
    FUZZ_CHECK(memchr(err, '\0', sizeof err));
    if (rc == 0) check_parts(info, workers, jobs);
    else FUZZ_CHECK(rc == EF_EIO && !info && !workers && !jobs && err[0]);
    json_decref(info);
    json_decref(workers);
    json_decref(jobs);
    lotus_rpc_free(&r);
    FUZZ_CHECK(r == NULL);
  } else {
    FUZZ_CHECK(rc == EF_ECONFIG && err[0]);
  }
  /* The converters on their own, with the first answer's result as both arguments. */
  if (nanswers) {
    json_t *v = json_loadb(answers[0].body, answers[0].len, 0, NULL);
    json_t *res = json_object_get(v, "result");
    if (res) {
      json_decref(lotus_rpc_workers(res));
      json_decref(lotus_rpc_jobs(res, res, NOW_MS));
    }
    json_decref(v);
  }
  free(api);
  free(node);
  return 0;
}

/* SPDX-License-Identifier: MIT */
/* orders.c -- give_order dispatch: the built-in restart handshake and upload_log, and custom
 * orders run one at a time on a worker thread while the loop keeps the heartbeat going.
 *
 * Jobs go loop -> worker through jobs_head, results worker -> loop through done_head (both under
 * mu; the worker wakes the loop with the async handle). A job's order_id JSON is created and
 * freed on the loop thread only; the worker reads the name and params and writes status/msg.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edge_internal.h"
#include "mem.h"
#include "oplog.h"
#include "proto.h"
#include "wire.h"

/* libedgefleet's own result message (the original device has none for it); the rest are wire.h's. */
#define MSG_NO_ORDER_TYPE "missing order_type"

int ef_client_on_order(ef_client *c, const char *name, ef_order_cb cb, void *ud) {
  if (!c || !name || !*name || !cb) return EF_EINVAL;
  if (strcmp(name, WIRE_ORDER_RESTART) == 0 || strcmp(name, WIRE_ORDER_UPLOAD_LOG) == 0) return EF_EINVAL;
  if (c->running) return EF_EBUSY;
  for (size_t i = 0; i < c->n_handlers; i++)
    if (strcmp(c->handlers[i].name, name) == 0) {
      c->handlers[i].cb = cb;
      c->handlers[i].ud = ud;
      return 0;
    }
  c->handlers = ef_realloc(c->handlers, (c->n_handlers + 1) * sizeof *c->handlers);
  c->handlers[c->n_handlers++] = (struct order_handler){ef_strdup(name), cb, ud};
  return 0;
}

void orders_free_handlers(ef_client *c) {
  for (size_t i = 0; i < c->n_handlers; i++) ef_free(c->handlers[i].name);
  ef_free(c->handlers);
  c->handlers = NULL;
  c->n_handlers = 0;
}

static const struct order_handler *find_handler(const ef_client *c, const char *name) {
  for (size_t i = 0; i < c->n_handlers; i++)
    if (strcmp(c->handlers[i].name, name) == 0) return &c->handlers[i];
  return NULL;
}

static void job_free(struct order_job *j) {
  ef_free(j->order);
  ef_free(j->params);
  ef_free(j->remote_file);
  json_decref(j->order_id);
  ef_free(j);
}

static void send_result(ef_client *c, bool ok, const char *message, const json_t *order_id) {
  client_send_owned(c, proto_result(ok, message, order_id));
}

/* ===== worker thread ===== */

static void run_job(ef_client *c, struct order_job *j) {
  j->msg[0] = '\0';
  if (j->kind == JOB_UPLOAD_LOG) {
    char detail[sizeof j->msg - 64];
    char *local = ef_asprintf("%s/%s", c->conf.data_dir, c->conf.log_file);
    int rc = sftp_upload(&c->conf, local, j->remote_file, detail, sizeof detail);
    ef_free(local);
    j->status = rc == 0 ? 0 : 1;
    snprintf(j->msg, sizeof j->msg, "%s (%s)",
             rc == 0 ? WIRE_RESULT_UPLOAD_OK : WIRE_RESULT_UPLOAD_FAIL, detail);
    return;
  }
  const struct order_handler *h = find_handler(c, j->order); /* the table is frozen while running */
  if (!h) {
    j->status = 1;
    snprintf(j->msg, sizeof j->msg, WIRE_RESULT_NOT_IN_CONFIG);
    return;
  }
  int rc = h->cb(h->ud, j->order, j->params, j->msg, sizeof j->msg);
  j->msg[sizeof j->msg - 1] = '\0';
  j->status = rc == 0 ? 0 : 1;
  if (!j->msg[0])
    snprintf(j->msg, sizeof j->msg, "%s", rc == 0 ? WIRE_RESULT_EXEC_OK : WIRE_RESULT_EXEC_FAIL);
}

static void *worker_main(void *arg) {
  ef_client *c = arg;
  pthread_mutex_lock(&c->mu);
  for (;;) {
    while (!c->worker_quit && !c->jobs_head) pthread_cond_wait(&c->cv, &c->mu);
    if (c->worker_quit) break;
    struct order_job *j = c->jobs_head;
    c->jobs_head = j->next;
    if (!c->jobs_head) c->jobs_tail = NULL;
    j->next = NULL;
    pthread_mutex_unlock(&c->mu);
    run_job(c, j);
    pthread_mutex_lock(&c->mu);
    if (c->done_tail) c->done_tail->next = j;
    else c->done_head = j;
    c->done_tail = j;
    if (atomic_load(&c->async_ready)) uv_async_send(&c->async);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

int orders_start(ef_client *c) {
  c->worker_quit = false;
  if (pthread_create(&c->worker, NULL, worker_main, c) != 0) {
    client_log(c, 0, "cannot start the order worker thread: %s", strerror(errno));
    return EF_ESYS;
  }
  c->worker_started = true;
  return 0;
}

static void free_jobs(struct order_job *j) {
  while (j) {
    struct order_job *n = j->next;
    job_free(j);
    j = n;
  }
}

void orders_stop(ef_client *c) {
  if (!c->worker_started) return;
  pthread_mutex_lock(&c->mu);
  c->worker_quit = true;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  pthread_join(c->worker, NULL);
  c->worker_started = false;
  free_jobs(c->jobs_head);
  free_jobs(c->done_head);
  c->jobs_head = c->jobs_tail = c->done_head = c->done_tail = NULL;
}

/* ===== loop thread ===== */

static void push_job(ef_client *c, struct order_job *j) {
  j->conn_gen = c->conn_gen;
  pthread_mutex_lock(&c->mu);
  if (c->jobs_tail) c->jobs_tail->next = j;
  else c->jobs_head = j;
  c->jobs_tail = j;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

void orders_flush_results(ef_client *c) {
  pthread_mutex_lock(&c->mu);
  struct order_job *list = c->done_head;
  c->done_head = c->done_tail = NULL;
  pthread_mutex_unlock(&c->mu);
  while (list) {
    struct order_job *j = list;
    list = j->next;
    bool ok = j->status == 0;
    if (j->conn_gen == c->conn_gen && c->state == CONN_ONLINE) {
      /* upload_log answers with the original's message, its reason in parentheses */
      client_oplog(c, ok ? 2 : 0, "order %s: %s: %s", j->order, ok ? "success" : "fail", j->msg);
      send_result(c, ok, j->msg, j->order_id);
    } else {
      client_oplog(c, 1, "order %s finished (%s) after its connection closed; result dropped",
                   j->order, ok ? "success" : "fail");
    }
    job_free(j);
  }
}

static void on_restart_timer(uv_timer_t *t);

static void do_restart(ef_client *c) {
  c->restart_armed = false;
  uv_timer_stop(&c->t_restart);
  c->restart_exec = true;
  atomic_store(&c->stop_req, true);
  client_wake(c);
}

static void on_restart_timer(uv_timer_t *t) {
  ef_client *c = t->data;
  if (!c->restart_armed) return;
  client_oplog(c, 1, "start Restart but failed to receive Server Confirm.");
  do_restart(c);
}

void orders_on_restart_confirm(ef_client *c) {
  if (!c->restart_armed) {
    client_log(c, 3, "restart_confirm without a pending restart; ignored");
    return;
  }
  client_oplog(c, 2, "Receive Restart Confirm:start to Restart.");
  do_restart(c);
}

void orders_on_give(ef_client *c, const struct proto_msg *m) {
  if (!m->order_type || !*m->order_type) {
    client_oplog(c, 1, "order without Headers.order_type");
    send_result(c, false, MSG_NO_ORDER_TYPE, m->order_id);
    return;
  }
  const char *type = m->order_type;
  client_oplog(c, 2, "receive order %s", type);
  if (strcmp(type, WIRE_ORDER_RESTART) == 0) {
    if (c->restart_armed || c->restart_exec) return;
    client_oplog(c, 2, "request Server Restart Confirm.");
    send_result(c, true, WIRE_RESTART_WAIT, m->order_id);
    c->restart_armed = true;
    uv_timer_start(&c->t_restart, on_restart_timer, (uint64_t)c->conf.restart_wait, 0);
    return;
  }
  if (strcmp(type, WIRE_ORDER_UPLOAD_LOG) != 0 && !find_handler(c, type)) {
    client_oplog(c, 1, "order %s: fail: " WIRE_RESULT_NOT_IN_CONFIG, type);
    send_result(c, false, WIRE_RESULT_NOT_IN_CONFIG, m->order_id);
    return;
  }
  struct order_job *j = ef_calloc(1, sizeof *j);
  j->order = ef_strdup(type);
  j->params = ef_strdup(m->params ? m->params : "{}");
  j->order_id = m->order_id ? json_deep_copy(m->order_id) : NULL;
  if (strcmp(type, WIRE_ORDER_UPLOAD_LOG) == 0) {
    const char *id = m->order_device && *m->order_device ? m->order_device
                     : c->confirmed_id                   ? c->confirmed_id
                                                         : c->conf.device_id;
    if (!m->remote_dir || !*m->remote_dir || !id) {
      client_oplog(c, 1, "order " WIRE_ORDER_UPLOAD_LOG ": fail: no remote_dir");
      send_result(c, false, WIRE_RESULT_UPLOAD_FAIL, m->order_id);
      job_free(j);
      return;
    }
    size_t dl = strlen(m->remote_dir);
    bool slash = m->remote_dir[dl - 1] == '/';
    j->kind = JOB_UPLOAD_LOG;
    j->remote_file = ef_asprintf("%s%s%s.log", m->remote_dir, slash ? "" : "/", id);
    client_oplog(c, 2, "try to upload log.");
    oplog_flush(c->oplog);
  } else {
    j->kind = JOB_CUSTOM;
  }
  push_job(c, j);
}

int orders_reexec(ef_client *c) {
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) goto fail_open;
  size_t cap = 4096, len = 0;
  char *buf = ef_malloc(cap);
  for (;;) {
    if (len + 1 >= cap) buf = ef_realloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  if (len == 0) goto fail_args;
  buf[len] = '\0'; /* cmdline ends in NUL already; this guards a truncated one */
  size_t argc = 0;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '\0') argc++;
  if (buf[len - 1] != '\0') argc++;
  char **argv = ef_calloc(argc + 1, sizeof *argv);
  size_t k = 0;
  for (size_t i = 0; i < len && k < argc; i += strlen(buf + i) + 1) argv[k++] = buf + i;
  argv[k] = NULL;
  client_oplog(c, 2, "restarting: exec %s", argv[0]);
  oplog_close(&c->oplog);
  fflush(NULL);
  execv("/proc/self/exe", argv);
  int e = errno;
  ef_free(argv);
  ef_free(buf);
  client_log(c, 0, "restart failed: exec: %s", strerror(e));
  return EF_ESYS;
fail_args:
  ef_free(buf);
fail_open:
  client_log(c, 0, "restart failed: cannot read /proc/self/cmdline");
  return EF_ESYS;
}

/* SPDX-License-Identifier: MIT */
/* worker.c -- the database thread (see worker.h): a FIFO of jobs in, a FIFO of finished jobs out. */
#include "worker.h"

#include <pthread.h>
#include <stdbool.h>

#include "edgefleet/error.h"
#include "mem.h"

struct worker {
  uv_loop_t *loop;
  uv_async_t wake;          /* done queue non-empty */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct worker_job *todo_head, *todo_tail;
  struct worker_job *done_head, *done_tail;
  size_t pending;           /* loop thread only */
  bool stopping;
  struct store *store;
};

static void push(struct worker_job **head, struct worker_job **tail, struct worker_job *j) {
  j->next = NULL;
  if (*tail) (*tail)->next = j;
  else *head = j;
  *tail = j;
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->todo_head && !w->stopping) pthread_cond_wait(&w->cond, &w->lock);
    struct worker_job *j = w->todo_head;
    if (!j) break; /* stopping and drained */
    w->todo_head = j->next;
    if (!w->todo_head) w->todo_tail = NULL;
    pthread_mutex_unlock(&w->lock);

    j->work(w->store, j);

    pthread_mutex_lock(&w->lock);
    push(&w->done_head, &w->done_tail, j);
    uv_async_send(&w->wake);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

static void run_done(struct worker *w) {
  pthread_mutex_lock(&w->lock);
  struct worker_job *j = w->done_head;
  w->done_head = w->done_tail = NULL;
  pthread_mutex_unlock(&w->lock);
  while (j) {
    struct worker_job *next = j->next;
    w->pending--;
    j->done(j);
    j = next;
  }
}

static void on_wake(uv_async_t *a) { run_done(a->data); }

int worker_start(uv_loop_t *loop, struct store *st, struct worker **out) {
  struct worker *w = ef_calloc(1, sizeof *w);
  w->loop = loop;
  w->store = st;
  if (uv_async_init(loop, &w->wake, on_wake) != 0) goto fail_async;
  w->wake.data = w;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->cond, NULL);
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0) goto fail_thread;
  *out = w;
  return 0;

fail_thread:
  pthread_cond_destroy(&w->cond);
  pthread_mutex_destroy(&w->lock);
  uv_close((uv_handle_t *)&w->wake, NULL); /* w leaks until the loop runs: acceptable at start-up */
  return EF_ESYS;
fail_async:
  ef_free(w);
  return EF_ESYS;
}

void worker_submit(struct worker *w, struct worker_job *job) {
  w->pending++;
  pthread_mutex_lock(&w->lock);
  push(&w->todo_head, &w->todo_tail, job);
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

static void free_worker(uv_handle_t *h) { ef_free(h->data); }

void worker_stop(struct worker **wp) {
  struct worker *w = *wp;
  if (!w) return;
  /* done() callbacks may submit more jobs (e.g. a final flush): drain until quiet. */
  while (w->pending) {
    pthread_mutex_lock(&w->lock);
    while (!w->done_head) {
      pthread_mutex_unlock(&w->lock);
      uv_sleep(1);
      pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    run_done(w);
  }
  pthread_mutex_lock(&w->lock);
  w->stopping = true;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cond);
  pthread_mutex_destroy(&w->lock);
  store_close(&w->store);
  uv_close((uv_handle_t *)&w->wake, free_worker);
  *wp = NULL;
}

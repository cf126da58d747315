/* SPDX-License-Identifier: MIT */
/* worker_stubs.c -- worker.h without a thread: submitted jobs wait in a FIFO until the test runs
 * them with stub_worker_run(), work() on the store given to stub_worker_reset() and then done(),
 * both on the test's thread (the real worker's order: one at a time, in submission order). */
#include "stubs.h"
#include "worker.h"

static struct worker_job *head, *tail;
static size_t pending, submitted;
static struct store *store;

void worker_submit(struct worker *w, struct worker_job *job) {
  (void)w;
  job->next = NULL;
  if (tail) tail->next = job;
  else head = job;
  tail = job;
  pending++;
  submitted++;
}

void stub_worker_reset(struct store *st) {
  head = tail = NULL;
  pending = submitted = 0;
  store = st;
}

size_t stub_worker_pending(void) { return pending; }
size_t stub_worker_submitted(void) { return submitted; }

size_t stub_worker_run(void) {
  size_t n = 0;
  while (head) {
    struct worker_job *j = head;
    head = j->next;
    if (!head) tail = NULL;
    pending--;
    j->work(store, j);
    j->done(j); /* may free j, may submit more */
    n++;
  }
  return n;
}

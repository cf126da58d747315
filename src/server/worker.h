/* SPDX-License-Identifier: MIT */
/* worker.h -- the database thread: the one place edgefleetd touches its store.
 *
 * The network loop never blocks on the database. It hands a job to the worker thread, which
 * runs job->work(store, job) there, and later job->done(job) runs back on the loop thread (woken
 * with a uv_async). Jobs run one at a time in submission order, so writes never race and the
 * store handle needs no locking. The job struct is the caller's (embed it in your request
 * context, container_of style) and must stay valid until done() has been called; done() is
 * where it is usually freed.
 */
#ifndef EF_WORKER_H
#define EF_WORKER_H

#include <stddef.h>
#include <uv.h>

#include "store.h"

struct worker_job {
  void (*work)(struct store *st, struct worker_job *job); /* on the worker thread */
  void (*done)(struct worker_job *job);                   /* on the loop thread */
  struct worker_job *next;                                /* private */
};

struct worker;

/* Start the thread; it owns `st` from now on and closes it in worker_stop(). */
int worker_start(uv_loop_t *loop, struct store *st, struct worker **out);
void worker_submit(struct worker *w, struct worker_job *job);
/* Finish every submitted job (their done() callbacks run inside this call), stop the thread,
 * close the store and the async handle. The loop must be run once more to release the handle. */
void worker_stop(struct worker **w);

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif

/* SPDX-License-Identifier: MIT */
/* miner.c -- the miner upload queue: any thread pushes, the loop sends once logged in. A full
 * record replaces everything still pending (it supersedes the patches before it). */
#include <string.h>

#include "edge_internal.h"
#include "jsonutil.h"
#include "mem.h"
#include "proto.h"

#define MINER_QUEUE_MAX 256

static void free_list(struct miner_msg *m) {
  while (m) {
    struct miner_msg *n = m->next;
    ef_free(m->json);
    ef_free(m);
    m = n;
  }
}

int ef_client_send_miner(ef_client *c, const char *json, int full) {
  if (!c || !json) return EF_EINVAL;
  json_t *o = jparse_object(json, strlen(json));
  if (!o) return EF_EPARSE;
  json_decref(o);
  struct miner_msg *m = ef_calloc(1, sizeof *m);
  m->json = ef_strdup(json);
  m->full = full != 0;
  struct miner_msg *drop = NULL;
  pthread_mutex_lock(&c->mu);
  if (m->full) {
    drop = c->miner_head;
    c->miner_head = c->miner_tail = NULL;
    c->miner_count = 0;
  } else if (c->miner_count >= MINER_QUEUE_MAX) {
    pthread_mutex_unlock(&c->mu);
    free_list(m);
    return EF_EBUSY;
  }
  if (c->miner_tail) c->miner_tail->next = m;
  else c->miner_head = m;
  c->miner_tail = m;
  c->miner_count++;
  pthread_mutex_unlock(&c->mu);
  free_list(drop);
  client_wake(c);
  return 0;
}

void miner_flush(ef_client *c) {
  if (c->state != CONN_ONLINE || !c->wsi) return;
  pthread_mutex_lock(&c->mu);
  struct miner_msg *list = c->miner_head;
  c->miner_head = c->miner_tail = NULL;
  c->miner_count = 0;
  pthread_mutex_unlock(&c->mu);
  for (struct miner_msg *m = list; m; m = m->next) {
    client_send_owned(c, proto_miner(m->json, m->full));
    client_oplog(c, 2, "upload miner info (%s)", m->full ? "full" : "patch");
  }
  free_list(list);
}

void miner_free_all(ef_client *c) {
  free_list(c->miner_head);
  c->miner_head = c->miner_tail = NULL;
  c->miner_count = 0;
}

/* SPDX-License-Identifier: MIT */
/* cluster_wire.h -- the framing of the messages cluster nodes broadcast (docs/cluster.md, "The bus").
 *
 * One bus message carries many records, so a node sends a few messages a second however many
 * devices it holds. The framing is text headers with byte counts, so a status upload travels as
 * the bytes the device sent (no JSON escaping or parsing on the way):
 *
 *   EF1 <node> <epoch>\n                      once, first: the sender and its start time (ms)
 *   <kind> <id> <time> <len1> <len2>\n<f1><f2>   per record; f1, f2 are len1, len2 bytes
 *
 * Kinds (what f1 and f2 hold): 'I' login (peer, -), 'S' state (state name, why), 'O' logout
 * (why, -), 'U' status upload (host name or empty, the device's message), 'M' miner upload (-,
 * the device's message), 'H' heartbeat (id: the devices the node holds), 'B' the node is
 * stopping (-, -), 'Q' the node (re)connected and asks for every node's directory (-, -),
 * 'C' a change the other nodes must apply (-, JSON). Numbers are decimal; ids up to 2^64-1, times >= 0.
 *
 * Decoding is strict and bounded (the input comes from the network): a malformed message is
 * refused whole, with nothing applied.
 */
#ifndef EF_CLUSTER_WIRE_H
#define EF_CLUSTER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_WIRE_MAGIC "EF1"

struct cwire_buf {          /* a message being built */
  char *p;
  size_t len, cap;
};

struct cwire_rec {          /* a decoded record: f1, f2 point into the message */
  char kind;
  uint64_t id;
  int64_t time;
  const char *f1, *f2;
  size_t len1, len2;
};

struct cwire_reader {
  const char *p, *end;
  unsigned node;            /* the sender (header) */
  int64_t epoch;            /* its start time */
};

/* Start a message from `node` with `epoch` in b (emptied first). */
void cwire_begin(struct cwire_buf *b, unsigned node, int64_t epoch);
/* Append a record (f1/f2 may be NULL with length 0). */
void cwire_add(struct cwire_buf *b, char kind, uint64_t id, int64_t time, const char *f1,
               size_t len1, const char *f2, size_t len2);
void cwire_free(struct cwire_buf *b);

/* Read the header of msg[len]: false when it is not a bus message. */
bool cwire_open(struct cwire_reader *r, const char *msg, size_t len);
/* The next record: 1, 0 at the end, -1 when the rest is malformed. */
int cwire_next(struct cwire_reader *r, struct cwire_rec *out);
/* The whole message is well formed (checked before anything of it is applied). */
bool cwire_valid(const char *msg, size_t len);

#endif

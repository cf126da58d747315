/* SPDX-License-Identifier: MIT */
/* print.h -- fake-lotus-miner's commands: the simulated state printed the way lotus-miner
 * (miner/v1.36.1) prints it to a pipe, i.e. without colour. */
#ifndef FLM_PRINT_H
#define FLM_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "sim.h"

/* `lotus-miner info` (without --blocks); hide_sectors = --hide-sectors-info. */
void print_info(const struct sim *s, FILE *out, bool hide_sectors);
/* `lotus-miner sealing workers`. */
void print_workers(const struct sim *s, FILE *out);
/* `lotus-miner sealing jobs`. */
void print_jobs(const struct sim *s, FILE *out);
/* `lotus-miner sectors list` (Removed sectors hidden, as without --show-removed). */
void print_sectors(const struct sim *s, FILE *out);
/* `lotus-miner proving deadlines` (the v1.36 layout with the open column). */
void print_deadlines(const struct sim *s, FILE *out);
/* `lotus-miner proving info`. */
void print_proving_info(const struct sim *s, FILE *out);
/* `lotus-miner proving faults`. */
void print_faults(const struct sim *s, FILE *out);
/* `lotus-miner proving check --only-bad DL`. */
void print_check_bad(const struct sim *s, int dl, FILE *out);
/* `lotus-miner actor control list [--verbose]`. */
void print_control(const struct sim *s, bool verbose, FILE *out);
/* `lotus-miner net id`, `net listen`. */
void print_net_id(const struct sim *s, FILE *out);
void print_net_listen(const struct sim *s, FILE *out);
/* `lotus mpool pending --local`, and one pending message as lotus' JSON (new reference). */
void print_mpool(const struct sim *s, FILE *out);
json_t *sim_message_json(const struct sim *s, const struct sim_msg *m, const char *from);

#endif

/* SPDX-License-Identifier: MIT */
/* print.h -- fake-lotus-miner's commands: the simulated state printed the way lotus-miner
 * (miner/v1.36.1) prints it to a pipe, i.e. without colour. */
#ifndef FLM_PRINT_H
#define FLM_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "sim.h"

/* `lotus-miner info` (without --blocks); hide_sectors = --hide-sectors-info. */
void print_info(const struct sim *s, FILE *out, bool hide_sectors);
/* `lotus-miner sealing workers`. */
void print_workers(const struct sim *s, FILE *out);
/* `lotus-miner sealing jobs`. */
void print_jobs(const struct sim *s, FILE *out);
/* `lotus-miner sectors list` (Removed sectors hidden, as without --show-removed). */
void print_sectors(const struct sim *s, FILE *out);

#endif

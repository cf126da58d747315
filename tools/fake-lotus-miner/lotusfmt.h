/* SPDX-License-Identifier: MIT */
/* lotusfmt.h -- lotus' value formatting, re-done in C: FIL.Short, SizeStr, DeciStr, Go's
 * time.Duration String, EpochTime (durafmt), go-units BytesSize, and Go's text/tabwriter and
 * lotus' lib/tablewriter layouts. Every function writes into a caller buffer and returns it. */
#ifndef LOTUSFMT_H
#define LOTUSFMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { LFMT_LEN = 96 };

/* types.FIL(atto).Short(): "845678.901 FIL", "4.5 μFIL", "100 aFIL", "0". `nano` is in nanoFIL. */
char *lfmt_fil_short_nano(char *buf, int64_t nano);
char *lfmt_fil_short_atto(char *buf, int64_t atto);
/* types.SizeStr: "%.4g" in 1024 steps, "0 B" for zero. */
char *lfmt_size(char *buf, double bytes);
/* types.DeciStr: "%.3g" with units "" Ki Mi ..., "0 B" for zero (miner/v1.32.1+). */
char *lfmt_deci(char *buf, double v);
/* go-units BytesSize (sectors list): "%.4g" + unit without a space, "32GiB". */
char *lfmt_bytes_nospace(char *buf, double bytes);
/* time.Duration(ms).String(): "6h59m31.6s", "17m44.8s", "4.1s", "100ms", "0s". */
char *lfmt_duration(char *buf, int64_t ms);
/* cli/util EpochTime: "4123456 (in 1 year 21 weeks)", "... (3 days 2 hours ago)", "(now)". */
char *lfmt_epoch_time(char *buf, int64_t cur, int64_t e);
/* time.Time.String() in UTC of a whole-second instant: "2026-06-26 14:00:00 +0000 UTC". */
char *lfmt_go_time(char *buf, int64_t ms);

/* A table of cells, laid out at flush time. */
struct lfmt_table;
struct lfmt_table *lfmt_table_new(int ncols);
/* Append a row of `ncols` cells (copied). */
void lfmt_table_row(struct lfmt_table *t, const char *const *cells);
/* Go text/tabwriter (minwidth 2, tabwidth 4, padding 2, spaces): every column but the last is
 * padded to its widest cell + 2. Frees the table. */
void lfmt_table_flush_tabwriter(struct lfmt_table **t, FILE *out);
/* lotus lib/tablewriter: the first row is the header; columns whose cells below the header are
 * all empty are dropped; every cell, the last too, is padded to the column width + 2. */
void lfmt_table_flush_lotus(struct lfmt_table **t, FILE *out);

#endif

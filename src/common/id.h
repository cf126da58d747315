/* SPDX-License-Identifier: MIT */
/* id.h -- snowflake ids: 41 bits of ms since 2024-01-01, 10 bits node, 12 bits sequence.
 * Ids are unique per node and increase with time; they travel as decimal strings in JSON. */
#ifndef EF_ID_H
#define EF_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EF_ID_STRLEN 21 /* 20 digits + NUL */

/* Set this process' node number (0..1023); default 0. Call before the first id_next(). */
void id_set_node(unsigned node);
/* Next id; thread-safe. */
uint64_t id_next(void);
/* Format into buf[EF_ID_STRLEN]; returns buf. */
char *id_format(uint64_t id, char *buf);
/* Parse a decimal id (no sign, no spaces, non-zero); false on anything else. */
bool id_parse(const char *s, uint64_t *out);

#endif

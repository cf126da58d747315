/* SPDX-License-Identifier: MIT */
/* lotus_parse_cli.c -- `edgefleet-agent lotus-parse KIND FILE`: run one
 * parser on a saved lotus-miner output (FILE "-" = stdin) and print the JSON. For operators
 * checking what the agent makes of their miner's output, and for the tests. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lotus_parse.h"
#include "mem.h"

#define MAX_INPUT (64u << 20) /* no lotus-miner output comes near this */

static const struct {
  const char *kind;
  json_t *(*parse)(const char *buf, size_t len);
} parsers[] = {
    {"info", ef_lotus_parse_info},
    {"workers", ef_lotus_parse_workers},
    {"jobs", ef_lotus_parse_jobs},
    {"sectors", ef_lotus_parse_sectors},
    {"deadlines", ef_lotus_parse_deadlines},
    {"faults", ef_lotus_parse_faults},
    {"proving-info", ef_lotus_parse_proving_info},
    {"check", ef_lotus_parse_check},
    {"control", ef_lotus_parse_control},
    {"mpool", ef_lotus_parse_mpool},
    {"net", ef_lotus_parse_net},
};

static int usage(const char *prog) {
  fprintf(stderr,
          "usage: %s KIND FILE\n"
          "  parse a saved lotus-miner output and print it as JSON; FILE '-' reads stdin.\n"
          "  KIND: info (lotus-miner info), workers (sealing workers / proving workers),\n"
          "  jobs (sealing jobs), sectors (sectors list), deadlines (proving deadlines),\n"
          "  faults (proving faults), proving-info (proving info), check (proving check\n"
          "  --only-bad), control (actor control list), mpool (lotus mpool pending --local),\n"
          "  net (net id / net listen)\n",
          prog);
  return 2;
}

/* The whole stream into a new buffer (*out, the caller's); -1 with errno on failure. */
static int slurp(FILE *f, char **out, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = ef_malloc(cap);
  for (;;) {
    if (n == cap) {
      if (cap >= MAX_INPUT) {
        ef_free(buf);
        errno = EFBIG;
        return -1;
      }
      cap *= 2;
      buf = ef_realloc(buf, cap);
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  if (ferror(f)) {
    ef_free(buf);
    errno = errno ? errno : EIO;
    return -1;
  }
  *out = buf;
  *len = n;
  return 0;
}

int lotus_parse_main(int argc, char **argv) {
  const char *prog = argc > 0 && argv[0] ? argv[0] : "lotus-parse";
  if (argc != 3) return usage(prog);
  size_t which = sizeof parsers / sizeof parsers[0];
  for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++)
    if (strcmp(argv[1], parsers[i].kind) == 0) which = i;
  if (which == sizeof parsers / sizeof parsers[0]) {
    fprintf(stderr, "%s: unknown kind '%s'\n", prog, argv[1]);
    return usage(prog);
  }
  bool use_stdin = strcmp(argv[2], "-") == 0;
  FILE *f = use_stdin ? stdin : fopen(argv[2], "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open %s: %s\n", prog, argv[2], strerror(errno));
    return 1;
  }
  char *buf;
  size_t len;
  errno = 0;
  int rc = slurp(f, &buf, &len);
  int saved = errno;
  if (!use_stdin) fclose(f);
  if (rc != 0) {
    fprintf(stderr, "%s: cannot read %s: %s\n", prog, use_stdin ? "stdin" : argv[2],
            strerror(saved));
    return 1;
  }
  json_t *out = parsers[which].parse(buf, len);
  ef_free(buf);
  char *text = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
  json_decref(out);
  if (!text) {
    fprintf(stderr, "%s: cannot serialise the result\n", prog);
    return 1;
  }
  puts(text);
  free(text);
  return fflush(stdout) == 0 ? 0 : 1;
}

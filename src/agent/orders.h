/* SPDX-License-Identifier: MIT */
/* orders.h -- custom orders: split a command template, fill in params, run it without a shell.
 *
 * DESIGN. A template `PROGRAM ARG ARG...` is split once, at config time, on whitespace; "double
 * quotes" group words with spaces (\" and \\ inside quotes). When an order arrives, `{key}` inside
 * any argument (never the program) becomes params[key]: a string as is, a number or boolean as
 * its JSON text. A missing key fails the order; `{...}` that is not a simple name
 * ([A-Za-z0-9_.-]+) stays as written. The words go straight to execvp(): no shell ever sees
 * them, so params cannot inject commands.
 *
 * The child runs in its own process group with stdin on /dev/null and stdout+stderr on one pipe,
 * of which the first ORDER_OUTPUT_MAX bytes are kept. Past the time limit the group gets SIGTERM,
 * then SIGKILL one second later; the child is always reaped (no zombies). Runs on the library's
 * order worker thread, where blocking is allowed; no SIGCHLD handler is involved.
 */
#ifndef EF_AGENT_ORDERS_H
#define EF_AGENT_ORDERS_H

#include <stddef.h>
#include <stdint.h>

#include "agent_conf.h"

#define ORDER_OUTPUT_MAX 4096

/* Split `tmpl` into words. On success *argv (argc words + NULL) is the caller's: free it with
 * order_argv_free(). EF_ECONFIG with err set on an empty template or an unterminated quote. */
int order_template_split(const char *tmpl, char ***argv, int *argc, char *err, size_t errlen);
void order_argv_free(char **argv);

/* Run order `o` with `params_json` (a JSON object text). Writes a human-readable result into msg
 * (always NUL-terminated): the output on success, "exit N: <output>", "killed by signal N:
 * <output>", "timed out after Ns", "missing param 'k'", "cannot run 'prog': reason" on
 * failure. Returns 0 on success (exit status 0), non-zero on failure. */
int order_run(const struct agent_order *o, const char *params_json, char *msg, size_t msg_len);

/* Run argv as it is (no substitution; argv[0] searched in PATH; the environment inherited) the
 * same way, with time limit timeout_ms, keeping the first out_max (> 0) bytes of the output.
 * On exit status 0: returns 0, *out is the output exactly as captured (NUL-terminated, the
 * caller's, free with ef_free) and *out_len its length; msg is "ok", or "output truncated at N
 * bytes" when there was more. Otherwise returns non-zero with *out NULL and msg as order_run()
 * writes it ("timed out after 8s", "exit 1: ...", "cannot run 'prog': reason"). Blocks: call it
 * from a thread that may (the lotus collector's own thread, an order worker). */
int order_exec(char *const *argv, int64_t timeout_ms, size_t out_max, char **out,
               size_t *out_len, char *msg, size_t msg_len);

/* An ef_order_cb (edge.h) over order_run(); ud is a const struct agent_order *. */
int order_handler(void *ud, const char *order, const char *params_json, char *msg,
                  size_t msg_len);

#endif

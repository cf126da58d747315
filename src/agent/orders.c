/* SPDX-License-Identifier: MIT */
/* orders.c -- custom orders: template split, {param} substitution, fork/execvp with a time limit.
 * See orders.h for the design. */
#include "orders.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"

#define TERM_GRACE_MS 1000 /* SIGTERM, then SIGKILL this much later */
#define POLL_MS 50

/* A growable string. */
struct sbuf {
  char *p;
  size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->p = ef_realloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static char *sb_take(struct sbuf *b) {
  if (!b->p) sb_add(b, "", 0);
  char *s = b->p;
  b->p = NULL;
  b->len = b->cap = 0;
  return s;
}

/* ---- template --------------------------------------------------------------------------- */

void order_argv_free(char **argv) {
  if (!argv) return;
  for (char **a = argv; *a; a++) ef_free(*a);
  ef_free(argv);
}

static void push_word(char ***argv, int *argc, struct sbuf *w) {
  *argv = ef_realloc(*argv, (size_t)(*argc + 2) * sizeof **argv);
  (*argv)[(*argc)++] = sb_take(w);
  (*argv)[*argc] = NULL;
}

int order_template_split(const char *tmpl, char ***argv_out, int *argc_out, char *err,
                         size_t errlen) {
  char **argv = NULL;
  int argc = 0;
  struct sbuf w = {0};
  bool in_word = false, in_quote = false;

  for (const char *s = tmpl; *s; s++) {
    if (in_quote) {
      if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) sb_add(&w, ++s, 1);
      else if (*s == '"') in_quote = false;
      else sb_add(&w, s, 1);
    } else if (isspace((unsigned char)*s)) {
      if (in_word) push_word(&argv, &argc, &w);
      in_word = false;
    } else {
      if (*s == '"') in_quote = true;
      else sb_add(&w, s, 1);
      in_word = true;
    }
  }
  if (in_quote) {
    snprintf(err, errlen, "unterminated \" in '%s'", tmpl);
    goto fail;
  }
  if (in_word) push_word(&argv, &argc, &w);
  if (argc == 0) {
    snprintf(err, errlen, "empty command");
    goto fail;
  }
  *argv_out = argv;
  *argc_out = argc;
  return 0;

fail:
  ef_free(w.p);
  order_argv_free(argv);
  return EF_ECONFIG;
}

/* ---- substitution ----------------------------------------------------------------------- */

static bool simple_name(const char *s, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.')) return false;
  return true;
}

/* Append params[name] as text; EF_ENOENT / EF_EINVAL with msg set otherwise. */
static int add_param(struct sbuf *b, const json_t *params, const char *name, char *msg,
                     size_t msg_len) {
  json_t *v = json_object_get(params, name);
  if (!v) {
    snprintf(msg, msg_len, "missing param '%s'", name);
    return EF_ENOENT;
  }
  if (json_is_string(v)) {
    sb_add(b, json_string_value(v), strlen(json_string_value(v)));
    return 0;
  }
  if (json_is_number(v) || json_is_boolean(v)) {
    char *t = jdump(v);
    sb_add(b, t, strlen(t));
    free(t);
    return 0;
  }
  snprintf(msg, msg_len, "param '%s' must be a string, number or boolean", name);
  return EF_EINVAL;
}

static int substitute(const char *arg, const json_t *params, char **out, char *msg,
                      size_t msg_len) {
  struct sbuf b = {0};
  const char *s = arg;
  while (*s) {
    const char *open = strchr(s, '{');
    const char *close = open ? strchr(open + 1, '}') : NULL;
    if (!open || !close) {
      sb_add(&b, s, strlen(s));
      break;
    }
    sb_add(&b, s, (size_t)(open - s));
    size_t n = (size_t)(close - open - 1);
    if (!simple_name(open + 1, n)) { /* not ours: keep the brace, rescan after it */
      sb_add(&b, open, 1);
      s = open + 1;
      continue;
    }
    char *name = ef_strndup(open + 1, n);
    int rc = add_param(&b, params, name, msg, msg_len);
    ef_free(name);
    if (rc != 0) {
      ef_free(b.p);
      return rc;
    }
    s = close + 1;
  }
  *out = sb_take(&b);
  return 0;
}

/* ---- result text ------------------------------------------------------------------------ */

/* Replace bytes that are not valid UTF-8 (and NULs) with '?', so the message is valid JSON text. */
static void utf8_sanitize(char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= len && c != 0 && c != 0xc0 && c != 0xc1 && c < 0xf5;
    for (size_t k = 1; ok && k < n; k++) ok = ((unsigned char)s[i + k] >> 6) == 2;
    if (!ok) {
      s[i++] = '?';
      continue;
    }
    i += n;
  }
}

static void fmt_duration(char *buf, size_t len, int64_t ms) {
  if (ms % 1000 == 0) snprintf(buf, len, "%llds", (long long)(ms / 1000));
  else if (ms < 1000) snprintf(buf, len, "%lldms", (long long)ms);
  else snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
}

/* Captured output: grows as needed up to `max` bytes (plus a NUL). */
struct output {
  char *data;
  size_t len, cap, max;
  bool truncated;
};

/* The captured output, trailing whitespace removed, sanitised; "" when empty. */
static const char *output_text(struct output *o) {
  if (!o->data) o->data = ef_calloc(1, 1);
  while (o->len > 0 && isspace((unsigned char)o->data[o->len - 1])) o->len--;
  o->data[o->len] = '\0';
  utf8_sanitize(o->data, o->len);
  return o->data;
}

/* ---- process ---------------------------------------------------------------------------- */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Read what the pipe has without blocking; returns false at EOF or on error. */
static bool drain(int fd, struct output *out) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      size_t keep = out->max - out->len;
      if ((size_t)n < keep) keep = (size_t)n;
      if (out->len + keep + 1 > out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 8192;
        while (cap < out->len + keep + 1) cap *= 2;
        if (cap > out->max + 1) cap = out->max + 1;
        out->data = ef_realloc(out->data, cap);
        out->cap = cap;
      }
      memcpy(out->data + out->len, buf, keep);
      out->len += keep;
      if (keep < (size_t)n) out->truncated = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(char **argv, int devnull, int out_w, int err_w) {
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
  if (dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(out_w, 2) < 0) goto fail;
  /* Whatever else the daemon has open (its socket, its log) must not reach the program. */
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    for (int fd = 3; fd < 1024; fd++)
      if (fd != err_w) close(fd);
  execvp(argv[0], argv);
fail:;
  int e = errno;
  ssize_t w = write(err_w, &e, sizeof e);
  (void)w;
  _exit(127);
}

/* Run argv to completion or timeout, keeping at most out_max bytes of output. Returns 0 on exit
 * status 0, else non-zero; msg set. With `raw` non-NULL and success, *raw receives the output
 * exactly as captured (NUL-terminated, the caller's) and its length *raw_len; msg is then
 * "ok" or the truncation note. */
static int spawn_wait(char **argv, int64_t timeout_ms, size_t out_max, char **raw,
                      size_t *raw_len, char *msg, size_t msg_len) {
  int out[2], ep[2], devnull, rc = -1;
  if (pipe2(out, O_CLOEXEC) != 0) {
    snprintf(msg, msg_len, "cannot run '%s': pipe: %s", argv[0], strerror(errno));
    return -1;
  }
  if (pipe2(ep, O_CLOEXEC) != 0) {
    snprintf(msg, msg_len, "cannot run '%s': pipe: %s", argv[0], strerror(errno));
    goto fail_ep;
  }
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) {
    snprintf(msg, msg_len, "cannot run '%s': /dev/null: %s", argv[0], strerror(errno));
    goto fail_devnull;
  }

  pid_t pid = fork();
  if (pid < 0) {
    snprintf(msg, msg_len, "cannot run '%s': fork: %s", argv[0], strerror(errno));
    goto fail_fork;
  }
  if (pid == 0) child(argv, devnull, out[1], ep[1]);
  setpgid(pid, pid); /* both sides set it, so kill(-pid) works whoever runs first */
  close(out[1]);
  out[1] = -1;
  close(ep[1]);
  ep[1] = -1;

  /* The error pipe closes on a successful exec, or carries the child's errno. */
  int child_errno = 0;
  ssize_t n;
  do n = read(ep[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  int status = 0;
  if (n == (ssize_t)sizeof child_errno) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    snprintf(msg, msg_len, "cannot run '%s': %s", argv[0], strerror(child_errno));
    goto fail_fork;
  }

  struct output *o = ef_calloc(1, sizeof *o);
  o->max = out_max;
  fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
  bool pipe_open = true, term_sent = false, lost = false;
  int64_t deadline = ef_mono_ms() + timeout_ms, kill_at = 0;
  for (;;) {
    struct pollfd pfd = {out[0], POLLIN, 0};
    if (pipe_open) {
      if (poll(&pfd, 1, POLL_MS) > 0) pipe_open = drain(out[0], o);
    } else {
      sleep_ms(5); /* output closed: the exit is normally a moment away */
    }
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) { /* ECHILD: someone ignores SIGCHLD; do not spin */
      lost = true;
      break;
    }
    int64_t now = ef_mono_ms();
    if (!term_sent && now >= deadline) {
      kill(-pid, SIGTERM);
      kill(pid, SIGTERM); /* in case it left its group (setsid) */
      term_sent = true;
      kill_at = now + TERM_GRACE_MS;
    } else if (term_sent && kill_at && now >= kill_at) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      kill_at = 0;
    }
  }
  if (pipe_open) drain(out[0], o); /* all the child wrote is in the pipe now */
  if (term_sent) kill(-pid, SIGKILL); /* stragglers of the group */

  bool ok = !term_sent && !lost && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (ok && raw) {
    if (!o->data) o->data = ef_calloc(1, 1);
    o->data[o->len] = '\0';
    *raw = o->data;
    *raw_len = o->len;
    o->data = NULL;
    if (o->truncated) snprintf(msg, msg_len, "output truncated at %zu bytes", out_max);
    else snprintf(msg, msg_len, "ok");
    ef_free(o);
    rc = 0;
    goto fail_fork;
  }
  const char *text = output_text(o);
  const char *sep = *text ? ": " : "";
  char trunc[64] = "";
  if (o->truncated) snprintf(trunc, sizeof trunc, " [output truncated at %zu bytes]", out_max);
  char dur[32];
  fmt_duration(dur, sizeof dur, timeout_ms);
  if (term_sent) {
    snprintf(msg, msg_len, "timed out after %s", dur);
  } else if (lost) {
    snprintf(msg, msg_len, "exit status lost (%s)%s%s", strerror(ECHILD), sep, text);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    snprintf(msg, msg_len, "%s%s", *text ? text : "ok", trunc);
    rc = 0;
  } else if (WIFEXITED(status)) {
    snprintf(msg, msg_len, "exit %d%s%s%s", WEXITSTATUS(status), sep, text, trunc);
  } else if (WIFSIGNALED(status)) {
    snprintf(msg, msg_len, "killed by signal %d%s%s%s", WTERMSIG(status), sep, text, trunc);
  } else {
    snprintf(msg, msg_len, "ended abnormally%s%s%s", sep, text, trunc);
  }
  ef_free(o->data);
  ef_free(o);

fail_fork:
  close(devnull);
fail_devnull:
  close(ep[0]);
  if (ep[1] >= 0) close(ep[1]);
fail_ep:
  close(out[0]);
  if (out[1] >= 0) close(out[1]);
  return rc;
}

int order_run(const struct agent_order *o, const char *params_json, char *msg, size_t msg_len) {
  if (!msg || msg_len == 0) return -1;
  msg[0] = '\0';
  if (!params_json || !*params_json) params_json = "{}";
  json_t *params = jparse_object(params_json, strlen(params_json));
  if (!params) {
    snprintf(msg, msg_len, "params is not a JSON object");
    return -1;
  }
  char **argv = ef_calloc((size_t)o->argc + 1, sizeof *argv);
  int rc = 0;
  argv[0] = ef_strdup(o->argv[0]); /* the program itself is never substituted */
  for (int i = 1; i < o->argc && rc == 0; i++)
    rc = substitute(o->argv[i], params, &argv[i], msg, msg_len);
  json_decref(params);
  if (rc == 0) {
    rc = spawn_wait(argv, o->timeout_ms, ORDER_OUTPUT_MAX, NULL, NULL, msg, msg_len);
  }
  order_argv_free(argv);
  utf8_sanitize(msg, strlen(msg));
  return rc == 0 ? 0 : -1;
}

int order_exec(char *const *argv, int64_t timeout_ms, size_t out_max, char **out,
               size_t *out_len, char *msg, size_t msg_len) {
  *out = NULL;
  *out_len = 0;
  if (!msg || msg_len == 0 || !argv || !argv[0] || out_max == 0) return -1;
  msg[0] = '\0';
  int rc = spawn_wait((char **)argv, timeout_ms, out_max, out, out_len, msg, msg_len);
  utf8_sanitize(msg, strlen(msg));
  return rc == 0 ? 0 : -1;
}

int order_handler(void *ud, const char *order, const char *params_json, char *msg,
                  size_t msg_len) {
  const struct agent_order *o = ud;
  int64_t t0 = ef_mono_ms();
  int rc = order_run(o, params_json, msg, msg_len);
  ef_log(EF_LOG_DEBUG, "order %s (%s) %s in %lld ms: %s", order, o->tmpl,
         rc == 0 ? "succeeded" : "failed", (long long)(ef_mono_ms() - t0), msg);
  return rc;
}

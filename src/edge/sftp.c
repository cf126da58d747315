/* SPDX-License-Identifier: MIT */
/* sftp.c -- the upload_log transfer: one file to remote_path over SFTP (libssh), blocking, run
 * on the order worker thread, bounded as a whole by sftp_timeout.
 *
 * Credentials: the private key in sftp_key (publickey auth) is tried first when set, then
 * sftp_password when set; with neither, the password "" is tried as the original did.
 * Host key: with sftp_known_hosts set, the server's key must be the one recorded there for
 * "[host]:port" (or "host" on port 22); without it any key is accepted, as in the original
 * controller (asyncssh known_hosts=None). ~/.ssh/config and /etc/ssh/ssh_config are not read.
 * libssh is loaded at the first upload (ssh_lazy.h), not by the dynamic linker at start; when it
 * cannot be, the order fails with that reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "edge_internal.h"
#include "edgefleet/error.h"
#include "ssh_lazy.h"

/* Give the next blocking libssh step what is left of the deadline; false when nothing is. */
static bool arm_timeout(const struct lazy_ssh *sh, ssh_session s, int64_t deadline) {
  int64_t left = deadline - ef_mono_ms();
  if (left <= 0) return false;
  long sec = (long)(left / 1000), usec = (long)(left % 1000) * 1000;
  sh->ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec);
  sh->ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
  return true;
}

static const char *sftp_error_text(int code) {
  switch (code) {
  case SSH_FX_OK: return "no SFTP error";
  case SSH_FX_EOF: return "end of file";
  case SSH_FX_NO_SUCH_FILE: return "no such file or directory";
  case SSH_FX_PERMISSION_DENIED: return "permission denied";
  case SSH_FX_FAILURE: return "failure";
  case SSH_FX_BAD_MESSAGE: return "bad message";
  case SSH_FX_NO_CONNECTION: return "no connection";
  case SSH_FX_CONNECTION_LOST: return "connection lost";
  case SSH_FX_OP_UNSUPPORTED: return "operation unsupported";
  case SSH_FX_INVALID_HANDLE: return "invalid handle";
  case SSH_FX_NO_SUCH_PATH: return "no such path";
  case SSH_FX_FILE_ALREADY_EXISTS: return "file already exists";
  case SSH_FX_WRITE_PROTECT: return "write protected";
  case SSH_FX_NO_MEDIA: return "no media";
  default: return "unknown SFTP error";
  }
}

/* "SHA256:..." of the server's host key into out ("?" when unavailable). */
static void server_fingerprint(const struct lazy_ssh *sh, ssh_session s, char *out, size_t len) {
  ssh_key key = NULL;
  unsigned char *hash = NULL;
  size_t hlen = 0;
  snprintf(out, len, "?");
  if (sh->ssh_get_server_publickey(s, &key) != SSH_OK) return;
  if (sh->ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
    char *fp = sh->ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    if (fp) snprintf(out, len, "%s", fp);
    sh->ssh_string_free_char(fp);
    sh->ssh_clean_pubkey_hash(&hash);
  }
  sh->ssh_key_free(key);
}

/* 0 when the server's key is acceptable; EF_EAUTH with msg set otherwise. */
static int check_host_key(const struct lazy_ssh *sh, ssh_session s, const struct edge_conf *conf,
                          char *msg, size_t msg_len) {
  if (!conf->sftp_known_hosts || !*conf->sftp_known_hosts) return 0; /* any key, as the original */
  char fp[128];
  enum ssh_known_hosts_e k = sh->ssh_session_is_known_server(s);
  switch (k) {
  case SSH_KNOWN_HOSTS_OK: return 0;
  case SSH_KNOWN_HOSTS_CHANGED:
  case SSH_KNOWN_HOSTS_OTHER:
    server_fingerprint(sh, s, fp, sizeof fp);
    snprintf(msg, msg_len, "host key mismatch: %s:%ld offers %s, not the key in %s",
             conf->sftp_host, (long)conf->sftp_port, fp, conf->sftp_known_hosts);
    return EF_EAUTH;
  case SSH_KNOWN_HOSTS_UNKNOWN:
    server_fingerprint(sh, s, fp, sizeof fp);
    snprintf(msg, msg_len, "host key mismatch: %s:%ld (key %s) is not in %s", conf->sftp_host,
             (long)conf->sftp_port, fp, conf->sftp_known_hosts);
    return EF_EAUTH;
  case SSH_KNOWN_HOSTS_NOT_FOUND:
    snprintf(msg, msg_len, "host key mismatch: known_hosts file %s not found",
             conf->sftp_known_hosts);
    return EF_EAUTH;
  case SSH_KNOWN_HOSTS_ERROR:
  default:
    snprintf(msg, msg_len, "host key check failed (%s): %s", conf->sftp_known_hosts,
             sh->ssh_get_error(s));
    return EF_EAUTH;
  }
}

/* 0 once authenticated; EF_EAUTH (or EF_EIO on a broken connection) with msg set. `key` is
 * borrowed and may be NULL. */
static int authenticate(const struct lazy_ssh *sh, ssh_session s, const struct edge_conf *conf,
                        ssh_key key, char *msg, size_t msg_len) {
  int r = SSH_AUTH_DENIED;
  const char *tried = "password";
  if (key) {
    tried = conf->sftp_password ? "publickey, password" : "publickey";
    r = sh->ssh_userauth_publickey(s, NULL, key);
    if (r == SSH_AUTH_SUCCESS) return 0;
  }
  if (r != SSH_AUTH_ERROR && (!key || conf->sftp_password)) {
    r = sh->ssh_userauth_password(s, NULL, conf->sftp_password ? conf->sftp_password : "");
    if (r == SSH_AUTH_SUCCESS) return 0;
  }
  if (r == SSH_AUTH_ERROR) {
    snprintf(msg, msg_len, "authentication failed as %s (%s): %s", conf->sftp_user, tried,
             sh->ssh_get_error(s));
    return EF_EIO;
  }
  snprintf(msg, msg_len, "authentication failed as %s (%s refused)", conf->sftp_user, tried);
  return EF_EAUTH;
}

int sftp_upload(const struct edge_conf *conf, const char *local_path, const char *remote_path,
                char *msg, size_t msg_len) {
  int rc = EF_EIO;
  const int64_t deadline = ef_mono_ms() + conf->sftp_timeout;
  if (!conf->sftp_host || !*conf->sftp_host || !conf->sftp_user || !*conf->sftp_user) {
    snprintf(msg, msg_len, "sftp_host and sftp_user are not configured");
    return EF_ECONFIG;
  }
  const struct lazy_ssh *sh = lazy_ssh(msg, msg_len);
  if (!sh) return EF_ESYS;
  ssh_key key = NULL;
  if (conf->sftp_key && *conf->sftp_key &&
      sh->ssh_pki_import_privkey_file(conf->sftp_key, NULL, NULL, NULL, &key) != SSH_OK) {
    snprintf(msg, msg_len, "authentication failed: cannot read the private key %s "
             "(missing, unreadable, passphrase-protected or not a key)", conf->sftp_key);
    return EF_ECONFIG;
  }
  int fd = open(local_path, O_RDONLY | O_CLOEXEC | O_CREAT, 0644); /* as the original: create */
  if (fd < 0) {
    snprintf(msg, msg_len, "cannot open %s: %s", local_path, strerror(errno));
    rc = EF_ESYS;
    goto fail_open;
  }
  ssh_session s = sh->ssh_new();
  if (!s) {
    snprintf(msg, msg_len, "ssh_new failed");
    goto fail_new;
  }
  unsigned int uport = (unsigned int)conf->sftp_port;
  bool no = false;
  sh->ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
  sh->ssh_options_set(s, SSH_OPTIONS_HOST, conf->sftp_host);
  sh->ssh_options_set(s, SSH_OPTIONS_PORT, &uport);
  sh->ssh_options_set(s, SSH_OPTIONS_USER, conf->sftp_user);
  if (conf->sftp_known_hosts && *conf->sftp_known_hosts) {
    sh->ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, conf->sftp_known_hosts);
    sh->ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null"); /* only the file given */
  }
  arm_timeout(sh, s, deadline);
  if (sh->ssh_connect(s) != SSH_OK) {
    snprintf(msg, msg_len, "connect failed: %s:%ld: %s", conf->sftp_host, (long)conf->sftp_port,
             sh->ssh_get_error(s));
    goto fail_connect;
  }
  rc = check_host_key(sh, s, conf, msg, msg_len);
  if (rc) goto fail_auth;
  rc = EF_EIO;
  if (!arm_timeout(sh, s, deadline)) {
    snprintf(msg, msg_len, "timed out after connecting to %s", conf->sftp_host);
    goto fail_auth;
  }
  rc = authenticate(sh, s, conf, key, msg, msg_len);
  if (rc) goto fail_auth;
  rc = EF_EIO;
  sftp_session sf = sh->sftp_new(s);
  if (!sf) {
    snprintf(msg, msg_len, "sftp session: %s", sh->ssh_get_error(s));
    goto fail_auth;
  }
  if (!arm_timeout(sh, s, deadline) || sh->sftp_init(sf) != SSH_OK) {
    snprintf(msg, msg_len, "sftp init failed: %s", sh->ssh_get_error(s));
    goto fail_sftp;
  }
  sftp_file rf = sh->sftp_open(sf, remote_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!rf) {
    snprintf(msg, msg_len, "cannot write remote file: %s: %s", remote_path,
             sftp_error_text(sh->sftp_get_error(sf)));
    goto fail_sftp;
  }
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(msg, msg_len, "read %s: %s", local_path, strerror(errno));
      goto fail_write;
    }
    if (n == 0) break;
    if (!arm_timeout(sh, s, deadline)) {
      snprintf(msg, msg_len, "cannot write remote file: %s: timed out", remote_path);
      goto fail_write;
    }
    if (sh->sftp_write(rf, buf, (size_t)n) != n) {
      snprintf(msg, msg_len, "cannot write remote file: %s: %s", remote_path,
               sh->sftp_get_error(sf) != SSH_FX_OK ? sftp_error_text(sh->sftp_get_error(sf))
                                                   : sh->ssh_get_error(s));
      goto fail_write;
    }
  }
  rc = 0;
fail_write:
  if (sh->sftp_close(rf) != SSH_NO_ERROR && rc == 0) {
    snprintf(msg, msg_len, "cannot write remote file: %s: close: %s", remote_path,
             sftp_error_text(sh->sftp_get_error(sf)));
    rc = EF_EIO;
  }
  if (rc == 0)
    snprintf(msg, msg_len, "uploaded %s to %s@%s:%s", local_path, conf->sftp_user,
             conf->sftp_host, remote_path);
fail_sftp:
  sh->sftp_free(sf);
fail_auth:
  arm_timeout(sh, s, ef_mono_ms() + 1000); /* the goodbye must not hang either */
  sh->ssh_disconnect(s);
fail_connect:
  sh->ssh_free(s);
fail_new:
  close(fd);
fail_open:
  sh->ssh_key_free(key);
  return rc;
}

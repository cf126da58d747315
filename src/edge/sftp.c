/* sftp.c -- the upload_log transfer: one file to remote_path over SFTP (libssh), blocking, run
 * on the order worker thread. Host keys are not verified, as in the original controller
 * (asyncssh known_hosts=None); the password is the only credential. */
#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "edge_internal.h"
#include "edgefleet/error.h"

int sftp_upload(const char *host, int port, const char *user, const char *password,
                const char *local_path, const char *remote_path, char *msg, size_t msg_len) {
  int rc = EF_EIO;
  if (!host || !*host || !user || !*user) {
    snprintf(msg, msg_len, "sftp_host and sftp_user are not configured");
    return EF_ECONFIG;
  }
  int fd = open(local_path, O_RDONLY | O_CLOEXEC | O_CREAT, 0644); /* as the original: create */
  if (fd < 0) {
    snprintf(msg, msg_len, "cannot open %s: %s", local_path, strerror(errno));
    return EF_ESYS;
  }
  ssh_session s = ssh_new();
  if (!s) {
    snprintf(msg, msg_len, "ssh_new failed");
    goto fail_new;
  }
  long timeout = 10;
  unsigned int uport = (unsigned int)port;
  ssh_options_set(s, SSH_OPTIONS_HOST, host);
  ssh_options_set(s, SSH_OPTIONS_PORT, &uport);
  ssh_options_set(s, SSH_OPTIONS_USER, user);
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
  if (ssh_connect(s) != SSH_OK) {
    snprintf(msg, msg_len, "connect to %s:%d: %s", host, port, ssh_get_error(s));
    goto fail_connect;
  }
  if (ssh_userauth_password(s, NULL, password ? password : "") != SSH_AUTH_SUCCESS) {
    snprintf(msg, msg_len, "authentication as %s failed: %s", user, ssh_get_error(s));
    goto fail_auth;
  }
  sftp_session sf = sftp_new(s);
  if (!sf) {
    snprintf(msg, msg_len, "sftp session: %s", ssh_get_error(s));
    goto fail_auth;
  }
  if (sftp_init(sf) != SSH_OK) {
    snprintf(msg, msg_len, "sftp init failed (%d)", sftp_get_error(sf));
    goto fail_sftp;
  }
  sftp_file rf = sftp_open(sf, remote_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!rf) {
    snprintf(msg, msg_len, "cannot open %s on the server: %s", remote_path, ssh_get_error(s));
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
    if (sftp_write(rf, buf, (size_t)n) != n) {
      snprintf(msg, msg_len, "write %s: %s", remote_path, ssh_get_error(s));
      goto fail_write;
    }
  }
  rc = 0;
  snprintf(msg, msg_len, "uploaded %s to %s", local_path, remote_path);
fail_write:
  sftp_close(rf);
fail_sftp:
  sftp_free(sf);
fail_auth:
  ssh_disconnect(s);
fail_connect:
  ssh_free(s);
fail_new:
  close(fd);
  return rc;
}

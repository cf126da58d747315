/* SPDX-License-Identifier: MIT */
/* ssh_lazy.h -- libssh loaded on first use: only the upload_log order (sftp.c) needs it, and
 * linking it would map libssh and its Kerberos chain (krb5, gssapi, k5crypto, ...; 0.9 MiB of
 * RSS) into every program on libedgefleet at start.
 *
 * lazy_ssh() dlopen()s "libssh.so.4" (RTLD_NOW | RTLD_LOCAL) once per process, under
 * pthread_once (safe from any thread), fills a table of the functions listed in LAZY_SSH_FUNCS
 * with dlsym(), and keeps the library loaded until exit (no dlclose). Call the functions through
 * the table: `sh->ssh_connect(s)`. Each pointer has the type of the real prototype from
 * <libssh/libssh.h> and <libssh/sftp.h> (__typeof__), so the compiler checks every call.
 *
 * Test hook: when the environment variable EF_LAZY_SSH_SONAME is set (read once, at the first
 * call), that name is opened instead of "libssh.so.4". Only the unit tests set it.
 */
#ifndef EF_EDGE_SSH_LAZY_H
#define EF_EDGE_SSH_LAZY_H

#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <stddef.h>

#define LAZY_SSH_SONAME "libssh.so.4"

/* Every libssh function libedgefleet calls, once. Add a line here to use another. */
#define LAZY_SSH_FUNCS(X)          \
  X(ssh_new)                       \
  X(ssh_free)                      \
  X(ssh_options_set)               \
  X(ssh_connect)                   \
  X(ssh_disconnect)                \
  X(ssh_get_error)                 \
  X(ssh_session_is_known_server)   \
  X(ssh_get_server_publickey)      \
  X(ssh_get_publickey_hash)        \
  X(ssh_get_fingerprint_hash)      \
  X(ssh_clean_pubkey_hash)         \
  X(ssh_string_free_char)          \
  X(ssh_pki_import_privkey_file)   \
  X(ssh_key_free)                  \
  X(ssh_userauth_publickey)        \
  X(ssh_userauth_password)         \
  X(sftp_new)                      \
  X(sftp_init)                     \
  X(sftp_free)                     \
  X(sftp_open)                     \
  X(sftp_write)                    \
  X(sftp_close)                    \
  X(sftp_get_error)

struct lazy_ssh {
#define LAZY_SSH_FIELD(name) __typeof__(name) *name;
  LAZY_SSH_FUNCS(LAZY_SSH_FIELD)
#undef LAZY_SSH_FIELD
};

/* The loaded table (the same pointer at every call, valid until exit), or NULL when libssh
 * cannot be loaded: then err holds "upload_log needs libssh (libssh.so.4): <dlerror()>" (the
 * same text at every call; a failed load is not retried). */
const struct lazy_ssh *lazy_ssh(char *err, size_t errlen);

#endif

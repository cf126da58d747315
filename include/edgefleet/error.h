/* SPDX-License-Identifier: MIT */
/* error.h -- edgefleet's one error vocabulary, shared by the library, the daemons and the tools.
 *
 * Every fallible call returns 0 on success or a negative EF_E* code. The list below is the only
 * place codes are defined; the enum, ef_strerror() and ef_err_name() are generated from it, so
 * they cannot drift. A call that takes a callback and fails never calls that callback.
 */
#ifndef EDGEFLEET_ERROR_H
#define EDGEFLEET_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define EF_ERRNO_MAP(XX)                                                    \
  XX(EINVAL,    "invalid argument")                                        \
  XX(ENOMEM,    "out of memory")                                           \
  XX(ENOENT,    "not found")                                               \
  XX(EEXIST,    "already exists")                                          \
  XX(EIO,       "input/output error")                                      \
  XX(EPROTO,    "protocol error")                                          \
  XX(EPARSE,    "malformed input")                                         \
  XX(ETOOBIG,   "message too large")                                       \
  XX(EAUTH,     "authentication failed")                                   \
  XX(EBUSY,     "busy")                                                    \
  XX(ETIMEDOUT, "timed out")                                               \
  XX(ECLOSED,   "connection closed")                                       \
  XX(EAGAIN,    "try again")                                               \
  XX(ECONFIG,   "bad configuration")                                       \
  XX(EDB,       "database error")                                          \
  XX(ESYS,      "system call failed")                                      \
  XX(EOFFLINE,  "device offline")                                          \
  XX(EFULL,     "no space left for the data")                              \
  XX(ECORRUPT,  "stored data is corrupt")                                  \
  XX(EREADONLY, "storage is read-only")                                   \
  XX(EUNAVAIL,  "service unavailable")

enum ef_err {
  EF_OK = 0,
#define EF_ERR_ENUM_(name, msg) EF_##name,
  EF_ERR_FIRST_ = -1000,
  EF_ERRNO_MAP(EF_ERR_ENUM_)
#undef EF_ERR_ENUM_
  EF_ERR_LAST_
};

/* A static English message for code `err` ("unknown error" for anything outside the list). */
const char *ef_strerror(int err);
/* The code's name without prefix, e.g. "ENOENT". */
const char *ef_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif

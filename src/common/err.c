/* SPDX-License-Identifier: MIT */
/* err.c -- messages and names for the EF_ERRNO_MAP codes (include/edgefleet/error.h). */
#include "edgefleet/error.h"

const char *ef_strerror(int err) {
  switch (err) {
  case EF_OK: return "success";
#define EF_ERR_MSG_(name, msg) case EF_##name: return msg;
    EF_ERRNO_MAP(EF_ERR_MSG_)
#undef EF_ERR_MSG_
  default: return "unknown error";
  }
}

const char *ef_err_name(int err) {
  switch (err) {
  case EF_OK: return "OK";
#define EF_ERR_NAME_(name, msg) case EF_##name: return #name;
    EF_ERRNO_MAP(EF_ERR_NAME_)
#undef EF_ERR_NAME_
  default: return "EUNKNOWN";
  }
}

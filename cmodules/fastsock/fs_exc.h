// SPDX-License-Identifier: MIT
// fastsock's Python exceptions, and the one place codes (fs_error.h) become them.
#ifndef FS_EXC_H
#define FS_EXC_H

#include "py/obj.h"

#include "fs_compat.h"
#include "fs_error.h"

// All OSError subclasses (requests' names); the message says what happened.
extern const mp_obj_type_t fs_type_RequestException; // the base of all below
extern const mp_obj_type_t fs_type_ConnectionError;  // connect, DNS, reset, send/read failures
extern const mp_obj_type_t fs_type_ProtocolError;    // the response broke HTTP/1.1
extern const mp_obj_type_t fs_type_LimitError;       // ProtocolError: over a limit in fs_config.h
extern const mp_obj_type_t fs_type_TimeoutError;     // a wait or the total deadline ran out
extern const mp_obj_type_t fs_type_ConnectTimeout;   // ConnectionError and TimeoutError: connecting
extern const mp_obj_type_t fs_type_ReadTimeout;      // TimeoutError: a read or send went quiet
extern const mp_obj_type_t fs_type_TLSError;         // ConnectionError: certificate, agreement

// The exception for a negative code. what: the action ("connect", "read") for transport
// codes, or the whole message for the FS_ERR_CLOSED_*/TRUNCATED codes; tls: the fs_tls_t the
// code came from (its details name the certificate problem), or NULL.
mp_obj_t fs_exc_make(int code, const char *what, const void *tls);

// Raise fs_exc_make(code, ...); for -MP_EINTR raise the pending exception (Ctrl-C) instead.
MP_NORETURN void fs_exc_raise(int code, const char *what, const void *tls);

#endif // FS_EXC_H

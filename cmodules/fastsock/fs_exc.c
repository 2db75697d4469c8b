// SPDX-License-Identifier: MIT
// Exceptions: the one place fastsock's codes (fs_error.h) become Python exceptions.
#include <stdio.h>
#include <string.h>

#include "py/mperrno.h"
#include "py/objexcept.h"
#include "py/runtime.h"

#include "fs_exc.h"
#include "fs_http.h"
#if FS_TLS
#include "fs_tls.h"
#endif

// The hierarchy requests users catch (requests.exceptions), every class an OSError so code
// that catches OSError, as MicroPython's own sockets teach, keeps working.
#define FS_EXC_TYPE(name, base)                                                                  \
    MP_DEFINE_CONST_OBJ_TYPE(fs_type_##name, MP_QSTR_##name, MP_TYPE_FLAG_NONE, make_new,        \
                             mp_obj_exception_make_new, print, mp_obj_exception_print, attr,     \
                             mp_obj_exception_attr, parent, base)

FS_EXC_TYPE(RequestException, &mp_type_OSError);
FS_EXC_TYPE(ConnectionError, &fs_type_RequestException);
FS_EXC_TYPE(ProtocolError, &fs_type_RequestException);
FS_EXC_TYPE(LimitError, &fs_type_ProtocolError);
FS_EXC_TYPE(TimeoutError, &fs_type_RequestException);
FS_EXC_TYPE(ReadTimeout, &fs_type_TimeoutError);
FS_EXC_TYPE(TLSError, &fs_type_ConnectionError);
// requests' ConnectTimeout is both a ConnectionError and a Timeout.
static const mp_rom_obj_tuple_t connect_timeout_bases = {
    { &mp_type_tuple }, 2, { MP_ROM_PTR(&fs_type_ConnectionError), MP_ROM_PTR(&fs_type_TimeoutError) }
};
FS_EXC_TYPE(ConnectTimeout, &connect_timeout_bases);

static mp_obj_t make(const mp_obj_type_t *type, int err, const char *msg) {
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(err), mp_obj_new_str_from_cstr(msg) };
    return mp_obj_exception_make_new(type, 2, 0, args);
}

// errno -> the words that finish "<what> ..."; FS_ERR_DNS reads as ENOENT.
static const struct {
    int16_t err;
    char why[26];
} reasons[] = {
    { MP_ENOENT, "host name not found" },      { MP_ETIMEDOUT, "timed out" },
    { MP_ECONNREFUSED, "connection refused" }, { MP_ECONNRESET, "connection reset by peer" },
    { MP_EHOSTUNREACH, "host unreachable" },   { 0, "failed" },
};

mp_obj_t fs_exc_make(int code, const char *what, const void *tls) {
    char msg[224];
    if (code <= FS_ERR_SYNTAX && code >= FS_ERR_ENGINE_LAST) {
        return make(fs_error_is_limit(code) ? &fs_type_LimitError : &fs_type_ProtocolError, MP_EIO,
                    fs_strerror(code));
    }
    switch (code) {
        case FS_ERR_CLOSED_BEFORE_HEAD:
            return make(&fs_type_ProtocolError, MP_ECONNRESET, what);
        case FS_ERR_CLOSED_IN_HEAD:
        case FS_ERR_TRUNCATED:
        case FS_ERR_TLS_TRUNCATED:
            return make(&fs_type_ProtocolError, MP_EIO, what);
        case FS_ERR_DEADLINE:
            snprintf(msg, sizeof(msg), "total request deadline exceeded (during %s)", what);
            return make(&fs_type_TimeoutError, MP_ETIMEDOUT, msg);
        case FS_ERR_BUSY:
            return mp_obj_new_exception_msg(&mp_type_RuntimeError,
                                            MP_ERROR_TEXT("response in use by another call"));
        case FS_ERR_DECODE:
            return make(&fs_type_ProtocolError, MP_EIO,
                        "gzip/deflate body (Content-Encoding) corrupt or cut short");
        case FS_ERR_WRITE_ZERO:
            return make(&mp_type_OSError, MP_EIO, "save(): the stream accepted no bytes");
        default:
            break;
    }
#if FS_TLS
    if (FS_TLS_IS_ERR(code)) {
        fs_tls_strerror(tls, code, msg, sizeof(msg));
        if (code == FS_TLS_ERR_NOMEM) {
            mp_obj_t arg = mp_obj_new_str_from_cstr(msg);
            return mp_obj_exception_make_new(&mp_type_MemoryError, 1, 0, &arg);
        }
        if (code == FS_TLS_ERR_CA) {
            return mp_obj_new_exception_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), msg);
        }
        return make(&fs_type_TLSError, code == FS_TLS_ERR_NO_CA ? MP_ENOENT : MP_EIO, msg);
    }
#else
    (void)tls;
#endif
    int err = code == FS_ERR_DNS ? MP_ENOENT : -code;
    if (err <= 0 || err > 999) {
        err = MP_EIO;
    }
    size_t i = 0;
    while (reasons[i].err != 0 && reasons[i].err != err) {
        i++;
    }
    snprintf(msg, sizeof(msg), "%s %s", what, reasons[i].why);
    const mp_obj_type_t *type = &fs_type_ConnectionError;
    if (err == MP_ETIMEDOUT) {
        // "connect", "TLS handshake": no connection yet; "read", "send": one that went quiet.
        type = what[0] == 'c' || what[0] == 'T' ? &fs_type_ConnectTimeout : &fs_type_ReadTimeout;
    } else if (strcmp(what, "write") == 0) {
        type = &mp_type_OSError; // save()'s own file or stream failed, not the connection
    }
    return make(type, err, msg);
}

MP_NORETURN void fs_exc_raise(int code, const char *what, const void *tls) {
    if (code == -MP_EINTR) {
        // A wait stopped for a pending exception: raise it now that nothing is half done.
        mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS);
    }
    nlr_raise(fs_exc_make(code, what, tls));
}

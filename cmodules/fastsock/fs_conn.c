// _fastsock.Connection: HTTP/1.1 exchanges over one transport connection. The head is parsed
// in place over the transport's segments; body bytes go from the transport's buffers straight
// to the caller (readinto, a stream's write, or one final bytes object). The only place that
// raises Python exceptions.
#include <stdio.h>
#include <string.h>

#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/objarray.h"
#include "py/objexcept.h"
#include "py/objstr.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "fs_conn.h"
#include "fs_headers.h"
#include "fs_http.h"
#include "fs_response.h"
#include "fs_transport.h"
#if FS_TLS
#include "fs_tls.h"
#endif

// Connection states, ordered: a state >= STATE_HEAD has a request in flight.
enum {
    STATE_CLOSED = 0, // no connection
    STATE_IDLE,       // connected, ready for a request
    STATE_HEAD,       // request sent, response head not yet parsed
    STATE_BODY,       // head parsed, body bytes remain
    STATE_DONE,       // whole response consumed
};

typedef struct {
    mp_obj_base_t base;
    fs_tp_t tp;
#if FS_TLS
    fs_tls_t *tls; // TLS over tp (https), or NULL
#endif
    fs_head_t head;
    fs_chunked_t chunk;
    uint64_t body_left;   // FS_BODY_LENGTH: body bytes not yet handed out
    uint64_t body_read;   // body bytes handed out so far
    size_t run_left;      // FS_BODY_CHUNKED: decoded body bytes waiting at the front
    uint32_t timeout_ms;  // per-wait read/write timeout, 0 = none
    mp_uint_t deadline;   // mp_hal_ticks_ms() by which the exchange must end, if has_deadline
    size_t view_pending;  // bytes lent out through `view`, consumed on the next next_run()
    mp_obj_array_t *view; // one memoryview re-pointed at each run (next_run), made once
    uint32_t requests;    // requests sent on this connection
    uint8_t state;
    uint8_t body_kind;
    uint8_t keep_alive;
    uint8_t has_deadline;
} fs_conn_obj_t;

fs_stats_t fs_stats;

MP_DEFINE_CONST_OBJ_TYPE(fs_type_ProtocolError, MP_QSTR_ProtocolError, MP_TYPE_FLAG_NONE, make_new,
                         mp_obj_exception_make_new, print, mp_obj_exception_print, attr,
                         mp_obj_exception_attr, parent, &mp_type_OSError);

MP_DEFINE_CONST_OBJ_TYPE(fs_type_LimitError, MP_QSTR_LimitError, MP_TYPE_FLAG_NONE, make_new,
                         mp_obj_exception_make_new, print, mp_obj_exception_print, attr,
                         mp_obj_exception_attr, parent, &fs_type_ProtocolError);

MP_DEFINE_CONST_OBJ_TYPE(fs_type_TimeoutError, MP_QSTR_TimeoutError, MP_TYPE_FLAG_NONE, make_new,
                         mp_obj_exception_make_new, print, mp_obj_exception_print, attr,
                         mp_obj_exception_attr, parent, &mp_type_OSError);

// TLS failures: certificate rejected, no agreement, plain text on a TLS port (the message says
// which).
MP_DEFINE_CONST_OBJ_TYPE(fs_type_TLSError, MP_QSTR_TLSError, MP_TYPE_FLAG_NONE, make_new,
                         mp_obj_exception_make_new, print, mp_obj_exception_print, attr,
                         mp_obj_exception_attr, parent, &mp_type_OSError);

// Release the transport (and TLS over it) once, keeping the count of open connections right.
static void conn_shutdown(fs_conn_obj_t *self) {
#if FS_TLS
    fs_tls_free(self->tls);
    self->tls = NULL;
#endif
    if (fs_tp_is_open(&self->tp)) {
        fs_stats.open--;
    }
    fs_tp_close(&self->tp);
}

// The byte stream the engine reads: decrypted bytes under TLS, else the transport's own. Same
// conventions as fs_transport.h; recv_into has no TLS form (FS_TP_ERR_UNSUPPORTED).
#if FS_TLS
#define IO_TLS(self) ((self)->tls != NULL)
#else
#define IO_TLS(self) (0)
#endif

static int io_fill(fs_conn_obj_t *self, uint32_t timeout_ms) {
#if FS_TLS
    if (IO_TLS(self)) {
        return fs_tls_fill(self->tls, timeout_ms);
    }
#endif
    return fs_tp_fill(&self->tp, timeout_ms);
}

static size_t io_segments(fs_conn_obj_t *self, fs_seg_t *segs, size_t max) {
#if FS_TLS
    if (IO_TLS(self)) {
        return fs_tls_segments(self->tls, segs, max);
    }
#endif
    return fs_tp_segments(&self->tp, segs, max);
}

static size_t io_buffered(fs_conn_obj_t *self) {
#if FS_TLS
    if (IO_TLS(self)) {
        return fs_tls_buffered(self->tls);
    }
#endif
    return fs_tp_buffered(&self->tp);
}

static void io_consume(fs_conn_obj_t *self, size_t n) {
#if FS_TLS
    if (IO_TLS(self)) {
        fs_tls_consume(self->tls, n);
        return;
    }
#endif
    fs_tp_consume(&self->tp, n);
}

static int io_write(fs_conn_obj_t *self, const uint8_t *buf, size_t len, uint32_t timeout_ms) {
#if FS_TLS
    if (IO_TLS(self)) {
        return fs_tls_write(self->tls, buf, len, timeout_ms);
    }
#endif
    return fs_tp_write(&self->tp, buf, len, timeout_ms);
}

static int io_recv_into(fs_conn_obj_t *self, uint8_t *buf, size_t len, uint32_t timeout_ms) {
    if (IO_TLS(self)) {
        return FS_TP_ERR_UNSUPPORTED;
    }
    return fs_tp_recv_into(&self->tp, buf, len, timeout_ms);
}

static int io_readable(fs_conn_obj_t *self) {
#if FS_TLS
    if (IO_TLS(self)) {
        return fs_tls_readable(self->tls);
    }
#endif
    return fs_tp_readable(&self->tp);
}

void fs_tp_poll_hook(void) {
    mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS);
}

// Raise `type(errno, message)`; the connection is closed first so nothing leaks.
static MP_NORETURN void conn_raise(fs_conn_obj_t *self, const mp_obj_type_t *type, int err,
                                   const char *msg) {
    if (self != NULL) {
        conn_shutdown(self);
        self->state = STATE_CLOSED;
    }
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(err), mp_obj_new_str_from_cstr(msg) };
    nlr_raise(mp_obj_exception_make_new(type, 2, 0, args));
}

#if FS_TLS
// MemoryError(msg) with the connection closed first (TLS needs heap outside the GC heap).
static MP_NORETURN void conn_raise_nomem(fs_conn_obj_t *self, const char *msg) {
    if (self != NULL) {
        conn_shutdown(self);
        self->state = STATE_CLOSED;
    }
    mp_obj_t arg = mp_obj_new_str_from_cstr(msg);
    nlr_raise(mp_obj_exception_make_new(&mp_type_MemoryError, 1, 0, &arg));
}
#endif

// Raise for a negative transport code (-errno) or TLS code, naming what was being done.
static MP_NORETURN void conn_raise_tp(fs_conn_obj_t *self, int code, const char *what) {
#if FS_TLS
    if (FS_TLS_IS_ERR(code)) {
        char tmsg[224];
        fs_tls_strerror(self != NULL ? self->tls : NULL, code, tmsg, sizeof(tmsg));
        if (code == FS_TLS_ERR_NOMEM) {
            conn_raise_nomem(self, tmsg);
        }
        conn_raise(self, &fs_type_TLSError, MP_EIO, tmsg);
    }
#endif
    // errno -> the words that finish "<what> ..."; DNS failures read as ENOENT.
    static const struct {
        int16_t err;
        char why[26];
    } reasons[] = {
        { MP_ENOENT, "host name not found" },      { MP_ETIMEDOUT, "timed out" },
        { MP_ECONNREFUSED, "connection refused" }, { MP_ECONNRESET, "connection reset by peer" },
        { MP_EHOSTUNREACH, "host unreachable" },   { 0, "failed" },
    };
    int err = code == FS_TP_ERR_DNS ? MP_ENOENT : -code;
    size_t i = 0;
    while (reasons[i].err != 0 && reasons[i].err != err) {
        i++;
    }
    const char *why = reasons[i].why;
    const mp_obj_type_t *type = err == MP_ETIMEDOUT ? &fs_type_TimeoutError : &mp_type_OSError;
    char msg[96];
    snprintf(msg, sizeof(msg), "%s %s", what, why);
    conn_raise(self, type, err, msg);
}

// Raise for an engine error code: limits get LimitError, the rest ProtocolError.
static MP_NORETURN void conn_raise_http(fs_conn_obj_t *self, int code) {
    const mp_obj_type_t *type = &fs_type_ProtocolError;
    if (code == FS_ERR_HEAD_TOO_LARGE || code == FS_ERR_TOO_MANY_HEADERS ||
        code == FS_ERR_LINE_TOO_LONG || code == FS_ERR_CHUNK_OVERHEAD ||
        code == FS_ERR_TOO_MANY_INTERIM) {
        type = &fs_type_LimitError;
    }
    conn_raise(self, type, MP_EIO, fs_strerror(code));
}

static void check_open(fs_conn_obj_t *self) {
    if (self->state == STATE_CLOSED) {
        mp_raise_OSError(MP_ENOTCONN);
    }
}

static uint32_t timeout_to_ms(mp_obj_t t) {
    if (t == mp_const_none) {
        return 0;
    }
    mp_float_t s = mp_obj_get_float(t);
    if (s <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("timeout must be > 0 or None"));
    }
    mp_float_t ms = s * 1000;
    return ms < 1 ? 1 : ms > 0x7fffffff ? 0x7fffffff : (uint32_t)ms;
}

// Milliseconds the next wait may take: the per-wait timeout, cut by the total deadline.
static uint32_t wait_ms(fs_conn_obj_t *self) {
    if (!self->has_deadline) {
        return self->timeout_ms;
    }
    mp_int_t left = (mp_int_t)(self->deadline - mp_hal_ticks_ms());
    if (left <= 0) {
        conn_raise(self, &fs_type_TimeoutError, MP_ETIMEDOUT, "total request deadline exceeded");
    }
    return (self->timeout_ms && self->timeout_ms < (uint32_t)left) ? self->timeout_ms
                                                                   : (uint32_t)left;
}

// Raise for a transport failure; a timeout past the total deadline says so.
static MP_NORETURN void conn_raise_wait(fs_conn_obj_t *self, int code, const char *what) {
    if (code == -MP_ETIMEDOUT && self->has_deadline &&
        (mp_int_t)(self->deadline - mp_hal_ticks_ms()) <= 0) {
        conn_raise(self, &fs_type_TimeoutError, MP_ETIMEDOUT, "total request deadline exceeded");
    }
    conn_raise_tp(self, code, what);
}

#if FS_TLS
// _fastsock.TLSConfig(verify=True, ca=None): what https connections share (CA chain parsed
// once, remembered sessions for resumption). ca: PEM or DER bytes (fastsock.py reads files).
typedef struct {
    mp_obj_base_t base;
    fs_tls_conf_t *conf;
} fs_tlsconfig_obj_t;

static mp_obj_t tlsconfig_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
                                   const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 2, false);
    bool verify = n_args < 1 || mp_obj_is_true(args[0]);
    const uint8_t *ca = NULL;
    size_t ca_len = 0;
    if (n_args > 1 && args[1] != mp_const_none) {
        mp_buffer_info_t bi;
        mp_get_buffer_raise(args[1], &bi, MP_BUFFER_READ);
        ca = bi.buf;
        ca_len = bi.len;
    }
    fs_tlsconfig_obj_t *self = mp_obj_malloc_with_finaliser(fs_tlsconfig_obj_t, type);
    fs_stats.heap_allocs++;
    self->conf = NULL;
    char msg[160];
    int r = fs_tls_conf_new(&self->conf, verify, ca, ca_len, msg, sizeof(msg));
    if (r == FS_TLS_ERR_NOMEM) {
        conn_raise_nomem(NULL, msg);
    } else if (r == FS_TLS_ERR_CA) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), msg);
    } else if (r != 0) {
        conn_raise(NULL, &fs_type_TLSError, MP_ENOENT, msg);
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t tlsconfig_del(mp_obj_t self_in) {
    fs_tlsconfig_obj_t *self = MP_OBJ_TO_PTR(self_in);
    fs_tls_conf_release(self->conf);
    self->conf = NULL;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tlsconfig_del_obj, tlsconfig_del);

static const mp_rom_map_elem_t tlsconfig_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&tlsconfig_del_obj) },
};
static MP_DEFINE_CONST_DICT(tlsconfig_locals_dict, tlsconfig_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(fs_tlsconfig_type, MP_QSTR_TLSConfig, MP_TYPE_FLAG_NONE, make_new,
                         tlsconfig_make_new, locals_dict, &tlsconfig_locals_dict);

// Handshake over the connected transport; verification or any other failure raises (the
// connection is closed first), so no response is ever read from an unverified server.
static void conn_start_tls(fs_conn_obj_t *self, mp_obj_t cfg, const char *host, uint16_t port,
                           uint32_t timeout_ms) {
    fs_tlsconfig_obj_t *c = MP_OBJ_TO_PTR(cfg);
    if (c->conf == NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("TLSConfig already released"));
    }
    self->tls = fs_tls_new(c->conf, &self->tp);
    if (self->tls == NULL) {
        conn_raise_tp(self, FS_TLS_ERR_NOMEM, "TLS");
    }
    int r = fs_tls_handshake(self->tls, host, port, timeout_ms);
    if (r < 0) {
        conn_raise_tp(self, r, "TLS handshake");
    }
}

// tls(): None for plain HTTP, else (protocol, cipher suite, resumed).
static mp_obj_t conn_tls(mp_obj_t self_in) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->tls == NULL) {
        return mp_const_none;
    }
    mp_obj_t items[3] = {
        mp_obj_new_str_from_cstr(fs_tls_version(self->tls)),
        mp_obj_new_str_from_cstr(fs_tls_cipher(self->tls)),
        mp_obj_new_bool(fs_tls_resumed(self->tls)),
    };
    return mp_obj_new_tuple(3, items);
}
#else
static mp_obj_t conn_tls(mp_obj_t self_in) {
    (void)self_in;
    return mp_const_none;
}
#endif
static MP_DEFINE_CONST_FUN_OBJ_1(conn_tls_obj, conn_tls);

// Connection(host, port, timeout=None, tls=None): resolve and connect; timeout in seconds;
// tls: a TLSConfig for https (handshake before returning).
static mp_obj_t conn_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
                              const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 2, 4, false);
    const char *host = mp_obj_str_get_str(args[0]);
    mp_int_t port = mp_obj_get_int(args[1]);
    if (port <= 0 || port > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("port out of range"));
    }
    uint32_t timeout_ms = n_args > 2 ? timeout_to_ms(args[2]) : 0;
    mp_obj_t tls = n_args > 3 ? args[3] : mp_const_none;
#if FS_TLS
    if (tls != mp_const_none) {
        if (!mp_obj_is_type(tls, &fs_tlsconfig_type)) {
            mp_raise_TypeError(MP_ERROR_TEXT("tls must be a TLSConfig or None"));
        }
        // Fail before connecting when a handshake would not fit.
        char msg[224];
        if (fs_tls_check_budget(msg, sizeof(msg)) != 0) {
            conn_raise_nomem(NULL, msg);
        }
    }
#else
    if (tls != mp_const_none) {
        mp_raise_msg(&mp_type_NotImplementedError,
                     MP_ERROR_TEXT("this build has no TLS (FS_TLS=0)"));
    }
#endif
    fs_conn_obj_t *self = mp_obj_malloc_with_finaliser(fs_conn_obj_t, type);
    fs_stats.heap_allocs++;
    fs_tp_init(&self->tp);
    self->state = STATE_CLOSED;
    int r = fs_tp_connect(&self->tp, host, (uint16_t)port, timeout_ms);
    if (r < 0) {
        conn_raise_tp(self, r, "connect");
    }
    fs_stats.connections++;
    fs_stats.open++;
    self->state = STATE_IDLE;
    self->timeout_ms = timeout_ms;
#if FS_TLS
    if (tls != mp_const_none) {
        conn_start_tls(self, tls, host, (uint16_t)port, timeout_ms);
    }
#endif
    return MP_OBJ_FROM_PTR(self);
}

// settimeout(read, total=None): seconds (or None) for each later wait for data or send
// space, and for the whole exchange from now.
static mp_obj_t conn_settimeout(size_t n_args, const mp_obj_t *args) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    self->timeout_ms = timeout_to_ms(args[1]);
    self->has_deadline = n_args > 2 && args[2] != mp_const_none;
    if (self->has_deadline) {
        self->deadline = mp_hal_ticks_ms() + timeout_to_ms(args[2]);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(conn_settimeout_obj, 2, 3, conn_settimeout);

// send(data): write the request head or a body piece; all of it or an exception.
static mp_obj_t conn_send(mp_obj_t self_in, mp_obj_t data) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    check_open(self);
    if (self->state == STATE_BODY) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("previous response body not consumed"));
    }
    if (self->state != STATE_HEAD) {
        // First piece of a new request: the connection now has an exchange in flight.
        fs_stats.requests++;
        if (self->requests++ > 0) {
            fs_stats.reused++;
        }
        self->state = STATE_HEAD;
    }
    mp_buffer_info_t bufinfo;
    mp_get_buffer_raise(data, &bufinfo, MP_BUFFER_READ);
    int r = io_write(self, bufinfo.buf, bufinfo.len, wait_ms(self));
    if (r < 0) {
        conn_raise_wait(self, r, "send");
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(conn_send_obj, conn_send);

// Request-head writer: pieces are gathered in a stack buffer and sent when it fills.
typedef struct {
    fs_conn_obj_t *conn;
    size_t len;
    char buf[512];
} head_writer_t;

static void hw_flush(head_writer_t *w) {
    if (w->len) {
        int r = io_write(w->conn, (const uint8_t *)w->buf, w->len, wait_ms(w->conn));
        if (r < 0) {
            conn_raise_wait(w->conn, r, "send");
        }
        w->len = 0;
    }
}

MP_NOINLINE static void hw_add(head_writer_t *w, const char *s, size_t n) {
    while (n) {
        if (w->len == sizeof(w->buf)) {
            hw_flush(w);
        }
        size_t k = sizeof(w->buf) - w->len;
        if (k > n) {
            k = n;
        }
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
}

// A request-line or header piece; CR, LF or NUL in it would split the request (injection).
static const char *head_piece(mp_obj_t o, size_t *len, const char *what) {
    const char *s = mp_obj_str_get_data(o, len);
    for (size_t i = 0; i < *len; i++) {
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("line break in %s"), what);
        }
    }
    return s;
}

// Default header fields, in the order they are sent; a caller's field of the same name
// (any case) replaces one. The last entry stands for the body framing fields.
static const char *const default_names[] = { "Host", "User-Agent", "Accept-Encoding", "Connection",
                                             "Content-Length" };
#define N_DEFAULTS (5)

// Bit of the default a caller's field replaces, or 0.
static int default_bit(const char *s, size_t n) {
    for (int d = 0; d <= N_DEFAULTS; d++) {
        const char *name = d < N_DEFAULTS ? default_names[d] : "Transfer-Encoding";
        size_t i = 0;
        while (i < n && name[i] && (s[i] | 0x20) == (name[i] | 0x20)) {
            i++;
        }
        if (i == n && name[i] == 0) {
            return 1 << (d < N_DEFAULTS ? d : N_DEFAULTS - 1);
        }
    }
    return 0;
}

static void hw_header(head_writer_t *w, const char *name, size_t nlen, const char *value,
                      size_t vlen) {
    hw_add(w, name, nlen);
    hw_add(w, ": ", 2);
    hw_add(w, value, vlen);
    hw_add(w, "\r\n", 2);
}

// request(method, target, host, headers, body_len, keep_alive, read_timeout, total_timeout):
// write a request head. headers: None or an iterable of (name, value) that replace the
// defaults of the same name; body_len: None (no body), an int (Content-Length) or -1
// (chunked coding); timeouts in seconds or None, as settimeout().
static mp_obj_t conn_request(size_t n_args, const mp_obj_t *args) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    check_open(self);
    if (self->state == STATE_BODY) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("previous response body not consumed"));
    }
    size_t mlen, tlen, hlen;
    const char *method = head_piece(args[1], &mlen, "method");
    const char *target = head_piece(args[2], &tlen, "URL");
    const char *host = head_piece(args[3], &hlen, "host");
    self->timeout_ms = timeout_to_ms(args[7]);
    self->has_deadline = args[8] != mp_const_none;
    if (self->has_deadline) {
        self->deadline = mp_hal_ticks_ms() + timeout_to_ms(args[8]);
    }
    // Default values; the framing one only when there is a body.
    char num[24];
    // (str objects end in NUL, so each value is a C string.)
    const char *values[N_DEFAULTS] = { host, FS_USER_AGENT, "identity",
                                       mp_obj_is_true(args[6]) ? "keep-alive" : "close", NULL };
    const char *framing = default_names[N_DEFAULTS - 1];
    if (args[5] != mp_const_none) {
        mp_int_t blen = mp_obj_get_int(args[5]);
        if (blen < 0) {
            framing = "Transfer-Encoding";
            values[N_DEFAULTS - 1] = "chunked";
        } else {
            snprintf(num, sizeof(num), "%lld", (long long)blen);
            values[N_DEFAULTS - 1] = num;
        }
    }
    // Which defaults the caller replaces, checked (with line breaks) before anything is sent.
    int given = 0;
    size_t nh = 0;
    mp_obj_t *items = NULL;
    if (args[4] != mp_const_none) {
        mp_obj_t list = mp_obj_is_type(args[4], &mp_type_list) ? args[4] : mp_obj_new_list(0, NULL);
        if (list != args[4]) {
            mp_obj_t iter = mp_getiter(args[4], NULL), item;
            while ((item = mp_iternext(iter)) != MP_OBJ_STOP_ITERATION) {
                mp_obj_list_append(list, item);
            }
        }
        mp_obj_list_get(list, &nh, &items);
        for (size_t i = 0; i < nh; i++) {
            mp_obj_t *kv;
            mp_obj_get_array_fixed_n(items[i], 2, &kv);
            size_t n, vn;
            const char *name = head_piece(kv[0], &n, "header name");
            head_piece(kv[1], &vn, "header value");
            given |= default_bit(name, n);
        }
    }
    // The connection now has an exchange in flight.
    fs_stats.requests++;
    if (self->requests++ > 0) {
        fs_stats.reused++;
    }
    self->state = STATE_HEAD;
    head_writer_t w;
    w.conn = self;
    w.len = 0;
    hw_add(&w, method, mlen);
    hw_add(&w, " ", 1);
    hw_add(&w, target, tlen);
    hw_add(&w, " HTTP/1.1\r\n", 11);
    for (int d = 0; d < N_DEFAULTS; d++) {
        if (!(given & (1 << d)) && values[d] != NULL) {
            const char *name = d == N_DEFAULTS - 1 ? framing : default_names[d];
            hw_header(&w, name, strlen(name), values[d], strlen(values[d]));
        }
    }
    for (size_t i = 0; i < nh; i++) {
        mp_obj_t *kv;
        mp_obj_get_array_fixed_n(items[i], 2, &kv);
        size_t n, vn;
        const char *name = mp_obj_str_get_data(kv[0], &n);
        const char *value = mp_obj_str_get_data(kv[1], &vn);
        hw_header(&w, name, n, value, vn);
    }
    hw_add(&w, "\r\n", 2);
    hw_flush(&w);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(conn_request_obj, 9, 9, conn_request);

// Wait for more bytes; an error or timeout raises, end of stream returns 0.
static int conn_fill(fs_conn_obj_t *self, const char *what) {
    int r = io_fill(self, wait_ms(self));
    if (r < 0) {
        conn_raise_wait(self, r, what);
    }
    return r;
}

// Body finished: the connection is reusable only if the server allows it.
static void body_done(fs_conn_obj_t *self) {
    self->state = STATE_DONE;
    if (!self->keep_alive) {
        conn_shutdown(self);
    }
}

// getresponse(head_request=False, target=None): read and parse the response head; returns
// a Response (fs_response.h) whose body is read from this connection.
static mp_obj_t conn_getresponse(size_t n_args, const mp_obj_t *args) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    check_open(self);
    if (self->state != STATE_HEAD) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("no request in flight"));
    }
    fs_head_init(&self->head, n_args > 1 && mp_obj_is_true(args[1]));
    fs_hdr_t hdrs[FS_MAX_HEADERS];
    char scratch[FS_SCRATCH_BYTES];
    fs_seg_t segs[FS_MAX_SEGMENTS];
    int consumed;
    for (;;) {
        size_t nsegs = io_segments(self, segs, FS_MAX_SEGMENTS);
        consumed = nsegs ? fs_head_parse(&self->head, segs, nsegs, hdrs, FS_MAX_HEADERS, scratch,
                                         sizeof(scratch))
                         : FS_INCOMPLETE;
        if (consumed != FS_INCOMPLETE) {
            break;
        }
        if (conn_fill(self, "read") == 0) {
            if (io_buffered(self) == 0) {
                conn_raise(
                    self, &fs_type_ProtocolError, MP_ECONNRESET,
                    self->requests > 1
                        ? "connection closed before the response head (stale keep-alive connection)"
                        : "connection closed before the response head");
            }
            conn_raise(self, &fs_type_ProtocolError, MP_EIO,
                       "connection closed in the middle of the response head");
        }
    }
    if (consumed < 0) {
        conn_raise_http(self, consumed);
    }
    const fs_head_t *h = &self->head;
    mp_obj_t packed = fs_headers_pack(h->reason, h->reason_len, hdrs, h->num_headers);
    // Slices into the segments are dead from here: the head bytes are released.
    io_consume(self, (size_t)consumed);
    self->body_kind = h->body_kind;
    self->keep_alive = h->keep_alive;
    self->body_left = h->content_length;
    self->body_read = 0;
    self->run_left = 0;
    fs_chunked_init(&self->chunk);
    self->state = STATE_BODY;
    if (h->body_kind == FS_BODY_NONE ||
        (h->body_kind == FS_BODY_LENGTH && h->content_length == 0)) {
        body_done(self);
    }
    return fs_response_new(args[0], h->status, packed, n_args > 2 ? args[2] : mp_const_none);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(conn_getresponse_obj, 1, 3, conn_getresponse);

static MP_NORETURN void raise_truncated(fs_conn_obj_t *self) {
    char msg[112];
    if (self->body_kind == FS_BODY_LENGTH) {
        snprintf(msg, sizeof(msg), "connection closed after %llu of %llu body bytes",
                 (unsigned long long)self->body_read,
                 (unsigned long long)(self->body_read + self->body_left));
    } else {
        snprintf(msg, sizeof(msg), "connection closed before the last chunk (%llu body bytes read)",
                 (unsigned long long)self->body_read);
    }
    conn_raise(self, &fs_type_ProtocolError, MP_EIO, msg);
}

static void body_consume(fs_conn_obj_t *self, size_t n);

// The next run of body bytes at the front of the transport, waiting for data if needed.
// Returns its length (0 = body complete) and sets *ptr; consume with body_consume().
static size_t body_peek(fs_conn_obj_t *self, const uint8_t **ptr) {
    if (self->view_pending) {
        // The run lent out by next_run() is done with.
        size_t n = self->view_pending;
        self->view_pending = 0;
        body_consume(self, n);
    }
    for (;;) {
        if (self->state != STATE_BODY) {
            return 0;
        }
        fs_seg_t seg;
        size_t have = io_segments(self, &seg, 1);
        if (have) {
            switch (self->body_kind) {
                case FS_BODY_LENGTH:
                    *ptr = seg.ptr;
                    return seg.len < self->body_left ? seg.len : (size_t)self->body_left;
                case FS_BODY_CLOSE:
                    *ptr = seg.ptr;
                    return seg.len;
                default: {
                    if (self->run_left) {
                        *ptr = seg.ptr;
                        return seg.len < self->run_left ? seg.len : self->run_left;
                    }
                    // Step over framing until a run of body bytes or the end.
                    size_t off, len;
                    int n = fs_chunked_step(&self->chunk, seg.ptr, seg.len, &off, &len);
                    if (n < 0) {
                        conn_raise_http(self, n);
                    }
                    // Framing is dropped at once; a run of body bytes stays until handed out.
                    io_consume(self, len ? off : (size_t)n);
                    self->run_left = len;
                    if (len == 0 && self->chunk.done) {
                        body_done(self);
                        return 0;
                    }
                    if (len || n) {
                        continue;
                    }
                }
            }
        }
        // Nothing usable buffered: wait for more.
        if (conn_fill(self, "read") == 0) {
            if (self->body_kind == FS_BODY_CLOSE) {
                body_done(self);
                return 0;
            }
            raise_truncated(self);
        }
    }
}

static void body_consume(fs_conn_obj_t *self, size_t n) {
    io_consume(self, n);
    self->body_read += n;
    if (self->body_kind == FS_BODY_LENGTH) {
        self->body_left -= n;
        if (self->body_left == 0) {
            body_done(self);
        }
    } else if (self->body_kind == FS_BODY_CHUNKED) {
        self->run_left -= n;
    }
}

// Large reads with nothing buffered bypass the receive buffer (POSIX): recv() lands in the
// caller's memory directly.
#define DIRECT_MIN (2048)

// Copy up to len body bytes into buf; returns bytes (0 = body complete).
static size_t body_read(fs_conn_obj_t *self, uint8_t *buf, size_t len) {
    if (self->state == STATE_BODY && self->body_kind == FS_BODY_LENGTH && len >= DIRECT_MIN &&
        io_buffered(self) == 0) {
        size_t want = len < self->body_left ? len : (size_t)self->body_left;
        int n = io_recv_into(self, buf, want, wait_ms(self));
        if (n > 0) {
            self->body_read += (size_t)n;
            self->body_left -= (size_t)n;
            if (self->body_left == 0) {
                body_done(self);
            }
            return (size_t)n;
        }
        if (n == 0) {
            raise_truncated(self);
        }
        if (n != FS_TP_ERR_UNSUPPORTED) {
            conn_raise_wait(self, n, "read");
        }
    }
    const uint8_t *p;
    size_t avail = body_peek(self, &p);
    if (avail == 0) {
        return 0;
    }
    size_t n = avail < len ? avail : len;
    memcpy(buf, p, n);
    fs_stats.bytes_copied += n;
    body_consume(self, n);
    return n;
}

// Stream protocol read: body bytes, 0 at the end of the body.
static mp_uint_t conn_stream_read(mp_obj_t self_in, void *buf, mp_uint_t size, int *errcode) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    (void)errcode;
    if (self->state < STATE_BODY) {
        return 0;
    }
    return body_read(self, buf, size);
}

static mp_uint_t conn_stream_write(mp_obj_t self_in, const void *buf, mp_uint_t size,
                                   int *errcode) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->state == STATE_CLOSED) {
        *errcode = MP_ENOTCONN;
        return MP_STREAM_ERROR;
    }
    int r = io_write(self, buf, size, self->timeout_ms);
    if (r < 0) {
        *errcode = (r == FS_TP_ERR_DNS || r <= FS_TP_ERR_UNSUPPORTED) ? MP_EIO : -r;
        return MP_STREAM_ERROR;
    }
    return size;
}

static mp_uint_t conn_stream_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg,
                                   int *errcode) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    switch (request) {
        case MP_STREAM_CLOSE:
            conn_shutdown(self);
            self->state = STATE_CLOSED;
            return 0;
        case MP_STREAM_POLL: {
            mp_uint_t ret = 0;
            if (self->state == STATE_CLOSED) {
                return arg & (MP_STREAM_POLL_RD | MP_STREAM_POLL_WR);
            }
            if ((arg & MP_STREAM_POLL_RD) && (self->state == STATE_DONE || io_readable(self))) {
                ret |= MP_STREAM_POLL_RD;
            }
            if (arg & MP_STREAM_POLL_WR) {
                ret |= MP_STREAM_POLL_WR;
            }
            return ret;
        }
        default:
            *errcode = MP_EINVAL;
            return MP_STREAM_ERROR;
    }
}

mp_obj_t fs_new_bytes(vstr_t *v) {
    // Trim to size with a terminating NUL, as MicroPython's own bytes objects have.
    if (v->alloc != v->len + 1) {
        v->buf = m_renew(char, v->buf, v->alloc, v->len + 1);
        v->alloc = v->len + 1;
    }
    v->buf[v->len] = '\0';
    mp_obj_str_t *o = mp_obj_malloc(mp_obj_str_t, &mp_type_bytes);
    fs_stats.heap_allocs++;
    o->len = v->len;
    o->hash = 0;
    o->data = (const byte *)v->buf;
    return MP_OBJ_FROM_PTR(o);
}

// readall(): the rest of the body as one bytes object, allocated once when the length is known.
mp_obj_t fs_conn_readall(mp_obj_t self_in) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->state < STATE_BODY) {
        return mp_const_empty_bytes;
    }
    if (self->state == STATE_BODY && self->body_kind == FS_BODY_LENGTH) {
        if (self->body_left > (uint64_t)(SIZE_MAX / 2)) {
            mp_raise_msg(&mp_type_MemoryError,
                         MP_ERROR_TEXT("body larger than memory; use save() or readinto()"));
        }
        size_t total = (size_t)self->body_left;
        vstr_t v;
        vstr_init_len(&v, total);
        fs_stats.heap_allocs++;
        size_t got = 0;
        while (got < total) {
            got += body_read(self, (uint8_t *)v.buf + got, total - got);
        }
        // Data first, then the small object: MicroPython's allocator moves its search start
        // only after single-block allocations, so this order keeps later searches short.
        return fs_new_bytes(&v);
    }
    // Unknown length: grow geometrically (amortised copies, few allocations).
    vstr_t v;
    vstr_init(&v, 1024);
    fs_stats.heap_allocs++;
    for (;;) {
        if (v.alloc - v.len < 512) {
            vstr_hint_size(&v, v.alloc);
            fs_stats.heap_allocs++;
        }
        size_t n = body_read(self, (uint8_t *)v.buf + v.len, v.alloc - v.len - 1);
        if (n == 0) {
            break;
        }
        v.len += n;
    }
    return fs_new_bytes(&v);
}

// save(stream, progress=None, piece=4096): write the rest of the body to a stream straight
// from the transport's buffers; progress(done, total) after each piece. Returns bytes written.
mp_obj_t fs_conn_save(size_t n_args, const mp_obj_t *args) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    const mp_stream_p_t *dst = mp_get_stream_raise(args[1], MP_STREAM_OP_WRITE);
    mp_obj_t progress = n_args > 2 ? args[2] : mp_const_none;
    mp_int_t piece = n_args > 3 ? mp_obj_get_int(args[3]) : 4096;
    if (piece <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("piece must be > 0"));
    }
    mp_obj_t total = self->body_kind == FS_BODY_LENGTH
                         ? mp_obj_new_int_from_ull(self->body_read + self->body_left)
                         : mp_const_none;
    uint64_t written = 0;
    uint64_t next_report = (uint64_t)piece;
    for (;;) {
        const uint8_t *p;
        size_t n = self->state >= STATE_BODY ? body_peek(self, &p) : 0;
        if (n == 0) {
            break;
        }
        if (n > (size_t)piece) {
            n = (size_t)piece;
        }
        int err;
        mp_uint_t w = dst->write(args[1], p, n, &err);
        if (w == MP_STREAM_ERROR) {
            mp_raise_OSError(err);
        }
        body_consume(self, w);
        written += w;
        if (progress != mp_const_none && written >= next_report) {
            next_report = written + (uint64_t)piece;
            mp_call_function_2(progress, mp_obj_new_int_from_ull(written), total);
        }
    }
    if (progress != mp_const_none) {
        mp_call_function_2(progress, mp_obj_new_int_from_ull(written), total);
    }
    return mp_obj_new_int_from_ull(written);
}

// drain(limit): read and drop up to limit remaining body bytes so the connection can be
// reused; returns True if the body is complete.
mp_obj_t fs_conn_drain(mp_obj_t self_in, mp_obj_t limit_in) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t limit = mp_obj_get_int(limit_in);
    while (self->state == STATE_BODY && limit > 0) {
        const uint8_t *p;
        size_t n = body_peek(self, &p);
        if (n == 0) {
            break;
        }
        if (n > (size_t)limit) {
            n = (size_t)limit;
        }
        body_consume(self, n);
        limit -= (mp_int_t)n;
    }
    return mp_obj_new_bool(self->state == STATE_DONE);
}

// next_run(max): a memoryview over the next run of body bytes (at most max) inside the
// transport's own buffer, or None at the end. Nothing is copied and nothing allocated after
// the first call: the same memoryview is re-pointed, so it is valid until the next call.
mp_obj_t fs_conn_next_run(mp_obj_t self_in, mp_obj_t max_in) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t max = mp_obj_get_int(max_in);
    if (max <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("chunk size must be > 0"));
    }
    const uint8_t *p;
    size_t n = self->state >= STATE_BODY ? body_peek(self, &p) : 0;
    if (n == 0) {
        return mp_const_none;
    }
    if (n > (size_t)max) {
        n = (size_t)max;
    }
    if (self->view == NULL) {
        self->view = MP_OBJ_TO_PTR(mp_obj_new_memoryview('B', 0, NULL));
        fs_stats.heap_allocs++;
    }
    self->view->items = (void *)p;
    self->view->len = n;
    self->view_pending = n;
    return MP_OBJ_FROM_PTR(self->view);
}

// body_pending(): True while response body bytes remain to be read.
static mp_obj_t conn_body_pending(mp_obj_t self_in) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(self->state == STATE_BODY);
}
static MP_DEFINE_CONST_FUN_OBJ_1(conn_body_pending_obj, conn_body_pending);

// reusable(): True when the last response is complete and the connection may carry another.
mp_obj_t fs_conn_reusable(mp_obj_t self_in) {
    fs_conn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool((self->state == STATE_IDLE || self->state == STATE_DONE) &&
                           fs_tp_is_open(&self->tp) && io_buffered(self) == 0 &&
                           (self->state == STATE_IDLE || self->keep_alive));
}
static MP_DEFINE_CONST_FUN_OBJ_1(conn_reusable_obj, fs_conn_reusable);

static const mp_rom_map_elem_t conn_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_request), MP_ROM_PTR(&conn_request_obj) },
    { MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&conn_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_getresponse), MP_ROM_PTR(&conn_getresponse_obj) },
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&mp_stream_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&mp_stream_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&mp_stream_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_reusable), MP_ROM_PTR(&conn_reusable_obj) },
    { MP_ROM_QSTR(MP_QSTR_body_pending), MP_ROM_PTR(&conn_body_pending_obj) },
    { MP_ROM_QSTR(MP_QSTR_settimeout), MP_ROM_PTR(&conn_settimeout_obj) },
    { MP_ROM_QSTR(MP_QSTR_tls), MP_ROM_PTR(&conn_tls_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&mp_stream_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&mp_stream_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&mp_stream___exit___obj) },
};
static MP_DEFINE_CONST_DICT(conn_locals_dict, conn_locals_table);

static const mp_stream_p_t conn_stream_p = {
    .read = conn_stream_read,
    .write = conn_stream_write,
    .ioctl = conn_stream_ioctl,
};

MP_DEFINE_CONST_OBJ_TYPE(fs_conn_type, MP_QSTR_Connection, MP_TYPE_FLAG_NONE, make_new,
                         conn_make_new, protocol, &conn_stream_p, locals_dict, &conn_locals_dict);

// SPDX-License-Identifier: MIT
// _fastsock.Connection: opening and closing, the ownership transitions (fs_conn.h), deadlines,
// and the caller-side methods (request, send, getresponse). Request heads are written by
// fs_request.c, responses read by fs_body.c.
#include <string.h>

#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/objstr.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "fs_body.h"
#include "fs_conn.h"
#include "fs_exc.h"
#include "fs_pool.h"
#include "fs_request.h"
#include "fs_response.h"
#if FS_TLS
#include "fs_tlsconfig.h"
#endif

fs_stats_t fs_stats;

void fs_run_callbacks(void) {
#if MICROPY_ENABLE_SCHEDULER
    // As many as are queued (one Python callback per call), never more than the queue holds:
    // a callback that schedules itself again waits for the next slice.
    for (int i = 0; i < MICROPY_SCHEDULER_DEPTH && MP_STATE_VM(sched_state) == MP_SCHED_PENDING &&
                    MP_STATE_THREAD(mp_pending_exception) == MP_OBJ_NULL;
         i++) {
        mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_ONLY);
    }
#endif
}

int fs_io_interrupted(void) {
    // Scheduled callbacks run in every wait, as in MicroPython's own socket waits; what the
    // waiting call uses is marked busy (a Response reading, a Connection in request/send/
    // getresponse), so a callback reaching for it gets RuntimeError instead of freeing it. A
    // pending exception (Ctrl-C) stops the wait.
    fs_run_callbacks();
    return MP_STATE_THREAD(mp_pending_exception) != MP_OBJ_NULL;
}

uint32_t fs_timeout_ms(mp_obj_t ms) {
    // The Python face turns seconds into milliseconds (and rejects NaN, infinity, <= 0): cold
    // float code is smaller as frozen bytecode than as Xtensa soft-float calls.
    return fs_uint_arg(ms, MP_QSTR_timeout, 0, 0x3fffffff, false);
}

fs_deadline_t fs_conn_deadline(const fs_conn_obj_t *c, uint32_t wait_ms) {
    return fs_deadline_min(wait_ms ? fs_deadline_in(wait_ms) : FS_FOREVER, c->total);
}

int fs_conn_code(const fs_conn_obj_t *c, int code) {
    if (code == -MP_ETIMEDOUT && c->total != FS_FOREVER &&
        (int32_t)(c->total - fs_clock_ms()) <= 0) {
        return FS_ERR_DEADLINE;
    }
    return code;
}

void fs_conn_close(fs_conn_obj_t *c) {
    if (c->io.ops != NULL) {
        c->io.ops->close(c->io.ctx);
        c->io.ops = NULL;
    }
#if FS_TLS
    c->tls = NULL;
#endif
    if (c->counted) {
        c->counted = 0;
        fs_stats.open--;
    }
    c->state = FS_CONN_CLOSED;
}

MP_NORETURN void fs_conn_raise(fs_conn_obj_t *c, int code, const char *what) {
#if FS_TLS
    // The TLS details (certificate problems) are read before the state is freed.
    mp_obj_t exc = code == -MP_EINTR ? MP_OBJ_NULL : fs_exc_make(code, what, c->tls);
#else
    mp_obj_t exc = code == -MP_EINTR ? MP_OBJ_NULL : fs_exc_make(code, what, NULL);
#endif
    fs_conn_close(c);
    if (exc == MP_OBJ_NULL) {
        fs_exc_raise(code, what, NULL);
    }
    nlr_raise(exc);
}

// A str argument without NUL (a C string must not end early), else TypeError/ValueError.
const char *fs_conn_str(mp_obj_t o, qstr name) {
    if (!mp_obj_is_str(o)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%q must be a str"), name);
    }
    size_t len;
    const char *s = mp_obj_str_get_data(o, &len);
    if (strlen(s) != len) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("NUL in %q"), name);
    }
    return s;
}

fs_conn_obj_t *fs_conn_open(mp_obj_t host_in, mp_int_t port, mp_obj_t tlscfg, uint32_t connect_ms,
                            fs_deadline_t total) {
    const char *host = fs_conn_str(host_in, MP_QSTR_host);
    if (port <= 0 || port > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("port out of range"));
    }
#if FS_TLS
    fs_tls_conf_t *conf = tlscfg != mp_const_none ? fs_tlsconfig_get(tlscfg) : NULL;
#else
    if (tlscfg != mp_const_none) {
        mp_raise_msg(&mp_type_NotImplementedError,
                     MP_ERROR_TEXT("this build has no TLS (FS_TLS=0)"));
    }
#endif
    fs_conn_obj_t *c = mp_obj_malloc_with_finaliser(fs_conn_obj_t, &fs_conn_type);
    fs_stats.heap_allocs++;
    memset((uint8_t *)c + sizeof(mp_obj_base_t), 0, sizeof(*c) - sizeof(mp_obj_base_t));
    c->pool = mp_const_none;
    c->key = mp_const_none;
    c->tlscfg = tlscfg;
    c->total = total;
    c->read_ms = connect_ms;
    fs_tp_init(&c->tp);
    c->io.ops = &fs_tp_ops;
    c->io.ctx = &c->tp;
#if FS_TLS
    if (conf != NULL) {
        c->tls = fs_tls_new(conf, &c->tp);
        if (c->tls == NULL) {
            fs_conn_raise(c, FS_TLS_ERR_NOMEM, "TLS");
        }
        c->io.ops = &fs_tls_ops;
        c->io.ctx = c->tls;
    }
#endif
    // Counted from here: the transport may hold a socket even while connecting.
    c->counted = 1;
    fs_stats.open++;
    c->state = FS_CONN_IDLE;
    int r = c->io.ops->connect(c->io.ctx, host, (uint16_t)port, fs_conn_deadline(c, connect_ms));
    if (r < 0) {
#if FS_TLS
        fs_conn_raise(c, fs_conn_code(c, r),
                      c->tls != NULL && fs_tp_is_open(&c->tp) ? "TLS handshake" : "connect");
#else
        fs_conn_raise(c, fs_conn_code(c, r), "connect");
#endif
    }
    fs_stats.connections++;
    return c;
}

void fs_conn_release(fs_conn_obj_t *c) {
    // Reusable only after a complete exchange the server keeps open, with nothing stray behind.
    bool reuse = c->state == FS_CONN_DONE && c->keep_alive && c->pool != mp_const_none &&
                 c->io.ops->buffered(c->io.ctx) == 0;
    c->owner = FS_OWNER_CALLER;
    if (reuse) {
        c->state = FS_CONN_IDLE;
        fs_pool_put(c->pool, c);
    } else {
        fs_conn_close(c);
    }
}

// A scheduled callback run during one of this connection's waits must not use it: the wait
// holds pointers into its buffers.
static void not_busy(const fs_conn_obj_t *c) {
    if (c->busy) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("connection in use by another call"));
    }
}

static void mark_undo(void *ctx) {
    fs_mark_t *m = ctx;
    *m->flag = m->was;
}

void fs_mark_begin(fs_mark_t *m, bool *flag) {
    m->flag = flag;
    m->was = *flag;
    *flag = true;
    nlr_push_jump_callback(&m->node, mark_undo);
}

// Python methods act for the caller only; a connection held by a pool or a response is not
// theirs to touch.
static fs_conn_obj_t *caller_conn(mp_obj_t self_in) {
    fs_conn_obj_t *c = MP_OBJ_TO_PTR(self_in);
    not_busy(c);
    if (c->owner != FS_OWNER_CALLER) {
        mp_raise_msg(&mp_type_RuntimeError,
                     MP_ERROR_TEXT("connection is owned by a response or a pool"));
    }
    if (c->state == FS_CONN_CLOSED) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    return c;
}

// Connection(host, port, timeout_ms=0, tls=None): connect (and shake hands with a TLSConfig);
// timeout_ms for the connect and each later wait (0: none).
static mp_obj_t conn_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
                              const mp_obj_t *args) {
    (void)type;
    mp_arg_check_num(n_args, n_kw, 2, 4, false);
    uint32_t ms = n_args > 2 ? fs_timeout_ms(args[2]) : 0;
    mp_obj_t tls = n_args > 3 ? args[3] : mp_const_none;
    mp_int_t port = fs_uint_arg(args[1], MP_QSTR_port, 1, 65535, false);
    return MP_OBJ_FROM_PTR(fs_conn_open(args[0], port, tls, ms, FS_FOREVER));
}

// request(method, target, host, headers, body_len, keep_alive, read_ms, deadline): start an
// exchange by writing its head (fs_request.h); read_ms for each later wait (0: none),
// deadline from _fastsock.deadline() or None.
static mp_obj_t conn_request(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    fs_conn_obj_t *c = caller_conn(args[0]);
    if (c->state != FS_CONN_IDLE) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("a request is already in flight"));
    }
    // Every argument checked before anything is sent.
    for (int i = 1; i <= 3; i++) {
        fs_conn_str(args[i], i == 1 ? MP_QSTR_method : i == 2 ? MP_QSTR_target : MP_QSTR_host);
    }
    if (!mp_obj_is_bool(args[6])) {
        mp_raise_TypeError(MP_ERROR_TEXT("keep_alive must be True or False"));
    }
    uint32_t read_ms = fs_timeout_ms(args[7]);
    fs_deadline_t total = args[8] == mp_const_none
                              ? FS_FOREVER
                              : (fs_deadline_t)fs_uint_arg(args[8], MP_QSTR_deadline, 0, 0xffffffff, false);
    c->read_ms = read_ms;
    c->total = total;
    c->sent_ms = fs_clock_ms();
    fs_mark_t busy; // the waits below run scheduled callbacks: none may use c meanwhile
    fs_mark_begin(&busy, &c->busy);
    fs_request_write(c, args[1], args[2], args[3], args[4], args[5], args[6] == mp_const_true);
    fs_mark_end();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(conn_request_obj, 9, 9, conn_request);

// send(data): a body piece of the request in flight; all of it or an exception.
static mp_obj_t conn_send(mp_obj_t self_in, mp_obj_t data) {
    fs_conn_obj_t *c = caller_conn(self_in);
    if (c->state != FS_CONN_REQUEST) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("no request in flight"));
    }
    mp_buffer_info_t bufinfo;
    mp_get_buffer_raise(data, &bufinfo, MP_BUFFER_READ);
    if (c->send_known) {
        if (bufinfo.len > c->send_left) {
            // Past the announced length the server would read a second request: stop here.
            fs_conn_close(c);
            mp_raise_ValueError(MP_ERROR_TEXT("request body longer than its Content-Length"));
        }
        c->send_left -= bufinfo.len;
    }
    fs_mark_t busy;
    fs_mark_begin(&busy, &c->busy);
    fs_request_send(c, bufinfo.buf, bufinfo.len);
    fs_mark_end();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(conn_send_obj, conn_send);

// getresponse(head_request=False, url=None): read the response head; the returned Response
// owns the connection from here (a body-less one hands it back at once).
static mp_obj_t conn_getresponse(size_t n_args, const mp_obj_t *args) {
    fs_conn_obj_t *c = caller_conn(args[0]);
    if (c->state != FS_CONN_REQUEST) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("no request in flight"));
    }
    if (c->send_known && c->send_left > 0) {
        // A short body would leave the server waiting for the rest (forever with no timeout).
        fs_conn_close(c);
        mp_raise_msg_varg(&mp_type_ValueError,
                          MP_ERROR_TEXT("request body shorter than its Content-Length by %u bytes"),
                          (unsigned)(c->send_left > 0xffffffffu ? 0xffffffffu : c->send_left));
    }
    mp_obj_t url = n_args > 2 ? args[2] : mp_const_none;
    if ((n_args > 1 && !mp_obj_is_bool(args[1])) || (url != mp_const_none && !mp_obj_is_str(url))) {
        mp_raise_TypeError(MP_ERROR_TEXT("getresponse(head_request: bool, url: str or None)"));
    }
    fs_mark_t busy;
    fs_mark_begin(&busy, &c->busy);
    mp_obj_t packed = fs_body_read_head(c, n_args > 1 && args[1] == mp_const_true);
    fs_mark_end();
    return fs_response_new(c, packed, url);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(conn_getresponse_obj, 1, 3, conn_getresponse);

// stale(): True when the last request failed on a reused connection before any byte of the
// response arrived, so the server cannot have answered it (an idempotent one may be retried).
static mp_obj_t conn_stale(mp_obj_t self_in) {
    fs_conn_obj_t *c = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(c->requests > 1 && !c->rx_started && c->state == FS_CONN_CLOSED);
}
static MP_DEFINE_CONST_FUN_OBJ_1(conn_stale_obj, conn_stale);

mp_obj_t fs_conn_tls_info(fs_conn_obj_t *c) {
#if FS_TLS
    if (c->tls != NULL) {
        mp_obj_t items[3] = {
            mp_obj_new_str_from_cstr(fs_tls_version(c->tls)),
            mp_obj_new_str_from_cstr(fs_tls_cipher(c->tls)),
            mp_obj_new_bool(fs_tls_resumed(c->tls)),
        };
        return mp_obj_new_tuple(3, items);
    }
#else
    (void)c;
#endif
    return mp_const_none;
}

static mp_obj_t conn_tls(mp_obj_t self_in) {
    return fs_conn_tls_info(MP_OBJ_TO_PTR(self_in));
}
static MP_DEFINE_CONST_FUN_OBJ_1(conn_tls_obj, conn_tls);

// close() and the finaliser: a connection the caller holds is closed; one held by a pool or
// a response is theirs (a finaliser only runs once neither references it).
static mp_obj_t conn_close(mp_obj_t self_in) {
    fs_conn_obj_t *c = MP_OBJ_TO_PTR(self_in);
    not_busy(c);
    if (c->owner == FS_OWNER_CALLER) {
        fs_conn_close(c);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(conn_close_obj, conn_close);

static mp_obj_t conn_del(mp_obj_t self_in) {
    fs_conn_close(MP_OBJ_TO_PTR(self_in));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(conn_del_obj, conn_del);

// Stream protocol: poll only (select/asyncio wait for the response head with it).
static mp_uint_t conn_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    fs_conn_obj_t *c = MP_OBJ_TO_PTR(self_in);
    if (request != MP_STREAM_POLL) {
        *errcode = MP_EINVAL;
        return MP_STREAM_ERROR;
    }
    if (c->state == FS_CONN_CLOSED) {
        return MP_STREAM_POLL_NVAL; // as MicroPython's closed sockets: a poller drops it
    }
    mp_uint_t ret = arg & MP_STREAM_POLL_WR;
    if ((arg & MP_STREAM_POLL_RD) && c->io.ops->readable(c->io.ctx)) {
        ret |= MP_STREAM_POLL_RD;
    }
    return ret;
}

static const mp_stream_p_t conn_stream_p = {
    .ioctl = conn_ioctl,
};

static const mp_rom_map_elem_t conn_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_request), MP_ROM_PTR(&conn_request_obj) },
    { MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&conn_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_getresponse), MP_ROM_PTR(&conn_getresponse_obj) },
    { MP_ROM_QSTR(MP_QSTR_stale), MP_ROM_PTR(&conn_stale_obj) },
    { MP_ROM_QSTR(MP_QSTR_tls), MP_ROM_PTR(&conn_tls_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&conn_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&conn_del_obj) },
};
static MP_DEFINE_CONST_DICT(conn_locals_dict, conn_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(fs_conn_type, MP_QSTR_Connection, MP_TYPE_FLAG_NONE, make_new,
                         conn_make_new, protocol, &conn_stream_p, locals_dict, &conn_locals_dict);

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

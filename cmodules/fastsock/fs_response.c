// SPDX-License-Identifier: MIT
// _fastsock.Response: status, lazily decoded headers, and the body read from the connection
// the response owns (content, text, json(), readinto(), iter_content(), save(), the stream
// protocol). The first failure is kept: every later read raises it again, never a short end.
// While save() runs Python code (a write method, progress) the response refuses other calls.
#include <string.h>

#include "py/builtin.h"
#include "py/mperrno.h"
#include "py/objint.h"
#include "py/objstr.h"
#include "py/objtype.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "fs_body.h"
#include "fs_exc.h"
#include "fs_headers.h"
#include "fs_response.h"

// Body bytes close() reads from what already arrived to keep the connection for the next request.
#define DRAIN_LIMIT (16384)
// save()'s one buffer (a decoded body's pieces, a Python writer's lent pieces) holds at most this.
#define SAVE_BUF_MAX (16384)

typedef struct {
    mp_obj_base_t base;
    fs_conn_obj_t *conn; // owned until the body is complete or failed, then NULL
    mp_obj_t packed;     // reason and headers
    mp_obj_t url;        // for .url, or None
    mp_obj_t content;    // the body as bytes once asked for, else MP_OBJ_NULL
    vstr_t body;         // the body once read (body.buf NULL until then), made bytes on demand
    mp_obj_t headers;    // Headers view once asked for, else MP_OBJ_NULL
    mp_obj_t history;    // redirects followed (list), else MP_OBJ_NULL
    mp_obj_t encoding;   // for .text: from Content-Type on first use (MP_OBJ_NULL until then)
    mp_obj_t error;      // the exception the body failed with, else MP_OBJ_NULL
    mp_obj_t tls;        // the connection's tls() info (https), else None
    mp_obj_t decoder;    // Content-Encoding gzip/deflate: a DeflateIO over the raw body, else NULL
    mp_int_t status;
    size_t raw_off;      // eager: how much of the stored body the stream reads have handed out
    uint32_t elapsed_ms; // from the start of the request to its head parsed
    bool busy;           // a call is using it (save(), a read that may wait): re-entry refused
    bool eager;          // the body was read before the call returned (stream=False)
    bool closed;         // close() was called: the stream polls MP_STREAM_POLL_NVAL
} fs_response_obj_t;

// Hand the connection back once its body is complete.
static void settle(fs_response_obj_t *r) {
    if (r->conn != NULL && r->conn->state != FS_CONN_BODY) {
        fs_conn_obj_t *c = r->conn;
        r->conn = NULL;
        fs_conn_release(c);
    }
}

// A function of fastsock._more, the package's leaf: cold paths (error messages, parsing rarely
// used headers, line splitting) are cheaper in frozen bytecode than in flash-resident C, and
// load on first use. The import returns the package; the leaf is its attribute. (A dotted
// name has no MP_QSTR_ constant in a user module: interned at the first call.)
static mp_obj_t py_helper(qstr name) {
    mp_obj_t pkg = mp_import_name(qstr_from_str("fastsock._more"), mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    return mp_load_attr(mp_load_attr(pkg, MP_QSTR__more), name);
}

mp_uint_t fs_uint_arg(mp_obj_t o, qstr name, mp_uint_t lo, mp_uint_t hi, bool clamp) {
    mp_int_t v = mp_obj_is_small_int(o) ? MP_OBJ_SMALL_INT_VALUE(o) : -1;
    if (v >= 0 && (mp_uint_t)v >= lo && (mp_uint_t)v <= hi) {
        return v;
    }
    // Anything else (bools, ints past a small int, other types, errors) in fastsock._more._int_arg.
    mp_obj_t args[5] = { o, MP_OBJ_NEW_QSTR(name), MP_OBJ_NEW_SMALL_INT(lo),
                         mp_obj_new_int_from_uint(hi), mp_obj_new_bool(clamp) };
    return mp_obj_get_int_truncated(mp_call_function_n_kw(py_helper(MP_QSTR__int_arg), 5, 0, args));
}

mp_obj_t fs_response_new(fs_conn_obj_t *c, mp_obj_t packed, mp_obj_t url) {
    fs_response_obj_t *r = mp_obj_malloc(fs_response_obj_t, &fs_response_type);
    fs_stats.heap_allocs++;
    r->conn = c;
    c->owner = FS_OWNER_RESPONSE;
    r->packed = packed;
    r->url = url;
    r->content = MP_OBJ_NULL;
    r->body.buf = NULL;
    r->headers = MP_OBJ_NULL;
    r->history = MP_OBJ_NULL;
    r->encoding = MP_OBJ_NULL;
    r->error = MP_OBJ_NULL;
    r->tls = mp_const_none;
    r->decoder = MP_OBJ_NULL;
    r->status = c->head.status;
    r->elapsed_ms = fs_clock_ms() - c->sent_ms;
    r->raw_off = 0;
    r->busy = false;
    r->eager = false;
    r->closed = false;
#if FS_TLS
    if (c->tls != NULL) {
        r->tls = fs_conn_tls_info(c);
    }
#endif
    if (c->state == FS_CONN_DONE) {
        r->content = mp_const_empty_bytes;
    }
#if MICROPY_PY_DEFLATE
    // Where the firmware can inflate, Accept-Encoding offered gzip: a compressed body is
    // decoded while it is read (fastsock._more._decoder; None for codings it cannot decode).
    static MP_DEFINE_STR_OBJ(content_encoding, "content-encoding");
    mp_obj_t coding = c->state == FS_CONN_BODY
                          ? fs_headers_lookup(packed, MP_OBJ_FROM_PTR(&content_encoding), MP_OBJ_NULL)
                          : MP_OBJ_NULL;
    if (coding != MP_OBJ_NULL) {
        mp_obj_t d = mp_call_function_2(py_helper(MP_QSTR__decoder), MP_OBJ_FROM_PTR(r), coding);
        r->decoder = d == mp_const_none ? MP_OBJ_NULL : d;
    }
#endif
    settle(r);
    return MP_OBJ_FROM_PTR(r);
}

// The body failed with code: keep the exception, close the connection, return the exception.
static mp_obj_t fail(fs_response_obj_t *r, int code) {
    fs_conn_obj_t *c = r->conn;
    mp_obj_t exc;
    if (code == -MP_EINTR) {
        exc = fs_exc_make(-MP_EINTR, "read interrupted", NULL);
    } else {
        exc = fs_body_error(c, code);
    }
    r->error = exc;
    r->conn = NULL;
    fs_conn_close(c);
    return exc;
}

static MP_NORETURN void raise_failure(fs_response_obj_t *r, int code) {
    mp_obj_t exc = fail(r, code);
    if (code == -MP_EINTR) {
        // Ctrl-C: raise the pending KeyboardInterrupt; later reads report the interruption.
        fs_exc_raise(code, "read", NULL);
    }
    nlr_raise(exc);
}

// A failure the body met is raised again by every later read.
static void raise_kept(fs_response_obj_t *r) {
    if (r->error != MP_OBJ_NULL) {
        nlr_raise(r->error);
    }
}

// Every body access starts here: re-entry (save()'s Python code, a scheduled callback during a
// wait) is refused, a failure is raised again.
static void check(fs_response_obj_t *r) {
    if (r->busy) {
        nlr_raise(fs_exc_make(FS_ERR_BUSY, NULL, NULL));
    }
    raise_kept(r);
}

// A body read into buf (or, buf NULL, a peek at the next run in *p) that may wait, with the
// response marked busy: scheduled callbacks run in the wait (fs_io_interrupted), and one that
// reaches for this response gets RuntimeError (check) instead of closing the connection under
// the read. fs_body_read/peek return codes: no exception passes here.
static int body_wait(fs_response_obj_t *r, uint8_t *buf, size_t len, const uint8_t **p) {
    bool was = r->busy;
    r->busy = true;
    int n = buf != NULL ? fs_body_read(r->conn, buf, len) : fs_body_peek(r->conn, p, true);
    r->busy = was;
    return n;
}

// Up to len raw body bytes (as sent) into buf (0 at the end); a failure raises.
static size_t read_raw(fs_response_obj_t *r, uint8_t *buf, size_t len) {
    if (r->conn == NULL || len == 0) {
        return 0;
    }
    int n = body_wait(r, buf, len, NULL);
    if (n < 0) {
        raise_failure(r, n);
    }
    settle(r);
    return (size_t)n;
}

#if MICROPY_PY_DEFLATE
// Up to len decoded bytes into buf (0 at the end). The decoder reads the raw body through the
// stream protocol, where a body failure is kept in r->error; a corrupt or cut stream is a
// ProtocolError. Either way the connection is closed and every later read raises the same.
static size_t decode_into(fs_response_obj_t *r, uint8_t *buf, size_t len) {
    if (r->error == MP_OBJ_NULL && len > 0) {
        nlr_buf_t nlr;
        int err = 0;
        mp_uint_t n = MP_STREAM_ERROR;
        bool was = r->busy;
        r->busy = false; // the decoder reads the raw body through the stream protocol
        if (nlr_push(&nlr) == 0) {
            n = mp_get_stream(r->decoder)->read(r->decoder, buf, len, &err);
            nlr_pop();
        }
        r->busy = was;
        if (n != MP_STREAM_ERROR) {
            if (n == 0) {
                // The stream ended: the rest of the raw body (a chunked body's last chunk) is
                // read so the connection can serve the next request.
                uint8_t rest[64];
                while (read_raw(r, rest, sizeof(rest)) > 0) {
                }
            }
            return n;
        }
        if (r->error == MP_OBJ_NULL) {
            r->error = fs_exc_make(FS_ERR_DECODE, NULL, NULL);
        }
        if (r->conn != NULL) {
            fs_conn_obj_t *c = r->conn;
            r->conn = NULL;
            fs_conn_close(c);
        }
    }
    raise_kept(r); // (not check(): the caller's own busy mark is on)
    return 0;
}
#endif

// Up to len body bytes, decoded (Content-Encoding), into buf (0 at the end); a failure raises.
static size_t read_into(fs_response_obj_t *r, uint8_t *buf, size_t len) {
#if MICROPY_PY_DEFLATE
    if (r->decoder != MP_OBJ_NULL) {
        return decode_into(r, buf, len);
    }
#endif
    return read_raw(r, buf, len);
}

// The rest of the body into r->body, allocated once when the length is known.
static void read_all(fs_response_obj_t *r) {
    fs_conn_obj_t *c = r->conn;
    vstr_t v;
    if (c->body_kind == FS_BODY_LENGTH && r->decoder == MP_OBJ_NULL) {
        if (c->body_left > (uint64_t)(SIZE_MAX / 2)) {
            mp_raise_msg(&mp_type_MemoryError,
                         MP_ERROR_TEXT("body larger than memory; use save() or readinto()"));
        }
        size_t total = (size_t)c->body_left;
        vstr_init_len(&v, total);
        fs_stats.heap_allocs++;
        size_t got = 0;
        while (got < total) {
            size_t n = read_into(r, (uint8_t *)v.buf + got, total - got);
            if (n == 0) {
                break;
            }
            got += n;
            fs_run_callbacks();
        }
        v.len = got;
    } else {
        // Unknown length: grow geometrically (amortised copies, few allocations).
        vstr_init(&v, 1024);
        fs_stats.heap_allocs++;
        for (;;) {
            if (v.alloc - v.len < 512) {
                vstr_hint_size(&v, v.alloc);
                fs_stats.heap_allocs++;
            }
            size_t n = read_into(r, (uint8_t *)v.buf + v.len, v.alloc - v.len - 1);
            if (n == 0) {
                break;
            }
            v.len += n;
            fs_run_callbacks();
        }
    }
    r->body = v;
}

// The body as bytes: its (single-block) object is made on first use, apart from the data.
// MicroPython's allocator moves its search start only after single-block allocations; made
// after the request's heap frames are freed, it lands in their hole and keeps the next
// searches short (made inside them, each request would rescan all garbage since the last GC).
MP_NOINLINE static mp_obj_t content_of(fs_response_obj_t *r) {
    if (r->content == MP_OBJ_NULL && r->body.buf != NULL) {
        r->content = fs_new_bytes(&r->body);
        r->body.buf = NULL;
    }
    return r->content;
}

// Read the whole body now (stream=False); the bytes object waits for first use.
static void fetch(fs_response_obj_t *r) {
    if (r->content == MP_OBJ_NULL && r->body.buf == NULL) {
        check(r);
        if (r->conn == NULL || r->conn->body_read > 0) {
            mp_raise_msg(&mp_type_RuntimeError,
                         MP_ERROR_TEXT("the body was already consumed as a stream"));
        }
        fs_mark_t busy; // callbacks run between the pieces: none may close r meanwhile
        fs_mark_begin(&busy, &r->busy);
        read_all(r);
        fs_mark_end();
    }
}

static mp_obj_t response_content(fs_response_obj_t *r) {
    fetch(r);
    return content_of(r);
}

// _read_body(): the body read before the call returns (stream=False); r.raw then reads it from
// the start, as micropython-lib's requests does.
static mp_obj_t response_read_body(mp_obj_t self_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    fetch(r);
    r->eager = true;
    return self_in;
}
static MP_DEFINE_CONST_FUN_OBJ_1(response_read_body_obj, response_read_body);

// Give the connection up: what already arrived of the body is read (up to DRAIN_LIMIT, no
// waiting) so a complete response keeps its connection; otherwise it is closed.
static void release(fs_response_obj_t *r) {
    fs_conn_obj_t *c = r->conn;
    if (c == NULL) {
        return;
    }
    size_t drained = 0;
    while (c->state == FS_CONN_BODY && drained < DRAIN_LIMIT) {
        const uint8_t *p;
        int n = fs_body_peek(c, &p, false);
        if (n <= 0) {
            break;
        }
        fs_body_consume(c, (size_t)n);
        drained += (size_t)n;
    }
    r->conn = NULL;
    fs_conn_release(c);
}

static mp_obj_t response_close(mp_obj_t self_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    if (r->busy) {
        nlr_raise(fs_exc_make(FS_ERR_BUSY, NULL, NULL));
    }
    release(r);
    r->closed = true;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(response_close_obj, response_close);

static mp_obj_t response_exit(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    return response_close(args[0]);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(response_exit_obj, 4, 4, response_exit);

static mp_obj_t response_json(mp_obj_t self_in) {
    mp_obj_t json = mp_import_name(MP_QSTR_json, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    return mp_call_function_1(mp_load_attr(json, MP_QSTR_loads),
                              response_content(MP_OBJ_TO_PTR(self_in)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(response_json_obj, response_json);

// raise_for_status(): fastsock.HTTPError for 4xx and 5xx.
static mp_obj_t response_raise_for_status(mp_obj_t self_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    if (r->status >= 400) {
        mp_call_function_1(py_helper(MP_QSTR__raise_http_error), self_in);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(response_raise_for_status_obj, response_raise_for_status);

// The stream's reads (readinto, read, r.raw): the body from the receive buffers; a body read
// eagerly is read from its stored bytes instead, from the start, once. No failure is raised
// for a stored body.
static size_t stored_read(fs_response_obj_t *r, uint8_t *buf, size_t len) {
    size_t n;
    const char *data = mp_obj_str_get_data(content_of(r), &n);
    n = n - r->raw_off < len ? n - r->raw_off : len;
    memcpy(buf, data + r->raw_off, n);
    fs_stats.bytes_copied += n;
    r->raw_off += n;
    return n;
}

static size_t raw_read(fs_response_obj_t *r, uint8_t *buf, size_t len) {
    return r->eager ? stored_read(r, buf, len) : read_into(r, buf, len);
}

// readinto(buf): body bytes into buf (one copy, no allocation); 0 at the end.
static mp_obj_t response_readinto(mp_obj_t self_in, mp_obj_t buf_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t buf;
    mp_get_buffer_raise(buf_in, &buf, MP_BUFFER_WRITE);
    check(r);
    return MP_OBJ_NEW_SMALL_INT(raw_read(r, buf.buf, buf.len));
}
static MP_DEFINE_CONST_FUN_OBJ_2(response_readinto_obj, response_readinto);

// Write n bytes to a native stream straight from p (no Python runs). Returns 0 or an error
// code (-errno, FS_ERR_WRITE_ZERO).
static int write_native(mp_obj_t f, const mp_stream_p_t *native, const uint8_t *p, size_t n) {
    while (n > 0) {
        int err;
        mp_uint_t w = native->write(f, p, n, &err);
        if (w == MP_STREAM_ERROR) {
            return -err;
        }
        if (w == 0) {
            return FS_ERR_WRITE_ZERO;
        }
        p += w;
        n -= w;
    }
    return 0;
}

// A Python writer's write(obj) for an object of n bytes it may keep: it takes all of them
// (returns None or n, as files do) or the save fails with what write() returned.
static int write_py(mp_obj_t f, mp_obj_t obj, size_t n) {
    mp_obj_t dest[3];
    mp_load_method(f, MP_QSTR_write, dest);
    dest[2] = obj;
    mp_obj_t w = mp_call_method_n_kw(1, 0, dest);
    // (A piece is a small int: it is in RAM.)
    mp_obj_t len = MP_OBJ_NEW_SMALL_INT(n);
    if (w != mp_const_none && w != len) {
        mp_call_function_2(py_helper(MP_QSTR__short_write), w, len);
    }
    return 0;
}

// The body to stream f: straight from the receive buffers for native streams, piece by
// piece through a Python object's write(). progress(done, total) after each piece.
static uint64_t save_body(fs_response_obj_t *r, mp_obj_t f, mp_obj_t progress, size_t piece) {
    const mp_obj_type_t *type = mp_obj_get_type(f);
    const mp_stream_p_t *native = NULL;
    if (mp_obj_is_native_type(type) && MP_OBJ_TYPE_HAS_SLOT(type, protocol)) {
        native = mp_get_stream(f);
        if (native->write == NULL) {
            native = NULL;
        }
    }
    if (native == NULL) {
        // Not a native stream: an object with a write() method (raises AttributeError if not).
        mp_obj_t dest[2];
        mp_load_method(f, MP_QSTR_write, dest);
    }
    uint64_t written = 0;
    uint64_t next_report = piece;
    bool reported = false; // the last piece's report was the final count already
    mp_obj_t total = mp_const_none;
    if (content_of(r) != MP_OBJ_NULL) {
        mp_buffer_info_t b;
        mp_get_buffer_raise(r->content, &b, MP_BUFFER_READ);
        // The content is an immutable bytes object already: a Python writer gets it as is.
        int e =
            native != NULL ? write_native(f, native, b.buf, b.len) : write_py(f, r->content, b.len);
        if (e < 0) {
            nlr_raise(fs_exc_make(e, "write", NULL));
        }
        written = b.len;
        total = mp_obj_new_int_from_uint(b.len);
    } else {
        fs_conn_obj_t *c = r->conn;
        // One buffer for the whole save: decoded pieces (Content-Encoding) land in it, and a
        // Python writer is lent it, refilled, behind one memoryview (as iter_content(view=True)):
        // nothing is allocated per piece, which on a small heap would churn the GC.
        uint8_t *buf = NULL;
        mp_obj_array_t *lent = NULL;
        size_t cap = piece; // the most one write() gets
        if (r->decoder != MP_OBJ_NULL || native == NULL) {
            cap = piece < SAVE_BUF_MAX ? piece : SAVE_BUF_MAX;
            if (r->decoder == MP_OBJ_NULL && c->body_kind == FS_BODY_LENGTH && c->body_left < cap) {
                cap = c->body_left > 0 ? (size_t)c->body_left : 1; // a short body: no more
            }
            buf = m_new(uint8_t, cap);
            fs_stats.heap_allocs++;
        }
        if (native == NULL) {
            lent = m_new_obj(mp_obj_array_t);
            fs_stats.heap_allocs++;
        }
        if (r->decoder == MP_OBJ_NULL && c->body_kind == FS_BODY_LENGTH) {
            total = mp_obj_new_int_from_ull(c->body_read + c->body_left);
        }
        for (;;) {
            fs_run_callbacks(); // between pieces too: a fast download never waits
            const uint8_t *p = buf;
            size_t k;
            if (r->decoder != MP_OBJ_NULL) {
                k = read_into(r, buf, cap);
            } else {
                int n = r->conn == NULL ? 0 : fs_body_peek(r->conn, &p, true);
                if (n < 0) {
                    raise_failure(r, n);
                }
                k = (size_t)n < cap ? (size_t)n : cap;
            }
            if (k == 0) {
                settle(r);
                break;
            }
            int e;
            if (native != NULL) {
                e = write_native(f, native, p, k);
                if (p != buf) {
                    fs_body_consume(r->conn, k);
                }
            } else {
                if (p != buf) {
                    // Python runs in write(): the run is copied out and released before it does.
                    memcpy(buf, p, k);
                    fs_stats.bytes_copied += k;
                    fs_body_consume(r->conn, k);
                }
                mp_obj_memoryview_init(lent, 'B', 0, k, buf);
                e = write_py(f, MP_OBJ_FROM_PTR(lent), k);
                lent->len = 0; // a writer that kept the view sees it empty, not the next piece
            }
            if (e < 0) {
                nlr_raise(fs_exc_make(e, "write", NULL));
            }
            written += k;
            reported = false;
            if (progress != mp_const_none && written >= next_report) {
                next_report = written + piece;
                mp_call_function_2(progress, mp_obj_new_int_from_ull(written), total);
                reported = true;
            }
        }
        // Back to the heap now, not at the next collection (a small heap needs it at once;
        // a pointer left on the C stack would otherwise keep it past this call).
        if (lent != NULL) {
            lent->items = NULL;
        }
        if (buf != NULL) {
            m_del(uint8_t, buf, cap);
        }
    }
    if (progress != mp_const_none && !reported) {
        mp_call_function_2(progress, mp_obj_new_int_from_ull(written), total);
    }
    return written;
}

// _save(target, progress, piece): save()'s work, once fastsock._more._save has checked the
// arguments (a bad one leaves the response as it was): the body to a file (path) or any stream
// or object with write(); progress(done, total) after each piece. Returns the byte count. Any
// failure closes the connection at once and is kept for later reads.
static mp_obj_t response_save(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    fs_response_obj_t *r = MP_OBJ_TO_PTR(args[0]);
    mp_obj_t progress = args[2];
    mp_int_t piece = mp_obj_get_int(args[3]);
    if (piece <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("piece must be > 0"));
    }
    check(r);
    if (content_of(r) == MP_OBJ_NULL && (r->conn == NULL || r->conn->body_read > 0)) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("the body was already consumed"));
    }
    // f[0]: the target, or the file opened for a path (in memory: read again after a failure).
    mp_obj_t f[2] = { args[1], MP_OBJ_NEW_QSTR(MP_QSTR_wb) };
    bool opened = mp_obj_is_str(f[0]);
    if (opened) {
        f[0] = mp_call_function_n_kw(MP_OBJ_FROM_PTR(&mp_builtin_open_obj), 2, 0, f);
    }
    uint64_t written = 0;
    nlr_buf_t nlr;
    r->busy = true;
    if (nlr_push(&nlr) == 0) {
        written = save_body(r, f[0], progress, (size_t)piece);
        nlr_pop();
    } else {
        // The body is partly consumed and the exchange cannot go on: close the connection now
        // and keep the failure, so no later read returns a short body.
        r->busy = false;
        if (r->conn != NULL) {
            fs_conn_obj_t *c = r->conn;
            r->conn = NULL;
            fs_conn_close(c);
        }
        if (r->error == MP_OBJ_NULL && r->content == MP_OBJ_NULL) {
            r->error = MP_OBJ_FROM_PTR(nlr.ret_val);
        }
        if (opened) {
            mp_stream_close(f[0]);
        }
        nlr_jump(nlr.ret_val);
    }
    r->busy = false;
    if (opened) {
        mp_stream_close(f[0]);
    }
    return mp_obj_new_int_from_ull(written);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(response_save_obj, 4, 4, response_save);

// iter_content(chunk_size=1024, view=False): an iterator over the body in pieces of at most
// chunk_size bytes, as bytes; chunk_size=None: each piece is whatever has arrived (at least one
// byte, at most VIEW_BUF_MAX; no waiting for more once a byte is there). view=True yields one
// memoryview, re-pointed for each piece, that only ever points at GC-owned memory: the body's
// bytes object when it was already read, else a buffer the iterator owns, refilled with each
// piece (one copy, no allocation per piece).
// The GC keeps whatever a view points at alive, so Python never reaches receive buffers the
// connection frees or reuses; the bytes seen through it are the latest piece's.
typedef struct {
    mp_obj_base_t base;
    mp_fun_1_t iternext;
    fs_response_obj_t *r;
    size_t chunk;
    size_t offset;        // into content, when the body was already read
    mp_obj_array_t *view; // view=True: made on the first piece
    uint8_t *buf;         // view=True or chunk_size=None, body not yet read: its buffer, made once
    bool want_view;
    bool arrived; // chunk_size=None: each piece is what has arrived
} fs_iter_obj_t;

// The iterator's buffer for view=True is at most this big (a piece is one receive run anyway),
// and so is a chunk_size=None piece.
#define VIEW_BUF_MAX (16384)
// A memoryview keeps the offset into its GC block in a bitfield this wide (py/objarray.h).
#define VIEW_OFFSET_MAX (((size_t)1 << (8 * sizeof(size_t) - 8)) - 1)

// Point the iterator's memoryview at n bytes, off bytes into the GC block starting at head.
static mp_obj_t view_of(fs_iter_obj_t *it, void *head, size_t off, size_t n) {
    if (it->view == NULL) {
        it->view = m_new_obj(mp_obj_array_t);
        fs_stats.heap_allocs++;
    }
    // items is the block's head, so the GC sees the view's reference.
    mp_obj_memoryview_init(it->view, 'B', off, n, head);
    return MP_OBJ_FROM_PTR(it->view);
}

// After the n bytes already in buf, what else has arrived (no waiting), up to len in all. A
// failure is kept for the next read: the bytes before it are still handed out.
static size_t read_arrived(fs_response_obj_t *r, uint8_t *buf, size_t n, size_t len) {
    while (n < len && r->conn != NULL) {
        const uint8_t *p;
        int got = fs_body_peek(r->conn, &p, false);
        if (got == -MP_EAGAIN) {
            break;
        }
        if (got < 0) {
            fail(r, got);
            break;
        }
        if (got == 0) {
            settle(r);
            break;
        }
        size_t k = (size_t)got < len - n ? (size_t)got : len - n;
        memcpy(buf + n, p, k);
        fs_stats.bytes_copied += k;
        fs_body_consume(r->conn, k);
        settle(r);
        n += k;
    }
    return n;
}

static uint8_t *view_buf(fs_iter_obj_t *it) {
    if (it->buf == NULL) {
        it->chunk = it->chunk < VIEW_BUF_MAX ? it->chunk : VIEW_BUF_MAX;
        it->buf = m_new(uint8_t, it->chunk);
        fs_stats.heap_allocs++;
    }
    return it->buf;
}

static mp_obj_t iter_next(mp_obj_t self_in) {
    fs_iter_obj_t *it = MP_OBJ_TO_PTR(self_in);
    fs_response_obj_t *r = it->r;
    if (content_of(r) != MP_OBJ_NULL) {
        size_t len;
        const char *data = mp_obj_str_get_data(r->content, &len);
        size_t off = it->offset;
        if (off >= len) {
            return MP_OBJ_STOP_ITERATION;
        }
        size_t n = len - off < it->chunk ? len - off : it->chunk;
        it->offset += n;
        if (!it->want_view) {
            return mp_obj_new_bytes((const byte *)data + off, n);
        }
        if (off <= VIEW_OFFSET_MAX) {
            return view_of(it, (void *)data, off, n);
        }
        n = n < VIEW_BUF_MAX ? n : VIEW_BUF_MAX; // past the offset field's range: copy
        it->offset = off + n;
        memcpy(view_buf(it), data + off, n);
        return view_of(it, it->buf, 0, n);
    }
    check(r);
    if (r->conn == NULL) {
        return MP_OBJ_STOP_ITERATION;
    }
    if (it->want_view || it->arrived || r->decoder != MP_OBJ_NULL) {
        // (A decoded body is read through the iterator's buffer, as for a view.)
        size_t n = read_into(r, view_buf(it), it->chunk);
        if (n == 0) {
            return MP_OBJ_STOP_ITERATION;
        }
        if (it->arrived && r->decoder == MP_OBJ_NULL) {
            n = read_arrived(r, it->buf, n, it->chunk);
        }
        return it->want_view ? view_of(it, it->buf, 0, n) : mp_obj_new_bytes(it->buf, n);
    }
    fs_conn_obj_t *c = r->conn;
    const uint8_t *p;
    int got = body_wait(r, NULL, 0, &p);
    if (got < 0) {
        raise_failure(r, got);
    }
    if (got == 0) {
        settle(r);
        return MP_OBJ_STOP_ITERATION;
    }
    size_t n = (size_t)got < it->chunk ? (size_t)got : it->chunk;
    mp_obj_t piece = mp_obj_new_bytes(p, n);
    fs_body_consume(c, n);
    return piece;
}

MP_NOINLINE static mp_obj_t new_iter(mp_obj_t self_in, size_t chunk, bool view, bool arrived) {
    fs_iter_obj_t *it = mp_obj_malloc(fs_iter_obj_t, &mp_type_polymorph_iter);
    it->iternext = iter_next;
    it->r = MP_OBJ_TO_PTR(self_in);
    it->chunk = chunk;
    it->offset = 0;
    it->view = NULL;
    it->buf = NULL;
    it->want_view = view;
    it->arrived = arrived;
    return MP_OBJ_FROM_PTR(it);
}

static mp_obj_t response_iter_content(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_chunk_size, ARG_view };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_chunk_size, MP_ARG_OBJ, { .u_obj = MP_OBJ_NEW_SMALL_INT(1024) } },
        { MP_QSTR_view, MP_ARG_OBJ, { .u_obj = mp_const_false } },
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed), allowed, a);
    // Any positive int (True is 1, as in requests); sizes past what one piece can be are
    // clamped, never wrapped.
    mp_obj_t cs = a[ARG_chunk_size].u_obj;
    bool arrived = cs == mp_const_none;
    size_t chunk = arrived ? VIEW_BUF_MAX : fs_uint_arg(cs, MP_QSTR_chunk_size, 1, INT32_MAX, true);
    if (!mp_obj_is_bool(a[ARG_view].u_obj)) {
        mp_raise_TypeError(MP_ERROR_TEXT("view must be True or False"));
    }
    return new_iter(pos_args[0], chunk, a[ARG_view].u_obj == mp_const_true, arrived);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(response_iter_content_obj, 1, response_iter_content);

// for piece in r: iter_content(128), as requests' Response.__iter__.
static mp_obj_t response_getiter(mp_obj_t self_in, mp_obj_iter_buf_t *iter_buf) {
    (void)iter_buf;
    return new_iter(self_in, 128, false, false);
}

static mp_obj_t response_tls(mp_obj_t self_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    return r->tls;
}
static MP_DEFINE_CONST_FUN_OBJ_1(response_tls_obj, response_tls);

// Stream protocol: read returns MP_STREAM_ERROR with an errno (the failure is kept and the
// typed exception raised by the next content/readinto/save); poll reports readable only when
// a read will not wait.
static mp_uint_t response_stream_read(mp_obj_t self_in, void *buf, mp_uint_t size, int *errcode) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    if (r->busy) {
        *errcode = MP_EBUSY;
        return MP_STREAM_ERROR;
    }
    if (r->error != MP_OBJ_NULL) {
        mp_obj_t e = mp_obj_exception_get_value(r->error);
        *errcode = mp_obj_is_small_int(e) ? MP_OBJ_SMALL_INT_VALUE(e) : MP_EIO;
        return MP_STREAM_ERROR;
    }
    if (r->eager) {
        return stored_read(r, buf, size);
    }
    if (r->conn == NULL || size == 0) {
        return 0;
    }
    int n = body_wait(r, buf, size, NULL);
    if (n < 0) {
        fail(r, n);
        *errcode = n == -MP_EINTR ? MP_EINTR : n > -1000 ? -n : MP_EIO;
        return MP_STREAM_ERROR;
    }
    settle(r);
    return (mp_uint_t)n;
}

static mp_uint_t response_stream_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg,
                                       int *errcode) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    switch (request) {
        case MP_STREAM_CLOSE:
            if (r->busy) {
                *errcode = MP_EBUSY;
                return MP_STREAM_ERROR;
            }
            release(r);
            r->closed = true;
            return 0;
        case MP_STREAM_POLL: {
            if (r->closed) {
                return MP_STREAM_POLL_NVAL;
            }
            mp_uint_t ret = arg & MP_STREAM_POLL_WR;
            if (arg & MP_STREAM_POLL_RD) {
                const uint8_t *p;
                int n = r->conn == NULL || r->busy ? 0 : fs_body_peek(r->conn, &p, false);
                if (n < 0 && n != -MP_EAGAIN) {
                    fail(r, n);
                }
                if (n != -MP_EAGAIN) {
                    ret |= MP_STREAM_POLL_RD;
                }
            }
            return ret;
        }
        default:
            *errcode = MP_EINVAL;
            return MP_STREAM_ERROR;
    }
}

static const mp_stream_p_t response_stream_p = {
    .read = response_stream_read,
    .ioctl = response_stream_ioctl,
};

// Attributes computed by a function of fastsock._more from the response.
static const uint16_t py_attrs[][2] = {
    { MP_QSTR_is_redirect, MP_QSTR__is_redirect },
    { MP_QSTR_is_permanent_redirect, MP_QSTR__is_permanent_redirect },
    { MP_QSTR_links, MP_QSTR__links },
    { MP_QSTR_cookies, MP_QSTR__response_cookies },
    { MP_QSTR_text, MP_QSTR__text },
};

// .encoding: set by the program, else from Content-Type as requests' get_encoding_from_headers.
static mp_obj_t response_encoding(fs_response_obj_t *r) {
    if (r->encoding == MP_OBJ_NULL) {
        r->encoding = mp_call_function_1(py_helper(MP_QSTR__encoding), MP_OBJ_FROM_PTR(r));
    }
    return r->encoding;
}

// _latin1_text(): the body as ISO-8859-1 text, for .text (fastsock._more._text): each byte is
// the code point of its value, converted here in one pass with no copy but the result.
static mp_obj_t response_latin1_text(mp_obj_t self_in) {
    mp_obj_t body = response_content(MP_OBJ_TO_PTR(self_in));
    size_t n;
    const uint8_t *p = (const uint8_t *)mp_obj_str_get_data(body, &n);
    size_t high = 0;
    for (size_t i = 0; i < n; i++) {
        high += p[i] >> 7;
    }
    vstr_t v;
    vstr_init(&v, n + high + 1); // sized for the result: vstr_add_char writes each as UTF-8
    for (size_t i = 0; i < n; i++) {
        vstr_add_char(&v, p[i]);
    }
    return mp_obj_new_str_from_utf8_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_1(response_latin1_text_obj, response_latin1_text);

static void response_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    if (dest[0] == MP_OBJ_SENTINEL) {
        // Store: only the fields a program may set.
        if (attr == MP_QSTR_encoding) {
            r->encoding = dest[1];
        } else if (attr == MP_QSTR_history) {
            r->history = dest[1];
        } else {
            return;
        }
        dest[0] = MP_OBJ_NULL;
        return;
    }
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    switch (attr) {
        case MP_QSTR_status_code:
            dest[0] = MP_OBJ_NEW_SMALL_INT(r->status);
            return;
        case MP_QSTR_ok:
            dest[0] = mp_obj_new_bool(r->status < 400);
            return;
        case MP_QSTR_reason:
            dest[0] = fs_headers_reason_of(r->packed);
            return;
        case MP_QSTR_url:
            dest[0] = r->url;
            return;
        case MP_QSTR_headers:
        case MP_QSTR__fields:
            if (r->headers == MP_OBJ_NULL) {
                r->headers = fs_headers_new(r->packed);
            }
            // A program gets every field as a dict (dict(), json.dumps); fastsock's own checks
            // (cookies, redirects) read single fields through _fields, straight from the packed
            // block, so a request allocates no string per field.
            if (attr == MP_QSTR_headers) {
                fs_headers_fill(r->headers);
            }
            dest[0] = r->headers;
            return;
        case MP_QSTR_content:
            dest[0] = response_content(r);
            return;
        case MP_QSTR_raw:
            // The response is the body's stream: the connection stays its own.
            dest[0] = self_in;
            return;
        case MP_QSTR_history:
            dest[0] = r->history != MP_OBJ_NULL ? r->history : mp_const_empty_tuple;
            return;
        case MP_QSTR_encoding:
            dest[0] = response_encoding(r);
            return;
        case MP_QSTR_elapsed:
            // Seconds as a float (MicroPython has no timedelta).
            dest[0] = mp_obj_new_float((mp_float_t)r->elapsed_ms / 1000);
            return;
        case MP_QSTR_iter_lines:
        case MP_QSTR_read:
        case MP_QSTR_save:
            // Methods written in Python: fastsock._more's function of the same name with a "_"
            // before it, bound to this response.
            dest[0] = py_helper(attr == MP_QSTR_read   ? MP_QSTR__read
                                : attr == MP_QSTR_save ? MP_QSTR__save
                                                       : MP_QSTR__iter_lines);
            dest[1] = self_in;
            return;
        default:
            for (size_t i = 0; i < MP_ARRAY_SIZE(py_attrs); i++) {
                if (attr == py_attrs[i][0]) {
                    dest[0] = mp_call_function_1(py_helper(py_attrs[i][1]), self_in);
                    return;
                }
            }
            // Methods: continue in locals_dict.
            dest[1] = MP_OBJ_SENTINEL;
    }
}

static void response_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "<Response [%d]>", (int)r->status);
}

static const mp_rom_map_elem_t response_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&response_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_json), MP_ROM_PTR(&response_json_obj) },
    { MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&response_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_iter_content), MP_ROM_PTR(&response_iter_content_obj) },
    { MP_ROM_QSTR(MP_QSTR__save), MP_ROM_PTR(&response_save_obj) },
    { MP_ROM_QSTR(MP_QSTR__rawread), MP_ROM_PTR(&mp_stream_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_raise_for_status), MP_ROM_PTR(&response_raise_for_status_obj) },
    { MP_ROM_QSTR(MP_QSTR_tls), MP_ROM_PTR(&response_tls_obj) },
    { MP_ROM_QSTR(MP_QSTR__read_body), MP_ROM_PTR(&response_read_body_obj) },
    { MP_ROM_QSTR(MP_QSTR__latin1_text), MP_ROM_PTR(&response_latin1_text_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&response_exit_obj) },
};
static MP_DEFINE_CONST_DICT(response_locals_dict, response_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(fs_response_type, MP_QSTR_Response, MP_TYPE_FLAG_ITER_IS_GETITER, print,
                         response_print, attr, response_attr, iter, response_getiter, protocol,
                         &response_stream_p, locals_dict, &response_locals_dict);

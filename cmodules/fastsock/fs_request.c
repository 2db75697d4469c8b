// SPDX-License-Identifier: MIT
// Request heads: written from a few Python strings straight into a stack buffer and sent when
// it fills, with the default fields a caller's own fields replace.
#include <stdio.h>
#include <string.h>

#include "py/runtime.h"

#include "fs_request.h"
#include "fs_response.h"

void fs_request_send(fs_conn_obj_t *c, const uint8_t *buf, size_t len) {
    int r = c->io.ops->write(c->io.ctx, buf, len, fs_conn_deadline(c, c->read_ms));
    if (r < 0) {
        fs_conn_raise(c, fs_conn_code(c, r), "send");
    }
}

// Pieces are gathered here and sent when it fills.
typedef struct {
    fs_conn_obj_t *conn;
    size_t len;
    char buf[512];
} head_writer_t;

static void hw_flush(head_writer_t *w) {
    if (w->len) {
        fs_request_send(w->conn, (const uint8_t *)w->buf, w->len);
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

static void hw_header(head_writer_t *w, const char *name, size_t nlen, const char *value,
                      size_t vlen) {
    hw_add(w, name, nlen);
    hw_add(w, ": ", 2);
    hw_add(w, value, vlen);
    hw_add(w, "\r\n", 2);
}

// A request-line piece or header value: CR, LF, NUL or another control character (HTAB
// aside) would split the request or be read differently by servers (injection).
static const char *head_piece(mp_obj_t o, size_t *len, const char *what) {
    const char *s = mp_obj_str_get_data(o, len);
    for (size_t i = 0; i < *len; i++) {
        uint8_t b = (uint8_t)s[i];
        if ((b < 0x20 && b != '\t') || b == 0x7f) {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("control character in %s"), what);
        }
    }
    return s;
}

// A method or header name: an RFC 9110 token (5.6.2), so it can neither end early nor carry a
// second field; "Transfer-Encoding " (a space) would not replace the computed framing.
static const char *token(mp_obj_t o, size_t *len, const char *what) {
    const char *s = mp_obj_str_get_data(o, len);
    for (size_t i = 0; i < *len; i++) {
        uint8_t ch = (uint8_t)s[i];
        if (!unichar_isalnum(ch) && (ch == 0 || ch > 0x7e || !strchr("!#$%&'*+-.^_`|~", ch))) {
            *len = 0;
            break;
        }
    }
    if (*len == 0) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s is not an HTTP token"), what);
    }
    return s;
}

// Compressed bodies only where the firmware can inflate them (MicroPython's deflate module;
// the Response decodes them while they are read).
#if MICROPY_PY_DEFLATE
#define ACCEPT_ENCODING "gzip, deflate"
#else
#define ACCEPT_ENCODING "identity"
#endif

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

void fs_request_write(fs_conn_obj_t *c, mp_obj_t method_in, mp_obj_t target_in, mp_obj_t host_in,
                      mp_obj_t headers, mp_obj_t body_len, bool keep_alive) {
    size_t mlen, tlen, hlen;
    const char *method = token(method_in, &mlen, "method");
    const char *target = head_piece(target_in, &tlen, "URL");
    const char *host = head_piece(host_in, &hlen, "host");
    // Default values; the framing one only when there is a body.
    char num[24];
    // (str objects end in NUL, so each value is a C string.)
    const char *values[N_DEFAULTS] = { host, FS_USER_AGENT, ACCEPT_ENCODING,
                                       keep_alive ? "keep-alive" : "close", NULL };
    const char *framing = default_names[N_DEFAULTS - 1];
    mp_uint_t blen = 0;
    if (body_len == MP_OBJ_NEW_SMALL_INT(-1)) {
        framing = "Transfer-Encoding";
        values[N_DEFAULTS - 1] = "chunked";
    } else if (body_len != mp_const_none) {
        blen = fs_uint_arg(body_len, MP_QSTR_body_len, 0, (mp_uint_t)-1, false);
        fs_u64_dec(num, (uint64_t)blen);
        values[N_DEFAULTS - 1] = num;
    }
    // Which defaults the caller replaces, checked (with line breaks) before anything is sent.
    int given = 0;
    size_t nh = 0;
    mp_obj_t *items = NULL;
    if (headers != mp_const_none) {
        mp_obj_t list = mp_obj_is_type(headers, &mp_type_list) ? headers : mp_obj_new_list(0, NULL);
        if (list != headers) {
            mp_obj_t iter = mp_getiter(headers, NULL), item;
            while ((item = mp_iternext(iter)) != MP_OBJ_STOP_ITERATION) {
                mp_obj_list_append(list, item);
            }
        }
        mp_obj_list_get(list, &nh, &items);
        for (size_t i = 0; i < nh; i++) {
            mp_obj_t *kv;
            mp_obj_get_array_fixed_n(items[i], 2, &kv);
            size_t n, vn;
            const char *name = token(kv[0], &n, "header name");
            head_piece(kv[1], &vn, "header value");
            given |= default_bit(name, n);
        }
    }
    // The connection now has an exchange in flight.
    fs_stats.requests++;
    if (c->requests++ > 0) {
        fs_stats.reused++;
    }
    c->state = FS_CONN_REQUEST;
    c->rx_started = 0;
    // The announced length is a promise send() keeps: more would be read as another request.
    c->send_known = values[N_DEFAULTS - 1] == num && !(given & (1 << (N_DEFAULTS - 1)));
    c->send_left = c->send_known ? (uint64_t)blen : 0;
    head_writer_t w;
    w.conn = c;
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
}

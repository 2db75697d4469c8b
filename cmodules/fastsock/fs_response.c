// _fastsock.Response: status, lazily decoded headers and the body, read from the connection
// on demand (content, text, json(), readinto(), iter_content(), save(), raw). When the body
// is complete the connection goes back to its session's idle pool, or is closed.
#include <string.h>

#include "py/builtin.h"
#include "py/objstr.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "fs_conn.h"
#include "fs_headers.h"
#include "fs_response.h"

// Bytes of an unread body worth reading on close() to keep the connection for the next request.
#define DRAIN_LIMIT (16384)

// Fields of the session's cached URL tuple (see fastsock.py Session._target).
enum { T_KEY = 0, T_URL = 5, T_SESSION = 6, T_LEN = 7 };

typedef struct {
    mp_obj_base_t base;
    mp_obj_t conn;     // the Connection until the body is done, then None
    mp_obj_t packed;   // reason and headers
    mp_obj_t target;   // session URL tuple or None
    mp_obj_t content;  // the body once read, else MP_OBJ_NULL
    mp_obj_t headers;  // Headers view once asked for, else MP_OBJ_NULL
    mp_obj_t history;  // redirects followed (list), else MP_OBJ_NULL
    mp_obj_t encoding; // for .text
    mp_int_t status;
} fs_response_obj_t;

typedef struct {
    mp_obj_base_t base;
    mp_obj_t packed;
    mp_obj_t dict; // all fields, made on first iteration
} fs_headers_obj_t;

mp_obj_t fs_response_new(mp_obj_t conn, int status, mp_obj_t packed, mp_obj_t target) {
    fs_response_obj_t *r = mp_obj_malloc(fs_response_obj_t, &fs_response_type);
    fs_stats.heap_allocs++;
    r->conn = conn;
    r->packed = packed;
    r->target = target;
    r->content = MP_OBJ_NULL;
    r->headers = MP_OBJ_NULL;
    r->history = MP_OBJ_NULL;
    r->encoding = MP_OBJ_NEW_QSTR(MP_QSTR_utf_hyphen_8);
    r->status = status;
    return MP_OBJ_FROM_PTR(r);
}

static mp_obj_t target_item(fs_response_obj_t *r, size_t i) {
    size_t n;
    mp_obj_t *items;
    mp_obj_tuple_get(r->target, &n, &items);
    if (n < T_LEN) {
        mp_raise_ValueError(MP_ERROR_TEXT("bad session target"));
    }
    return items[i];
}

// Body done with: hand the connection to the session's idle pool (one per host:port,
// at most pool_size hosts) or close it.
static void response_release(fs_response_obj_t *r) {
    mp_obj_t conn = r->conn;
    if (conn == mp_const_none) {
        return;
    }
    r->conn = mp_const_none;
    if (r->target != mp_const_none && mp_obj_is_true(fs_conn_reusable(conn))) {
        mp_obj_t session = target_item(r, T_SESSION);
        mp_obj_t key = target_item(r, T_KEY);
        mp_int_t pool_size = mp_obj_get_int(mp_load_attr(session, MP_QSTR_pool_size));
        if (pool_size > 0) {
            mp_obj_t idle = mp_load_attr(session, MP_QSTR__idle);
            mp_map_t *map = mp_obj_dict_get_map(idle);
            if ((mp_int_t)map->used < pool_size && mp_map_lookup(map, key, MP_MAP_LOOKUP) == NULL) {
                mp_obj_dict_store(idle, key, conn);
            } else {
                // Replacing or evicting: the session's own policy.
                mp_obj_t dest[4];
                mp_load_method(session, MP_QSTR__put, dest);
                dest[2] = key;
                dest[3] = conn;
                mp_call_method_n_kw(2, 0, dest);
            }
            return;
        }
    }
    mp_stream_close(conn);
}

static mp_obj_t response_content(fs_response_obj_t *r) {
    if (r->content == MP_OBJ_NULL) {
        if (r->conn == mp_const_none) {
            mp_raise_msg(&mp_type_RuntimeError,
                         MP_ERROR_TEXT("the body was already consumed as a stream"));
        }
        r->content = fs_conn_readall(r->conn);
        response_release(r);
    }
    return r->content;
}

// Mark a body-less response (HEAD, 204, 304, Content-Length: 0) as read and free its connection.
static mp_obj_t response_finish_empty(mp_obj_t self_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    r->content = mp_const_empty_bytes;
    response_release(r);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(response_finish_empty_obj, response_finish_empty);

static mp_obj_t response_close(mp_obj_t self_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    if (r->conn == mp_const_none) {
        return mp_const_none;
    }
    if (r->content == MP_OBJ_NULL && r->target != mp_const_none) {
        // A small unread rest is read so the connection can be kept.
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            fs_conn_drain(r->conn, MP_OBJ_NEW_SMALL_INT(DRAIN_LIMIT));
            nlr_pop();
        }
    }
    response_release(r);
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

// raise_for_status(): fastsock.HTTPError for 4xx and 5xx (the message is made in Python: a
// cold path, cheaper in frozen bytecode than in flash-resident C).
static mp_obj_t response_raise_for_status(mp_obj_t self_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    if (r->status >= 400) {
        mp_obj_t mod = mp_import_name(MP_QSTR_fastsock, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        mp_call_function_1(mp_load_attr(mod, MP_QSTR__raise_http_error), self_in);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(response_raise_for_status_obj, response_raise_for_status);

// readinto(buf): body bytes into buf (one copy, no allocation); 0 at the end.
static mp_obj_t response_readinto(mp_obj_t self_in, mp_obj_t buf_in) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(self_in);
    if (r->conn == mp_const_none) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    mp_buffer_info_t buf;
    mp_get_buffer_raise(buf_in, &buf, MP_BUFFER_WRITE);
    int err;
    mp_uint_t n = mp_get_stream(r->conn)->read(r->conn, buf.buf, buf.len, &err);
    if (n == MP_STREAM_ERROR) {
        mp_raise_OSError(err);
    }
    if (n == 0 && buf.len > 0) {
        response_release(r);
    }
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_2(response_readinto_obj, response_readinto);

// save(path_or_stream, progress=None, piece=4096): body to a file straight from the receive
// buffers; progress(done, total) after each piece. Returns the byte count.
static mp_obj_t response_save(size_t n_args, const mp_obj_t *args) {
    fs_response_obj_t *r = MP_OBJ_TO_PTR(args[0]);
    mp_obj_t progress = n_args > 2 ? args[2] : mp_const_none;
    mp_obj_t piece = n_args > 3 ? args[3] : MP_OBJ_NEW_SMALL_INT(4096);
    if (r->content == MP_OBJ_NULL && r->conn == mp_const_none) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("the body was already consumed"));
    }
    bool opened = mp_obj_is_str(args[1]);
    mp_obj_t f = args[1];
    if (opened) {
        mp_obj_t oargs[2] = { args[1], MP_OBJ_NEW_QSTR(MP_QSTR_wb) };
        f = mp_call_function_n_kw(MP_OBJ_FROM_PTR(&mp_builtin_open_obj), 2, 0, oargs);
    }
    mp_obj_t written;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (r->content != MP_OBJ_NULL) {
            mp_buffer_info_t b;
            mp_get_buffer_raise(r->content, &b, MP_BUFFER_READ);
            mp_stream_write(f, b.buf, b.len, MP_STREAM_RW_WRITE);
            written = mp_obj_new_int_from_uint(b.len);
            if (progress != mp_const_none) {
                mp_call_function_2(progress, written, written);
            }
        } else {
            mp_obj_t sargs[4] = { r->conn, f, progress, piece };
            written = fs_conn_save(4, sargs);
            response_release(r);
        }
        nlr_pop();
    } else {
        if (opened) {
            mp_stream_close(f);
        }
        nlr_jump(nlr.ret_val);
    }
    if (opened) {
        mp_stream_close(f);
    }
    return written;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(response_save_obj, 2, 4, response_save);

// iter_content(chunk_size=1024, view=False): an iterator over the body in pieces of at most
// chunk_size bytes; view=True yields one memoryview re-pointed at the receive buffer each time
// (no copy, no allocation; valid until the next piece), else bytes.
typedef struct {
    mp_obj_base_t base;
    mp_fun_1_t iternext;
    fs_response_obj_t *r;
    mp_obj_t chunk;
    size_t offset; // into content, when the body was already read
    bool view;
} fs_iter_obj_t;

static mp_obj_t iter_next(mp_obj_t self_in) {
    fs_iter_obj_t *it = MP_OBJ_TO_PTR(self_in);
    fs_response_obj_t *r = it->r;
    if (r->content != MP_OBJ_NULL) {
        size_t len;
        const char *data = mp_obj_str_get_data(r->content, &len);
        size_t n = MP_OBJ_SMALL_INT_VALUE(it->chunk);
        if (it->offset >= len) {
            return MP_OBJ_STOP_ITERATION;
        }
        if (n > len - it->offset) {
            n = len - it->offset;
        }
        it->offset += n;
        return mp_obj_new_bytes((const byte *)data + it->offset - n, n);
    }
    if (r->conn == mp_const_none) {
        return MP_OBJ_STOP_ITERATION;
    }
    mp_obj_t piece = fs_conn_next_run(r->conn, it->chunk);
    if (piece == mp_const_none) {
        response_release(r);
        return MP_OBJ_STOP_ITERATION;
    }
    if (it->view) {
        return piece;
    }
    mp_buffer_info_t b;
    mp_get_buffer_raise(piece, &b, MP_BUFFER_READ);
    return mp_obj_new_bytes(b.buf, b.len);
}

static mp_obj_t response_iter_content(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_chunk_size, ARG_view };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_chunk_size, MP_ARG_INT, { .u_int = 1024 } },
        { MP_QSTR_view, MP_ARG_BOOL, { .u_bool = false } },
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed), allowed, a);
    if (a[ARG_chunk_size].u_int <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("chunk_size must be > 0"));
    }
    fs_iter_obj_t *it = mp_obj_malloc(fs_iter_obj_t, &mp_type_polymorph_iter);
    it->iternext = iter_next;
    it->r = MP_OBJ_TO_PTR(pos_args[0]);
    it->chunk = MP_OBJ_NEW_SMALL_INT(a[ARG_chunk_size].u_int);
    it->offset = 0;
    it->view = a[ARG_view].u_bool;
    return MP_OBJ_FROM_PTR(it);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(response_iter_content_obj, 1, response_iter_content);

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
            dest[0] = r->target != mp_const_none ? target_item(r, T_URL) : mp_const_none;
            return;
        case MP_QSTR_headers:
            if (r->headers == MP_OBJ_NULL) {
                fs_headers_obj_t *h = mp_obj_malloc(fs_headers_obj_t, &fs_headers_type);
                h->packed = r->packed;
                h->dict = MP_OBJ_NULL;
                r->headers = MP_OBJ_FROM_PTR(h);
            }
            dest[0] = r->headers;
            return;
        case MP_QSTR_content:
            dest[0] = response_content(r);
            return;
        case MP_QSTR_text:
            dest[0] = mp_obj_str_make_new(&mp_type_str, 2, 0,
                                          (mp_obj_t[]){ response_content(r), r->encoding });
            return;
        case MP_QSTR_raw:
            dest[0] = r->conn;
            return;
        case MP_QSTR_history:
            dest[0] = r->history != MP_OBJ_NULL ? r->history : mp_const_empty_tuple;
            return;
        case MP_QSTR_encoding:
            dest[0] = r->encoding;
            return;
        default:
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
    { MP_ROM_QSTR(MP_QSTR_save), MP_ROM_PTR(&response_save_obj) },
    { MP_ROM_QSTR(MP_QSTR_raise_for_status), MP_ROM_PTR(&response_raise_for_status_obj) },
    { MP_ROM_QSTR(MP_QSTR__finish_empty), MP_ROM_PTR(&response_finish_empty_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&response_exit_obj) },
};
static MP_DEFINE_CONST_DICT(response_locals_dict, response_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(fs_response_type, MP_QSTR_Response, MP_TYPE_FLAG_NONE, print,
                         response_print, attr, response_attr, locals_dict, &response_locals_dict);

// Headers: case-insensitive lookups straight in the packed block; iteration through a dict
// of all fields made once.
static mp_obj_t headers_all(fs_headers_obj_t *h) {
    if (h->dict == MP_OBJ_NULL) {
        h->dict = fs_headers_dict_of(h->packed);
    }
    return h->dict;
}

static mp_obj_t headers_subscr(mp_obj_t self_in, mp_obj_t index, mp_obj_t value) {
    fs_headers_obj_t *h = MP_OBJ_TO_PTR(self_in);
    if (value != MP_OBJ_SENTINEL) {
        mp_raise_TypeError(MP_ERROR_TEXT("response headers are read-only"));
    }
    mp_obj_t v = fs_headers_lookup(h->packed, index, MP_OBJ_NULL);
    if (v == MP_OBJ_NULL) {
        mp_raise_type_arg(&mp_type_KeyError, index);
    }
    return v;
}

static mp_obj_t headers_binary_op(mp_binary_op_t op, mp_obj_t lhs, mp_obj_t rhs) {
    fs_headers_obj_t *h = MP_OBJ_TO_PTR(lhs);
    if (op == MP_BINARY_OP_CONTAINS) {
        return mp_obj_new_bool(fs_headers_lookup(h->packed, rhs, MP_OBJ_NULL) != MP_OBJ_NULL);
    }
    return MP_OBJ_NULL;
}

static mp_obj_t headers_unary_op(mp_unary_op_t op, mp_obj_t self_in) {
    fs_headers_obj_t *h = MP_OBJ_TO_PTR(self_in);
    if (op == MP_UNARY_OP_LEN) {
        return mp_obj_len(headers_all(h));
    }
    if (op == MP_UNARY_OP_BOOL) {
        return mp_obj_new_bool(mp_obj_get_int(mp_obj_len(headers_all(h))) > 0);
    }
    return MP_OBJ_NULL;
}

static mp_obj_t headers_getiter(mp_obj_t self_in, mp_obj_iter_buf_t *iter_buf) {
    return mp_getiter(headers_all(MP_OBJ_TO_PTR(self_in)), iter_buf);
}

static mp_obj_t headers_get(size_t n_args, const mp_obj_t *args) {
    fs_headers_obj_t *h = MP_OBJ_TO_PTR(args[0]);
    return fs_headers_lookup(h->packed, args[1], n_args > 2 ? args[2] : mp_const_none);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(headers_get_obj, 2, 3, headers_get);

// keys(), values(), items(): the dict's own views.
static mp_obj_t headers_dict_method(mp_obj_t self_in, qstr name) {
    mp_obj_t dest[2];
    mp_load_method(headers_all(MP_OBJ_TO_PTR(self_in)), name, dest);
    return mp_call_method_n_kw(0, 0, dest);
}

static mp_obj_t headers_keys(mp_obj_t self_in) {
    return headers_dict_method(self_in, MP_QSTR_keys);
}
static MP_DEFINE_CONST_FUN_OBJ_1(headers_keys_obj, headers_keys);

static mp_obj_t headers_values(mp_obj_t self_in) {
    return headers_dict_method(self_in, MP_QSTR_values);
}
static MP_DEFINE_CONST_FUN_OBJ_1(headers_values_obj, headers_values);

static mp_obj_t headers_items(mp_obj_t self_in) {
    return headers_dict_method(self_in, MP_QSTR_items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(headers_items_obj, headers_items);

static void headers_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    mp_obj_print_helper(print, headers_all(MP_OBJ_TO_PTR(self_in)), kind);
}

static const mp_rom_map_elem_t headers_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_get), MP_ROM_PTR(&headers_get_obj) },
    { MP_ROM_QSTR(MP_QSTR_keys), MP_ROM_PTR(&headers_keys_obj) },
    { MP_ROM_QSTR(MP_QSTR_values), MP_ROM_PTR(&headers_values_obj) },
    { MP_ROM_QSTR(MP_QSTR_items), MP_ROM_PTR(&headers_items_obj) },
};
static MP_DEFINE_CONST_DICT(headers_locals_dict, headers_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(fs_headers_type, MP_QSTR_Headers, MP_TYPE_FLAG_ITER_IS_GETITER, print,
                         headers_print, unary_op, headers_unary_op, binary_op, headers_binary_op,
                         subscr, headers_subscr, iter, headers_getiter, locals_dict,
                         &headers_locals_dict);

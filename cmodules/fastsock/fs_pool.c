// SPDX-License-Identifier: MIT
// _fastsock.Pool(size): up to `size` idle connections, matched on (key, TLS config). Before one
// is handed out it is checked the way urllib3 and curl do: an idle connection that is readable
// has been closed by the server or carries stray bytes (a 408 sent before closing, a response
// to nothing), so it is closed instead of reused.
#include <string.h>

#include "py/runtime.h"

#include "fs_pool.h"
#include "fs_response.h"

// Most idle connections one pool keeps (each holds a socket, and on the device a netconn).
#define POOL_MAX (16)

typedef struct {
    mp_obj_base_t base;
    size_t size; // idle connections kept at most
    size_t used; // idle[0..used), oldest first
    fs_conn_obj_t *idle[POOL_MAX];
} fs_pool_obj_t;

static void pool_drop(fs_pool_obj_t *p, size_t i) {
    fs_conn_obj_t *c = p->idle[i];
    memmove(&p->idle[i], &p->idle[i + 1], (p->used - i - 1) * sizeof(p->idle[0]));
    p->idle[--p->used] = NULL;
    c->owner = FS_OWNER_CALLER;
}

void fs_pool_put(mp_obj_t pool_in, fs_conn_obj_t *c) {
    fs_pool_obj_t *p = MP_OBJ_TO_PTR(pool_in);
    if (p->size == 0) {
        fs_conn_close(c);
        return;
    }
    if (p->used == p->size) {
        fs_conn_obj_t *old = p->idle[0];
        pool_drop(p, 0);
        fs_conn_close(old);
    }
    c->owner = FS_OWNER_POOL;
    p->idle[p->used++] = c;
}

// Pool(size): size idle connections at most (0: every connection is closed after use).
static mp_obj_t pool_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
                              const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, false);
    size_t size = fs_uint_arg(args[0], MP_QSTR_size, 0, POOL_MAX, false);
    fs_pool_obj_t *p = mp_obj_malloc(fs_pool_obj_t, type);
    fs_stats.heap_allocs++;
    memset(p->idle, 0, sizeof(p->idle));
    p->size = size;
    p->used = 0;
    return MP_OBJ_FROM_PTR(p);
}

// connect(key, host, port, tls, connect_ms, deadline): a connection for the caller: the
// newest live idle one for key, else a new one (raises if it cannot connect). For https the key
// carries what the connection was verified with (the Python face: the TLSConfig's digest), never
// an object's identity.
static mp_obj_t pool_connect(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    fs_pool_obj_t *p = MP_OBJ_TO_PTR(args[0]);
    mp_obj_t key = args[1];
    mp_obj_t tls = args[4];
    // Every argument checked before an idle connection is taken or a new one made.
    if (!mp_obj_is_str(args[2])) {
        mp_raise_TypeError(MP_ERROR_TEXT("host must be a str"));
    }
    mp_int_t port = fs_uint_arg(args[3], MP_QSTR_port, 1, 65535, false);
    uint32_t connect_ms = fs_timeout_ms(args[5]);
    fs_deadline_t total = FS_FOREVER;
    if (args[6] != mp_const_none) {
        total = fs_uint_arg(args[6], MP_QSTR_deadline, 0, 0xffffffff, false);
    }
    for (size_t i = p->used; i-- > 0;) {
        fs_conn_obj_t *c = p->idle[i];
        if (!mp_obj_equal(c->key, key)) {
            continue;
        }
        pool_drop(p, i);
        if (c->state == FS_CONN_IDLE && !c->io.ops->readable(c->io.ctx)) {
            return MP_OBJ_FROM_PTR(c);
        }
        // Closed by the server, or stray bytes: a request sent on it would get them.
        fs_stats.discarded++;
        fs_conn_close(c);
    }
    fs_conn_obj_t *c = fs_conn_open(args[2], port, tls, connect_ms, total);
    if (p->size > 0) {
        c->pool = args[0];
        c->key = key;
    }
    return MP_OBJ_FROM_PTR(c);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pool_connect_obj, 7, 7, pool_connect);

// close(): close every idle connection. (No finaliser: each connection has its own.)
static mp_obj_t pool_close(mp_obj_t self_in) {
    fs_pool_obj_t *p = MP_OBJ_TO_PTR(self_in);
    while (p->used > 0) {
        fs_conn_obj_t *c = p->idle[p->used - 1];
        pool_drop(p, p->used - 1);
        fs_conn_close(c);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(pool_close_obj, pool_close);

// idle(): how many connections wait in the pool.
static mp_obj_t pool_idle(mp_obj_t self_in) {
    fs_pool_obj_t *p = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_NEW_SMALL_INT(p->used);
}
static MP_DEFINE_CONST_FUN_OBJ_1(pool_idle_obj, pool_idle);

static const mp_rom_map_elem_t pool_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_connect), MP_ROM_PTR(&pool_connect_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&pool_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_idle), MP_ROM_PTR(&pool_idle_obj) },
};
static MP_DEFINE_CONST_DICT(pool_locals_dict, pool_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(fs_pool_type, MP_QSTR_Pool, MP_TYPE_FLAG_NONE, make_new, pool_make_new,
                         locals_dict, &pool_locals_dict);

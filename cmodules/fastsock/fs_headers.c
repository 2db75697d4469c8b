// SPDX-License-Identifier: MIT
// Packed response headers and their lookups (see fs_headers.h).
#include <string.h>

#include "py/objstr.h"
#include "py/runtime.h"
#include "py/unicode.h"

#include "fs_conn.h"
#include "fs_headers.h"

static inline uint8_t ascii_lower(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

mp_obj_t fs_headers_pack(const char *reason, size_t reason_len, const fs_hdr_t *hdrs, size_t n) {
    size_t total = 2 + reason_len;
    for (size_t i = 0; i < n; i++) {
        total += 4u + hdrs[i].name_len + hdrs[i].value_len;
    }
    vstr_t v;
    vstr_init_len(&v, total);
    fs_stats.heap_allocs++;
    uint8_t *p = (uint8_t *)v.buf;
    p[0] = (uint8_t)reason_len;
    p[1] = (uint8_t)(reason_len >> 8);
    memcpy(p + 2, reason, reason_len);
    p += 2 + reason_len;
    for (size_t i = 0; i < n; i++) {
        const fs_hdr_t *h = &hdrs[i];
        p[0] = (uint8_t)h->name_len;
        p[1] = (uint8_t)(h->name_len >> 8);
        p[2] = (uint8_t)h->value_len;
        p[3] = (uint8_t)(h->value_len >> 8);
        p += 4;
        for (size_t k = 0; k < h->name_len; k++) {
            p[k] = ascii_lower((uint8_t)h->name[k]);
        }
        p += h->name_len;
        memcpy(p, h->value, h->value_len);
        p += h->value_len;
    }
    return fs_new_bytes(&v);
}

mp_obj_t fs_headers_str(const char *data, size_t len) {
    if (utf8_check((const byte *)data, len)) {
        // Not via mp_obj_new_str: its interned-string search costs more than the copy.
        return mp_obj_new_str_copy(&mp_type_str, (const byte *)data, len);
    }
    vstr_t v;
    vstr_init_len(&v, len);
    for (size_t i = 0; i < len; i++) {
        v.buf[i] = (uint8_t)data[i] >= 0x80 ? '?' : data[i];
    }
    return mp_obj_new_str_from_vstr(&v);
}

// Walk the packed fields: calls back with each (name, value); stops when cb returns false.
typedef bool (*field_cb_t)(void *ctx, const uint8_t *name, size_t nlen, const uint8_t *val,
                           size_t vlen);

// The packed block's reason phrase; *end is set to the end of the block.
static const uint8_t *packed_reason(mp_obj_t packed, size_t *rlen, const uint8_t **end) {
    size_t len;
    const uint8_t *p = (const uint8_t *)mp_obj_str_get_data(packed, &len);
    *end = p + len;
    *rlen = len >= 2 ? (size_t)(p[0] | (p[1] << 8)) : 0;
    if (len < 2 || len - 2 < *rlen) {
        mp_raise_ValueError(MP_ERROR_TEXT("corrupt header block"));
    }
    return p + 2;
}

mp_obj_t fs_headers_reason_of(mp_obj_t packed) {
    size_t rlen;
    const uint8_t *end;
    const uint8_t *r = packed_reason(packed, &rlen, &end);
    return fs_headers_str((const char *)r, rlen);
}

static void each_field(mp_obj_t packed, field_cb_t cb, void *ctx) {
    size_t rlen;
    const uint8_t *end;
    const uint8_t *p = packed_reason(packed, &rlen, &end) + rlen;
    while (end - p >= 4) {
        size_t nlen = p[0] | (p[1] << 8);
        size_t vlen = p[2] | (p[3] << 8);
        p += 4;
        if ((size_t)(end - p) < nlen + vlen) {
            mp_raise_ValueError(MP_ERROR_TEXT("corrupt header block"));
        }
        if (!cb(ctx, p, nlen, p + nlen, vlen)) {
            return;
        }
        p += nlen + vlen;
    }
}

typedef struct {
    const uint8_t *name;
    size_t nlen;
    const uint8_t *first; // first matching value
    size_t first_len;
    vstr_t joined; // used from the second match on
    int matches;
    mp_obj_t all; // get_all(): a list every value is appended to, unjoined; else MP_OBJ_NULL
} lookup_t;

static bool lookup_cb(void *ctx, const uint8_t *name, size_t nlen, const uint8_t *val,
                      size_t vlen) {
    lookup_t *l = ctx;
    if (nlen != l->nlen) {
        return true;
    }
    for (size_t i = 0; i < nlen; i++) {
        if (name[i] != ascii_lower(l->name[i])) {
            return true;
        }
    }
    if (l->all != MP_OBJ_NULL) {
        mp_obj_list_append(l->all, fs_headers_str((const char *)val, vlen));
    } else if (l->matches++ == 0) {
        l->first = val;
        l->first_len = vlen;
    } else {
        // Repeated field: join as RFC 9110 5.3 allows.
        if (l->matches == 2) {
            vstr_init(&l->joined, l->first_len + 2 + vlen);
            vstr_add_strn(&l->joined, (const char *)l->first, l->first_len);
        }
        vstr_add_strn(&l->joined, ", ", 2);
        vstr_add_strn(&l->joined, (const char *)val, vlen);
    }
    return true;
}

mp_obj_t fs_headers_lookup(mp_obj_t packed, mp_obj_t name_in, mp_obj_t dflt) {
    lookup_t l = { 0 };
    l.name = (const uint8_t *)mp_obj_str_get_data(name_in, &l.nlen);
    each_field(packed, lookup_cb, &l);
    if (l.matches == 0) {
        return dflt;
    }
    if (l.matches == 1) {
        return fs_headers_str((const char *)l.first, l.first_len);
    }
    mp_obj_t s = fs_headers_str(l.joined.buf, l.joined.len);
    vstr_clear(&l.joined);
    return s;
}

typedef struct {
    mp_obj_t dict;
    mp_obj_t packed;
} dict_ctx_t;

static bool dict_cb(void *ctx, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen) {
    (void)val;
    (void)vlen;
    dict_ctx_t *d = ctx;
    mp_obj_t key = fs_headers_str((const char *)name, nlen);
    mp_map_elem_t *e =
        mp_map_lookup(mp_obj_dict_get_map(d->dict), key, MP_MAP_LOOKUP_ADD_IF_NOT_FOUND);
    if (e->value == MP_OBJ_NULL) {
        // The lookup joins repeated fields; iteration is rare, so its rescans are cheap enough.
        e->value = fs_headers_lookup(d->packed, key, mp_const_none);
    }
    return true;
}

mp_obj_t fs_headers_dict_of(mp_obj_t packed) {
    dict_ctx_t d = { mp_obj_new_dict(0), packed };
    each_field(packed, dict_cb, &d);
    return d.dict;
}

// ---- _fastsock.Headers: the read-only, case-insensitive mapping a Response's .headers is.

typedef struct {
    mp_obj_base_t base;
    mp_obj_t packed;
    mp_obj_t dict; // all fields, made on first iteration
} fs_headers_obj_t;

mp_obj_t fs_headers_new(mp_obj_t packed) {
    fs_headers_obj_t *h = mp_obj_malloc(fs_headers_obj_t, &fs_headers_type);
    h->packed = packed;
    h->dict = MP_OBJ_NULL;
    return MP_OBJ_FROM_PTR(h);
}

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

// get_all(name): every value of a repeated field, in order and not joined (Set-Cookie values
// hold commas in their Expires dates, so the joined form cannot be split again).
static mp_obj_t headers_get_all(mp_obj_t self_in, mp_obj_t name) {
    fs_headers_obj_t *h = MP_OBJ_TO_PTR(self_in);
    lookup_t l = { 0 };
    l.name = (const uint8_t *)mp_obj_str_get_data(name, &l.nlen);
    l.all = mp_obj_new_list(0, NULL);
    each_field(h->packed, lookup_cb, &l);
    return l.all;
}
static MP_DEFINE_CONST_FUN_OBJ_2(headers_get_all_obj, headers_get_all);

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
    { MP_ROM_QSTR(MP_QSTR_get_all), MP_ROM_PTR(&headers_get_all_obj) },
    { MP_ROM_QSTR(MP_QSTR_keys), MP_ROM_PTR(&headers_keys_obj) },
    { MP_ROM_QSTR(MP_QSTR_values), MP_ROM_PTR(&headers_values_obj) },
    { MP_ROM_QSTR(MP_QSTR_items), MP_ROM_PTR(&headers_items_obj) },
};
static MP_DEFINE_CONST_DICT(headers_locals_dict, headers_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(fs_headers_type, MP_QSTR_Headers, MP_TYPE_FLAG_ITER_IS_GETITER, print,
                         headers_print, unary_op, headers_unary_op, binary_op, headers_binary_op,
                         subscr, headers_subscr, iter, headers_getiter, locals_dict,
                         &headers_locals_dict);

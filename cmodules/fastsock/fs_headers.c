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

// ---- _fastsock.Headers: the read-only, case-insensitive mapping a Response's .headers is. It
// is a dict underneath, as MicroPython's dict() and json take only real dicts: filled with every
// field (lower-cased name -> value, repeated fields joined) when a program first reads it, so
// dict's own keys(), values(), items() and iteration see them; lookups walk the packed block
// (any case). Its map is fixed, so dict's own mutators refuse it, and only fastsock's own
// Headers have one: a Headers() made by calling the type is a plain dict's size, with no packed
// block.

typedef struct {
    mp_obj_dict_t dict;
    mp_obj_t packed; // read only while dict.map.is_fixed (fastsock's own)
} fs_headers_obj_t;

mp_obj_t fs_headers_new(mp_obj_t packed) {
    fs_headers_obj_t *h = mp_obj_malloc(fs_headers_obj_t, &fs_headers_type);
    h->dict.map = (mp_map_t){ .is_fixed = 1 }; // empty until filled
    h->packed = packed;
    return MP_OBJ_FROM_PTR(h);
}

static bool fill_cb(void *ctx, const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen) {
    (void)val;
    (void)vlen;
    fs_headers_obj_t *h = ctx;
    // Names are tokens (ASCII); a common one is an interned string already.
    mp_obj_t key = mp_obj_new_str((const char *)name, nlen);
    mp_map_elem_t *e = mp_map_lookup(&h->dict.map, key, MP_MAP_LOOKUP_ADD_IF_NOT_FOUND);
    if (e->value == MP_OBJ_NULL) {
        // The lookup joins repeated fields; filling is rare, so its rescans are cheap enough.
        e->value = fs_headers_lookup(h->packed, key, mp_const_none);
    }
    return true;
}

void fs_headers_fill(mp_obj_t self_in) {
    fs_headers_obj_t *h = MP_OBJ_TO_PTR(self_in);
    mp_map_t *map = &h->dict.map;
    if (!map->is_fixed || map->table != NULL) {
        return; // not fastsock's, or filled
    }
    // A plain map while it is filled (sized for a typical response), fixed again after.
    mp_map_init(map, 12);
    each_field(h->packed, fill_cb, h);
    map->is_fixed = 1;
}

// The value of field name (a str, any case; fastsock's own from the packed block), or
// MP_OBJ_NULL.
static mp_obj_t headers_find(fs_headers_obj_t *h, mp_obj_t name) {
    if (!mp_obj_is_str(name)) {
        mp_raise_TypeError(MP_ERROR_TEXT("header names are str"));
    }
    if (!h->dict.map.is_fixed) {
        mp_map_elem_t *e = mp_map_lookup(&h->dict.map, name, MP_MAP_LOOKUP);
        return e != NULL ? e->value : MP_OBJ_NULL;
    }
    return fs_headers_lookup(h->packed, name, MP_OBJ_NULL);
}

// A slot of dict's own type (Headers is a dict underneath; a program's is filled).
#define DICT_SLOT(slot) MP_OBJ_TYPE_GET_SLOT(&mp_type_dict, slot)

static mp_obj_t headers_subscr(mp_obj_t self_in, mp_obj_t index, mp_obj_t value) {
    if (value != MP_OBJ_SENTINEL) {
        mp_raise_TypeError(MP_ERROR_TEXT("response headers are read-only"));
    }
    mp_obj_t v = headers_find(MP_OBJ_TO_PTR(self_in), index);
    if (v == MP_OBJ_NULL) {
        mp_raise_type_arg(&mp_type_KeyError, index);
    }
    return v;
}

static mp_obj_t headers_binary_op(mp_binary_op_t op, mp_obj_t self_in, mp_obj_t rhs) {
    if (op == MP_BINARY_OP_CONTAINS) {
        return mp_obj_new_bool(headers_find(MP_OBJ_TO_PTR(self_in), rhs) != MP_OBJ_NULL);
    }
    return DICT_SLOT(binary_op)(op, self_in, rhs);
}

static mp_obj_t headers_unary_op(mp_unary_op_t op, mp_obj_t self_in) {
    return DICT_SLOT(unary_op)(op, self_in);
}

static mp_obj_t headers_getiter(mp_obj_t self_in, mp_obj_iter_buf_t *iter_buf) {
    return ((mp_getiter_fun_t)DICT_SLOT(iter))(self_in, iter_buf);
}

static mp_obj_t headers_get(size_t n_args, const mp_obj_t *args) {
    mp_obj_t v = headers_find(MP_OBJ_TO_PTR(args[0]), args[1]);
    return v != MP_OBJ_NULL ? v : n_args > 2 ? args[2] : mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(headers_get_obj, 2, 3, headers_get);

// get_all(name): every value of a repeated field, in order and not joined (Set-Cookie values
// hold commas in their Expires dates, so the joined form cannot be split again).
static mp_obj_t headers_get_all(mp_obj_t self_in, mp_obj_t name) {
    fs_headers_obj_t *h = MP_OBJ_TO_PTR(self_in);
    mp_obj_t v = headers_find(h, name);
    if (v == MP_OBJ_NULL || !h->dict.map.is_fixed) {
        return mp_obj_new_list(v != MP_OBJ_NULL, &v); // absent, or a Headers() made by hand
    }
    lookup_t l = { 0 };
    l.name = (const uint8_t *)mp_obj_str_get_data(name, &l.nlen);
    l.all = mp_obj_new_list(0, NULL);
    each_field(h->packed, lookup_cb, &l);
    return l.all;
}
static MP_DEFINE_CONST_FUN_OBJ_2(headers_get_all_obj, headers_get_all);

// copy(): a plain dict of every field.
static mp_obj_t headers_copy(mp_obj_t self_in) {
    fs_headers_fill(self_in);
    return mp_obj_dict_make_new(&mp_type_dict, 1, 0, &self_in);
}
static MP_DEFINE_CONST_FUN_OBJ_1(headers_copy_obj, headers_copy);

// Printed as a dict, as requests prints its headers.
static void headers_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    mp_obj_print_helper(print, headers_copy(self_in), kind);
}

// Methods: get, get_all and copy are ours; the rest are dict's own (keys, values, items; its
// mutators refuse the fixed map with TypeError). A native type's own lookup would stop at its
// own table.
static void headers_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    const mp_obj_t ours[] = { MP_OBJ_FROM_PTR(&headers_get_obj),
                              MP_OBJ_FROM_PTR(&headers_get_all_obj),
                              MP_OBJ_FROM_PTR(&headers_copy_obj) };
    mp_obj_t fun = attr == MP_QSTR_get ? ours[0] : attr == MP_QSTR_get_all ? ours[1]
                   : attr == MP_QSTR_copy ? ours[2] : MP_OBJ_NULL;
    if (fun == MP_OBJ_NULL) {
        mp_map_elem_t *e = mp_map_lookup(&MP_OBJ_TYPE_GET_SLOT(&mp_type_dict, locals_dict)->map,
                                         MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
        if (e == NULL) {
            return;
        }
        fun = e->value;
    }
    dest[0] = fun;
    dest[1] = self_in;
}

// make_new is dict's: that is what makes MicroPython's dict() and json treat it as a dict.
MP_DEFINE_CONST_OBJ_TYPE(fs_headers_type, MP_QSTR_Headers,
                         MP_TYPE_FLAG_ITER_IS_GETITER | MP_TYPE_FLAG_EQ_CHECKS_OTHER_TYPE, make_new,
                         mp_obj_dict_make_new, print, headers_print, unary_op, headers_unary_op,
                         binary_op, headers_binary_op, subscr, headers_subscr, iter,
                         headers_getiter, attr, headers_attr, parent, &mp_type_dict);

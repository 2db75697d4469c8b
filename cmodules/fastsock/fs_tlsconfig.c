// SPDX-License-Identifier: MIT
// _fastsock.TLSConfig(verify=True, ca=None): what https connections share (CA chain parsed once,
// remembered sessions for resumption). ca: PEM or DER bytes (the Python face reads files). Its
// `digest` (sha256 of the verify flag and the CA data) is what pooled connections are matched on.
#if FS_TLS

#include "mbedtls/sha256.h"
#include "py/mperrno.h"
#include "py/runtime.h"

#include "fs_conn.h"
#include "fs_exc.h"
#include "fs_response.h"
#include "fs_tlsconfig.h"

typedef struct {
    mp_obj_base_t base;
    fs_tls_conf_t *conf;
    mp_obj_t digest; // bytes: sha256(verify flag, CA data)
} fs_tlsconfig_obj_t;

static mp_obj_t tlsconfig_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
                                   const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 2, false);
    // A bool only: TLSConfig([]) or TLSConfig(None) must not turn verification off.
    if (n_args > 0 && !mp_obj_is_bool(args[0])) {
        mp_raise_TypeError(MP_ERROR_TEXT("verify must be True or False"));
    }
    bool verify = n_args < 1 || args[0] == mp_const_true;
    const uint8_t *ca = NULL;
    size_t ca_len = 0;
    if (n_args > 1 && args[1] != mp_const_none) {
        mp_buffer_info_t bi;
        mp_get_buffer_raise(args[1], &bi, MP_BUFFER_READ);
        if (bi.len == 0) {
            // Else it would read as "no ca=" and the default store would be used.
            mp_raise_ValueError(MP_ERROR_TEXT("ca= is empty"));
        }
        ca = bi.buf;
        ca_len = bi.len;
    }
    fs_tlsconfig_obj_t *self = mp_obj_malloc_with_finaliser(fs_tlsconfig_obj_t, type);
    fs_stats.heap_allocs++;
    self->conf = NULL;
    uint8_t sum[32];
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    mbedtls_sha256_starts(&sha, 0);
    mbedtls_sha256_update(&sha, (const uint8_t *)(verify ? "1" : "0"), 1);
    if (ca_len > 0) {
        mbedtls_sha256_update(&sha, ca, ca_len);
    }
    mbedtls_sha256_finish(&sha, sum);
    mbedtls_sha256_free(&sha);
    self->digest = mp_obj_new_bytes(sum, sizeof(sum));
    char msg[160];
    int r = fs_tls_conf_new(&self->conf, verify, ca, ca_len, msg, sizeof(msg));
    if (r == FS_TLS_ERR_NOMEM) {
        mp_obj_t arg = mp_obj_new_str_from_cstr(msg);
        nlr_raise(mp_obj_exception_make_new(&mp_type_MemoryError, 1, 0, &arg));
    } else if (r == FS_TLS_ERR_CA) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), msg);
    } else if (r != 0) {
        mp_obj_t eargs[2] = { MP_OBJ_NEW_SMALL_INT(MP_ENOENT), mp_obj_new_str_from_cstr(msg) };
        nlr_raise(mp_obj_exception_make_new(&fs_type_TLSError, 2, 0, eargs));
    }
    return MP_OBJ_FROM_PTR(self);
}

fs_tls_conf_t *fs_tlsconfig_get(mp_obj_t cfg) {
    if (!mp_obj_is_type(cfg, &fs_tlsconfig_type)) {
        mp_raise_TypeError(MP_ERROR_TEXT("tls must be a TLSConfig or None"));
    }
    fs_tlsconfig_obj_t *c = MP_OBJ_TO_PTR(cfg);
    if (c->conf == NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("TLSConfig already released"));
    }
    char msg[224];
    if (fs_tls_check_budget(msg, sizeof(msg)) != 0) {
        mp_obj_t arg = mp_obj_new_str_from_cstr(msg);
        nlr_raise(mp_obj_exception_make_new(&mp_type_MemoryError, 1, 0, &arg));
    }
    return c->conf;
}

static mp_obj_t tlsconfig_del(mp_obj_t self_in) {
    fs_tlsconfig_obj_t *self = MP_OBJ_TO_PTR(self_in);
    fs_tls_conf_release(self->conf);
    self->conf = NULL;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(tlsconfig_del_obj, tlsconfig_del);

static void tlsconfig_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] == MP_OBJ_NULL && attr == MP_QSTR_digest) {
        dest[0] = ((fs_tlsconfig_obj_t *)MP_OBJ_TO_PTR(self_in))->digest;
    } else {
        dest[1] = MP_OBJ_SENTINEL; // continue lookup in locals_dict
    }
}

static const mp_rom_map_elem_t tlsconfig_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&tlsconfig_del_obj) },
};
static MP_DEFINE_CONST_DICT(tlsconfig_locals_dict, tlsconfig_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(fs_tlsconfig_type, MP_QSTR_TLSConfig, MP_TYPE_FLAG_NONE, make_new,
                         tlsconfig_make_new, attr, tlsconfig_attr, locals_dict,
                         &tlsconfig_locals_dict);

#endif // FS_TLS

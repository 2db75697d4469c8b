// SPDX-License-Identifier: MIT
// _fastsock: the C half of fastsock (the Python half is the fastsock package, fastsock/). Globals and
// registration only; each object lives in its own file (fs_conn.c, fs_pool.c, fs_response.c).
#include <string.h>

#include "py/objstr.h"
#include "py/runtime.h"

#include "fs_conn.h"
#include "fs_exc.h"
#include "fs_headers.h"
#include "fs_pool.h"
#include "fs_response.h"
#include "fs_transport.h"
#if FS_TLS
#include "fs_tls.h"
#include "fs_tlsconfig.h"
#endif

// stats(): counters that prove the zero-copy and reuse claims (see the README).
static mp_obj_t fastsock_stats(void) {
    // Copies after the stack: fastsock's own plus any the transport made.
    const struct {
        qstr name;
        uint64_t value;
    } rows[] = {
        { MP_QSTR_open, fs_stats.open },
        { MP_QSTR_requests, fs_stats.requests },
        { MP_QSTR_connections, fs_stats.connections },
        { MP_QSTR_reused, fs_stats.reused },
        { MP_QSTR_discarded, fs_stats.discarded },
        { MP_QSTR_bytes_received, fs_tp_stats.bytes_received },
        { MP_QSTR_bytes_copied, fs_stats.bytes_copied + fs_tp_stats.bytes_copied },
        { MP_QSTR_heap_allocs, fs_stats.heap_allocs },
        { MP_QSTR_peak_buffered, fs_tp_stats.peak_buffered },
#if FS_TLS
        { MP_QSTR_tls_handshakes, fs_tls_stats.handshakes },
        { MP_QSTR_tls_resumed, fs_tls_stats.resumed },
#endif
    };
    mp_obj_t d = mp_obj_new_dict(MP_ARRAY_SIZE(rows) + 2);
    for (size_t i = 0; i < MP_ARRAY_SIZE(rows); i++) {
        mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(rows[i].name), mp_obj_new_int_from_ull(rows[i].value));
    }
#if FS_TLS
    // TLS: mbedTLS heap in use now and at most (outside the GC heap; None where the mbedTLS
    // build cannot be hooked).
    mp_obj_t now = mp_const_none, peak = mp_const_none;
    if (fs_tls_counting()) {
        now = mp_obj_new_int_from_ull(fs_tls_stats.bytes);
        peak = mp_obj_new_int_from_ull(fs_tls_stats.peak);
    }
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_tls_bytes), now);
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_tls_peak), peak);
#endif
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(fastsock_stats_obj, fastsock_stats);

// reset_stats(): zero every counter (benchmarks measure one case at a time).
static mp_obj_t fastsock_reset_stats(void) {
    uint32_t open = fs_stats.open;
    memset(&fs_stats, 0, sizeof(fs_stats));
    fs_stats.open = open; // a gauge, not a counter
    memset(&fs_tp_stats, 0, sizeof(fs_tp_stats));
#if FS_TLS
    // bytes is a gauge; the peak restarts from it.
    fs_tls_stats.peak = fs_tls_stats.bytes;
    fs_tls_stats.handshakes = fs_tls_stats.resumed = fs_tls_stats.denied = 0;
#endif
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(fastsock_reset_stats_obj, fastsock_reset_stats);

#if FS_TLS
// tls_limit([n]): cap on the heap mbedTLS may hold for fastsock (bytes; None or 0 = no cap but
// the heap's own; other mbedTLS users are not capped). A handshake that would not fit its
// FS_TLS_BUDGET under it raises MemoryError before connecting. Returns the previous cap.
static mp_obj_t fastsock_tls_limit(size_t n_args, const mp_obj_t *args) {
    mp_obj_t old = fs_tls_limit ? mp_obj_new_int_from_uint(fs_tls_limit) : mp_const_none;
    if (n_args > 0) {
        fs_tls_limit =
            args[0] == mp_const_none ? 0 : fs_uint_arg(args[0], MP_QSTR_limit, 0, SIZE_MAX, false);
    }
    return old;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(fastsock_tls_limit_obj, 0, 1, fastsock_tls_limit);
#endif

// deadline(ms): the absolute end of a total timeout starting now, for Connection.request and
// Pool.connect; fixed once per call, so DNS, redirects and retries count against it too.
static mp_obj_t fastsock_deadline(mp_obj_t ms) {
    return mp_obj_new_int_from_uint(fs_deadline_in(fs_timeout_ms(ms)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(fastsock_deadline_obj, fastsock_deadline);

// nbytes(buf): a buffer's length in bytes (a memoryview's len() counts items, and a body's
// Content-Length must count bytes).
static mp_obj_t fastsock_nbytes(mp_obj_t buf_in) {
    mp_buffer_info_t b;
    mp_get_buffer_raise(buf_in, &b, MP_BUFFER_READ);
    return mp_obj_new_int_from_uint(b.len);
}
static MP_DEFINE_CONST_FUN_OBJ_1(fastsock_nbytes_obj, fastsock_nbytes);

static MP_DEFINE_STR_OBJ(fastsock_version_obj, FS_VERSION);
// The status codes fastsock follows as redirects; one tuple for both Python modules.
static const mp_rom_obj_tuple_t fastsock_redirects_obj = {
    { &mp_type_tuple }, 5, { MP_ROM_INT(301), MP_ROM_INT(302), MP_ROM_INT(303), MP_ROM_INT(307), MP_ROM_INT(308) }
};

static const mp_rom_map_elem_t fastsock_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__fastsock) },
    { MP_ROM_QSTR(MP_QSTR_Connection), MP_ROM_PTR(&fs_conn_type) },
    { MP_ROM_QSTR(MP_QSTR_Pool), MP_ROM_PTR(&fs_pool_type) },
    { MP_ROM_QSTR(MP_QSTR_deadline), MP_ROM_PTR(&fastsock_deadline_obj) },
    { MP_ROM_QSTR(MP_QSTR_nbytes), MP_ROM_PTR(&fastsock_nbytes_obj) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&fastsock_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR_Response), MP_ROM_PTR(&fs_response_type) },
    { MP_ROM_QSTR(MP_QSTR_Headers), MP_ROM_PTR(&fs_headers_type) },
    { MP_ROM_QSTR(MP_QSTR_VERSION), MP_ROM_PTR(&fastsock_version_obj) },
    { MP_ROM_QSTR(MP_QSTR_REDIRECTS), MP_ROM_PTR(&fastsock_redirects_obj) },
    { MP_ROM_QSTR(MP_QSTR_reset_stats), MP_ROM_PTR(&fastsock_reset_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR_ProtocolError), MP_ROM_PTR(&fs_type_ProtocolError) },
    { MP_ROM_QSTR(MP_QSTR_LimitError), MP_ROM_PTR(&fs_type_LimitError) },
    { MP_ROM_QSTR(MP_QSTR_TimeoutError), MP_ROM_PTR(&fs_type_TimeoutError) },
    { MP_ROM_QSTR(MP_QSTR_TLSError), MP_ROM_PTR(&fs_type_TLSError) },
    { MP_ROM_QSTR(MP_QSTR_RequestException), MP_ROM_PTR(&fs_type_RequestException) },
    { MP_ROM_QSTR(MP_QSTR_ConnectionError), MP_ROM_PTR(&fs_type_ConnectionError) },
    { MP_ROM_QSTR(MP_QSTR_ConnectTimeout), MP_ROM_PTR(&fs_type_ConnectTimeout) },
    { MP_ROM_QSTR(MP_QSTR_ReadTimeout), MP_ROM_PTR(&fs_type_ReadTimeout) },
#if FS_TLS
    { MP_ROM_QSTR(MP_QSTR_TLSConfig), MP_ROM_PTR(&fs_tlsconfig_type) },
    { MP_ROM_QSTR(MP_QSTR_tls_limit), MP_ROM_PTR(&fastsock_tls_limit_obj) },
    { MP_ROM_QSTR(MP_QSTR_TLS_BUDGET), MP_ROM_INT(FS_TLS_BUDGET) },
#endif
    { MP_ROM_QSTR(MP_QSTR_MAX_HEAD_BYTES), MP_ROM_INT(FS_MAX_HEAD_BYTES) },
    { MP_ROM_QSTR(MP_QSTR_MAX_HEADERS), MP_ROM_INT(FS_MAX_HEADERS) },
#if FS_TRANSPORT_LWIP
    { MP_ROM_QSTR(MP_QSTR_TRANSPORT), MP_ROM_QSTR(MP_QSTR_lwip) },
#else
    { MP_ROM_QSTR(MP_QSTR_TRANSPORT), MP_ROM_QSTR(MP_QSTR_posix) },
#endif
};
static MP_DEFINE_CONST_DICT(fastsock_module_globals, fastsock_module_globals_table);

const mp_obj_module_t fastsock_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&fastsock_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR__fastsock, fastsock_user_cmodule);

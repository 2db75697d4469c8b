// _fastsock: the C half of fastsock (the Python half is fastsock.py). Globals and
// registration only; the connection object lives in fs_conn.c.
#include <string.h>

#include "py/objstr.h"
#include "py/runtime.h"

#include "fs_conn.h"
#include "fs_response.h"
#include "fs_transport.h"

// stats(): counters that prove the zero-copy and reuse claims (see the README).
static mp_obj_t fastsock_stats(void) {
    mp_obj_t d = mp_obj_new_dict(8);
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_open), mp_obj_new_int_from_uint(fs_stats.open));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_requests), mp_obj_new_int_from_uint(fs_stats.requests));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_connections), mp_obj_new_int_from_uint(fs_stats.connections));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_reused), mp_obj_new_int_from_uint(fs_stats.reused));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_bytes_received), mp_obj_new_int_from_ull(fs_tp_stats.bytes_received));
    // Copies after the stack: fastsock's own plus any the transport made.
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_bytes_copied), mp_obj_new_int_from_ull(fs_stats.bytes_copied + fs_tp_stats.bytes_copied));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_heap_allocs), mp_obj_new_int_from_uint(fs_stats.heap_allocs));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_peak_buffered), mp_obj_new_int_from_uint(fs_tp_stats.peak_buffered));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(fastsock_stats_obj, fastsock_stats);

// reset_stats(): zero every counter (benchmarks measure one case at a time).
static mp_obj_t fastsock_reset_stats(void) {
    uint32_t open = fs_stats.open;
    memset(&fs_stats, 0, sizeof(fs_stats));
    fs_stats.open = open; // a gauge, not a counter
    memset(&fs_tp_stats, 0, sizeof(fs_tp_stats));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(fastsock_reset_stats_obj, fastsock_reset_stats);

static MP_DEFINE_STR_OBJ(fastsock_version_obj, FS_VERSION);

static const mp_rom_map_elem_t fastsock_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__fastsock) },
    { MP_ROM_QSTR(MP_QSTR_Connection), MP_ROM_PTR(&fs_conn_type) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&fastsock_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR_Response), MP_ROM_PTR(&fs_response_type) },
    { MP_ROM_QSTR(MP_QSTR_Headers), MP_ROM_PTR(&fs_headers_type) },
    { MP_ROM_QSTR(MP_QSTR_VERSION), MP_ROM_PTR(&fastsock_version_obj) },
    { MP_ROM_QSTR(MP_QSTR_reset_stats), MP_ROM_PTR(&fastsock_reset_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR_ProtocolError), MP_ROM_PTR(&fs_type_ProtocolError) },
    { MP_ROM_QSTR(MP_QSTR_LimitError), MP_ROM_PTR(&fs_type_LimitError) },
    { MP_ROM_QSTR(MP_QSTR_TimeoutError), MP_ROM_PTR(&fs_type_TimeoutError) },
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

// SPDX-License-Identifier: MIT
// hostcheck: oracles outside fastsock for leak tests. fds() counts this process's open file
// descriptors from /proc/self/fd; malloc_bytes() is the C heap in use as the allocator
// reports it (ASan's allocator in the sanitizer build, glibc's mallinfo2 otherwise), so
// memory fastsock keeps outside the GC heap (receive buffers, TLS) is seen too.
// x509_hold(der) is an mbedTLS user other than fastsock (as MicroPython's ssl module or an
// ESP-IDF component would be): it parses a certificate with mbedtls_x509_crt_parse_der and keeps
// it until x509_hold(None), so a test can see whether fastsock counts or caps that memory.
#include <dirent.h>
#include <malloc.h>

#include "py/mperrno.h"
#include "py/runtime.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTCHECK_ASAN (1)
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HOSTCHECK_ASAN (1)
#endif

#if HOSTCHECK_ASAN
// From ASan's allocator interface (GCC ships no header for it).
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

static mp_obj_t hostcheck_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        mp_raise_OSError(MP_ENOENT);
    }
    mp_int_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    // The directory stream itself held one descriptor while counting.
    return MP_OBJ_NEW_SMALL_INT(n - 1);
}
static MP_DEFINE_CONST_FUN_OBJ_0(hostcheck_fds_obj, hostcheck_fds);

static mp_obj_t hostcheck_malloc_bytes(void) {
#if HOSTCHECK_ASAN
    return mp_obj_new_int_from_uint(__sanitizer_get_current_allocated_bytes());
#else
    struct mallinfo2 mi = mallinfo2();
    return mp_obj_new_int_from_uint(mi.uordblks);
#endif
}
static MP_DEFINE_CONST_FUN_OBJ_0(hostcheck_malloc_bytes_obj, hostcheck_malloc_bytes);

#if FS_TLS
#include "mbedtls/x509_crt.h"

static mbedtls_x509_crt held;
static bool holding;

// Returns mbedTLS's result (0, or a negative MBEDTLS_ERR_*); None releases what is held.
static mp_obj_t hostcheck_x509_hold(mp_obj_t der) {
    if (holding) {
        mbedtls_x509_crt_free(&held);
        holding = false;
    }
    if (der == mp_const_none) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    mp_buffer_info_t buf;
    mp_get_buffer_raise(der, &buf, MP_BUFFER_READ);
    mbedtls_x509_crt_init(&held);
    holding = true;
    return MP_OBJ_NEW_SMALL_INT(mbedtls_x509_crt_parse_der(&held, buf.buf, buf.len));
}
static MP_DEFINE_CONST_FUN_OBJ_1(hostcheck_x509_hold_obj, hostcheck_x509_hold);
#endif

static const mp_rom_map_elem_t hostcheck_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_hostcheck) },
    { MP_ROM_QSTR(MP_QSTR_fds), MP_ROM_PTR(&hostcheck_fds_obj) },
    { MP_ROM_QSTR(MP_QSTR_malloc_bytes), MP_ROM_PTR(&hostcheck_malloc_bytes_obj) },
#if FS_TLS
    { MP_ROM_QSTR(MP_QSTR_x509_hold), MP_ROM_PTR(&hostcheck_x509_hold_obj) },
#endif
};
static MP_DEFINE_CONST_DICT(hostcheck_globals, hostcheck_globals_table);

const mp_obj_module_t mp_module_hostcheck = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&hostcheck_globals,
};

MP_REGISTER_MODULE(MP_QSTR_hostcheck, mp_module_hostcheck);

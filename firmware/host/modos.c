// SPDX-License-Identifier: MIT
// os: the part of the device's `os` fastsock uses (extmod/modos.c is absent from the core
// sdist): urandom(n), for multipart boundaries, from the kernel's generator.
#include <errno.h>
#include <sys/random.h>

#include "py/runtime.h"

static mp_obj_t os_urandom(mp_obj_t n_in) {
    mp_int_t n = mp_obj_get_int(n_in);
    if (n < 0) {
        mp_raise_ValueError(NULL);
    }
    vstr_t v;
    vstr_init_len(&v, n);
    for (mp_int_t got = 0; got < n;) {
        ssize_t r = getrandom(v.buf + got, n - got, 0);
        if (r < 0) {
            vstr_clear(&v);
            mp_raise_OSError(errno);
        }
        got += r;
    }
    return mp_obj_new_bytes_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_1(os_urandom_obj, os_urandom);

static const mp_rom_map_elem_t os_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_os) },
    { MP_ROM_QSTR(MP_QSTR_urandom), MP_ROM_PTR(&os_urandom_obj) },
};
static MP_DEFINE_CONST_DICT(os_globals, os_globals_table);

const mp_obj_module_t mp_module_os = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&os_globals,
};

MP_REGISTER_MODULE(MP_QSTR_os, mp_module_os);

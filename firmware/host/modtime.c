// SPDX-License-Identifier: MIT
// time module for the host port (MicroPython's own lives in extmod/, absent from the sdist).
#include <time.h>

#include "py/mphal.h"
#include "py/runtime.h"
#include "py/smallint.h"

static mp_obj_t mod_time_time(void) {
    return mp_obj_new_float((mp_float_t)mp_hal_time_ns() / 1e9);
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_time_time_obj, mod_time_time);

static mp_obj_t mod_time_time_ns(void) {
    return mp_obj_new_int_from_ull(mp_hal_time_ns());
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_time_time_ns_obj, mod_time_time_ns);

static mp_obj_t mod_time_sleep(mp_obj_t secs) {
    mp_hal_delay_ms((mp_uint_t)(mp_obj_get_float(secs) * 1000));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mod_time_sleep_obj, mod_time_sleep);

static mp_obj_t mod_time_sleep_ms(mp_obj_t ms) {
    mp_hal_delay_ms(mp_obj_get_int(ms));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mod_time_sleep_ms_obj, mod_time_sleep_ms);

static mp_obj_t mod_time_sleep_us(mp_obj_t us) {
    mp_hal_delay_us(mp_obj_get_int(us));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mod_time_sleep_us_obj, mod_time_sleep_us);

// Tick counters wrap at the small-int range, as on the device.
static mp_obj_t mod_time_ticks_ms(void) {
    return MP_OBJ_NEW_SMALL_INT(mp_hal_ticks_ms() & (MICROPY_PY_TIME_TICKS_PERIOD - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_time_ticks_ms_obj, mod_time_ticks_ms);

static mp_obj_t mod_time_ticks_us(void) {
    return MP_OBJ_NEW_SMALL_INT(mp_hal_ticks_us() & (MICROPY_PY_TIME_TICKS_PERIOD - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_time_ticks_us_obj, mod_time_ticks_us);

static mp_obj_t mod_time_ticks_diff(mp_obj_t end, mp_obj_t start) {
    mp_uint_t diff =
        ((mp_uint_t)MP_OBJ_SMALL_INT_VALUE(end) - (mp_uint_t)MP_OBJ_SMALL_INT_VALUE(start)) &
        (MICROPY_PY_TIME_TICKS_PERIOD - 1);
    // Map the wrapped difference into the signed range around zero.
    mp_int_t sdiff = diff;
    if (diff >= MICROPY_PY_TIME_TICKS_PERIOD / 2) {
        sdiff -= MICROPY_PY_TIME_TICKS_PERIOD;
    }
    return MP_OBJ_NEW_SMALL_INT(sdiff);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mod_time_ticks_diff_obj, mod_time_ticks_diff);

static mp_obj_t mod_time_ticks_add(mp_obj_t ticks, mp_obj_t delta) {
    return MP_OBJ_NEW_SMALL_INT(((mp_uint_t)MP_OBJ_SMALL_INT_VALUE(ticks) + mp_obj_get_int(delta)) &
                                (MICROPY_PY_TIME_TICKS_PERIOD - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_2(mod_time_ticks_add_obj, mod_time_ticks_add);

static const mp_rom_map_elem_t mod_time_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_time) },
    { MP_ROM_QSTR(MP_QSTR_time), MP_ROM_PTR(&mod_time_time_obj) },
    { MP_ROM_QSTR(MP_QSTR_time_ns), MP_ROM_PTR(&mod_time_time_ns_obj) },
    { MP_ROM_QSTR(MP_QSTR_sleep), MP_ROM_PTR(&mod_time_sleep_obj) },
    { MP_ROM_QSTR(MP_QSTR_sleep_ms), MP_ROM_PTR(&mod_time_sleep_ms_obj) },
    { MP_ROM_QSTR(MP_QSTR_sleep_us), MP_ROM_PTR(&mod_time_sleep_us_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_ms), MP_ROM_PTR(&mod_time_ticks_ms_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_us), MP_ROM_PTR(&mod_time_ticks_us_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_diff), MP_ROM_PTR(&mod_time_ticks_diff_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_add), MP_ROM_PTR(&mod_time_ticks_add_obj) },
};
static MP_DEFINE_CONST_DICT(mod_time_globals, mod_time_globals_table);

const mp_obj_module_t mp_module_time = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&mod_time_globals,
};

MP_REGISTER_EXTENSIBLE_MODULE(MP_QSTR_time, mp_module_time);

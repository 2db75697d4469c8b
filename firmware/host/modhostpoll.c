// SPDX-License-Identifier: MIT
// hostpoll: the host port's stand-in for `select` (extmod/, absent from the core sdist).
// poll(obj, flags) asks a stream object's ioctl(MP_STREAM_POLL) exactly as select.poll and
// asyncio do on the device, so tests can check fastsock's readiness reporting.
#include "py/runtime.h"
#include "py/stream.h"

static mp_obj_t hostpoll_poll(mp_obj_t obj, mp_obj_t flags_in) {
    const mp_stream_p_t *stream = mp_get_stream_raise(obj, MP_STREAM_OP_IOCTL);
    int err;
    mp_uint_t ret = stream->ioctl(obj, MP_STREAM_POLL, mp_obj_get_int(flags_in), &err);
    if (ret == MP_STREAM_ERROR) {
        mp_raise_OSError(err);
    }
    return MP_OBJ_NEW_SMALL_INT(ret);
}
static MP_DEFINE_CONST_FUN_OBJ_2(hostpoll_poll_obj, hostpoll_poll);

static const mp_rom_map_elem_t hostpoll_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_hostpoll) },
    { MP_ROM_QSTR(MP_QSTR_poll), MP_ROM_PTR(&hostpoll_poll_obj) },
    { MP_ROM_QSTR(MP_QSTR_POLLIN), MP_ROM_INT(MP_STREAM_POLL_RD) },
    { MP_ROM_QSTR(MP_QSTR_POLLOUT), MP_ROM_INT(MP_STREAM_POLL_WR) },
};
static MP_DEFINE_CONST_DICT(hostpoll_globals, hostpoll_globals_table);

const mp_obj_module_t mp_module_hostpoll = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&hostpoll_globals,
};

MP_REGISTER_MODULE(MP_QSTR_hostpoll, mp_module_hostpoll);

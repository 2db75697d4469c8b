// SPDX-License-Identifier: MIT
// Stand-in for extmod/vfs.h: the host port has no VFS; socket.makefile() needs mp_vfs_open.
#include "py/obj.h"
mp_obj_t mp_vfs_open(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args);

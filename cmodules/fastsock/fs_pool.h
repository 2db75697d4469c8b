// SPDX-License-Identifier: MIT
// fastsock connection pool (_fastsock.Pool): idle keep-alive connections, and the check that
// makes reuse safe.
#ifndef FS_POOL_H
#define FS_POOL_H

#include "fs_conn.h"

extern const mp_obj_type_t fs_pool_type;

// Take an idle connection back (fs_conn_release): the pool owns it until fs_pool_take hands
// it out; over the pool's size the oldest idle one is closed.
void fs_pool_put(mp_obj_t pool, fs_conn_obj_t *c);

#endif // FS_POOL_H

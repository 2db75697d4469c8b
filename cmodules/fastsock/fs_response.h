// SPDX-License-Identifier: MIT
// fastsock Response (_fastsock.Response): status, headers and the body, read from the
// connection it owns until the body is complete (then the connection goes back to its pool
// or is closed, fs_conn_release). Also a stream (read, readinto, poll, close) for select,
// asyncio and r.raw.
#ifndef FS_RESPONSE_H
#define FS_RESPONSE_H

#include "py/obj.h"

#include "fs_conn.h"

extern const mp_obj_type_t fs_response_type;

// A response to c's request in flight, whose head was just parsed (packed: reason and
// headers, fs_headers.h); it owns c from here. url: for .url, or None.
mp_obj_t fs_response_new(fs_conn_obj_t *c, mp_obj_t packed, mp_obj_t url);

// Argument checks for every C entry point. An int argument in lo..hi (lo a small int; a bool
// counts as an int, as in CPython; any size, compared without truncation): TypeError for other
// types, ValueError outside the range, or with clamp hi for anything above it.
mp_uint_t fs_uint_arg(mp_obj_t o, qstr name, mp_uint_t lo, mp_uint_t hi, bool clamp);

#endif // FS_RESPONSE_H

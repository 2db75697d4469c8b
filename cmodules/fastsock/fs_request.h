// SPDX-License-Identifier: MIT
// fastsock request writer: the request head, and body pieces, onto a connection (fs_conn.h).
#ifndef FS_REQUEST_H
#define FS_REQUEST_H

#include "fs_conn.h"

// Write the head of a new request (the connection must be idle). headers: None or an
// iterable of (name, value) that replace the defaults of the same name (any case); body_len:
// None (no body), an int (Content-Length) or -1 (chunked coding). Everything is checked
// (line breaks: ValueError) before the first byte is sent; an I/O failure closes c and raises.
void fs_request_write(fs_conn_obj_t *c, mp_obj_t method, mp_obj_t target, mp_obj_t host,
                      mp_obj_t headers, mp_obj_t body_len, bool keep_alive);

// Send a body piece of the request in flight; an I/O failure closes c and raises.
void fs_request_send(fs_conn_obj_t *c, const uint8_t *buf, size_t len);

#endif // FS_REQUEST_H

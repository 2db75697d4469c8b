// SPDX-License-Identifier: MIT
// fastsock response reading: the head parsed in place over the stream's segments, then the
// body (Content-Length, chunked or close-delimited) handed out from the receive buffers.
// Body functions return codes (fs_error.h) and never raise: the Response decides.
#ifndef FS_BODY_H
#define FS_BODY_H

#include "fs_conn.h"

// Read and parse the response head of the request in flight: the state becomes FS_CONN_BODY,
// or FS_CONN_DONE for a body-less response. Returns the packed reason and headers
// (fs_headers.h). On failure c is closed and the exception raised.
mp_obj_t fs_body_read_head(fs_conn_obj_t *c, bool head_request);

// The next run of body bytes in the receive buffer: its length (> 0) with *ptr set, 0 when
// the body is complete (state FS_CONN_DONE), -MP_EAGAIN when wait is false and nothing
// decodable is buffered, or an error code. Consume what was used with fs_body_consume.
int fs_body_peek(fs_conn_obj_t *c, const uint8_t **ptr, bool wait);

// Hand n (<= the run fs_body_peek returned) body bytes over.
void fs_body_consume(fs_conn_obj_t *c, size_t n);

// Up to len body bytes into buf: bytes (> 0), 0 at the end of the body, or an error code.
int fs_body_read(fs_conn_obj_t *c, uint8_t *buf, size_t len);

// The exception for an error code a body call returned (the counts for a truncated body).
mp_obj_t fs_body_error(fs_conn_obj_t *c, int code);

#endif // FS_BODY_H

// fastsock connection object (_fastsock.Connection): one TCP connection carrying
// HTTP/1.1 exchanges, with the response body exposed through MicroPython's stream protocol.
#ifndef FS_CONN_H
#define FS_CONN_H

#include "py/obj.h"

#include "fs_config.h"

extern const mp_obj_type_t fs_conn_type;

// Counters behind fastsock.stats(); the transport keeps its own in fs_tp_stats.
typedef struct {
    uint32_t requests;     // requests sent
    uint32_t connections;  // connections opened
    uint32_t reused;       // requests sent on an already used connection
    uint64_t bytes_copied; // body/head bytes copied by fastsock after the transport
    uint32_t heap_allocs;  // GC allocations made by fastsock's C code
    uint32_t open;         // connections open now
} fs_stats_t;

extern fs_stats_t fs_stats;

// A bytes object taking over v's buffer (trimmed); its hash is left for first use, so a
// 10 MB body is not hashed just to be returned.
mp_obj_t fs_new_bytes(vstr_t *v);

// Body access for Response objects: readall() the rest as bytes; save(conn, stream, progress,
// piece) straight from the receive buffers; drain(conn, limit) up to limit bytes, True when
// the body is complete; next_run(conn, max) a memoryview over the next run or None;
// reusable(conn) whether another request may follow on it.
mp_obj_t fs_conn_readall(mp_obj_t conn);
mp_obj_t fs_conn_save(size_t n_args, const mp_obj_t *args); // (conn, stream, progress, piece)
mp_obj_t fs_conn_drain(mp_obj_t conn, mp_obj_t limit);
mp_obj_t fs_conn_next_run(mp_obj_t conn, mp_obj_t max);
mp_obj_t fs_conn_reusable(mp_obj_t conn);

// Exceptions (all OSError subclasses; the message says what happened).
extern const mp_obj_type_t fs_type_ProtocolError;
extern const mp_obj_type_t fs_type_LimitError;
extern const mp_obj_type_t fs_type_TimeoutError;
extern const mp_obj_type_t fs_type_TLSError;

#if FS_TLS
// _fastsock.TLSConfig (fs_conn.c): shared TLS settings for https connections.
extern const mp_obj_type_t fs_tlsconfig_type;
#endif

#endif // FS_CONN_H

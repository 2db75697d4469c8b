// SPDX-License-Identifier: MIT
// fastsock connection (_fastsock.Connection): one TCP (or TLS) connection carrying HTTP/1.1
// exchanges, and the one place its ownership changes hands (docs/design.md):
//
//   new ──connect──> CALLER ──request/send──> CALLER ──getresponse──> RESPONSE
//                      ^                                                 │ body complete,
//                      │ fs_pool_take (checked alive)                    │ keep-alive, nothing
//                    POOL <──────────────── fs_conn_release ─────────────┘ left over
//   any error, close(), finaliser, an unusable or dead connection ──> CLOSED (final)
//
// Only the current owner acts on it: Python methods need CALLER, the Response's body reads
// need RESPONSE, and only fs_conn_release/fs_pool_take move it between them.
#ifndef FS_CONN_H
#define FS_CONN_H

#include "py/obj.h"
#include "py/objarray.h"

#include "fs_compat.h"
#include "fs_config.h"
#include "fs_http.h"
#include "fs_io.h"
#include "fs_transport.h"
#if FS_TLS
#include "fs_tls.h"
#endif

// Where the exchange is: ordered, so `state >= FS_CONN_REQUEST` means one is in flight.
enum {
    FS_CONN_CLOSED = 0, // no transport: final
    FS_CONN_IDLE,       // connected, no exchange
    FS_CONN_REQUEST,    // request being sent, response head not parsed yet
    FS_CONN_BODY,       // head parsed, body bytes remain
    FS_CONN_DONE,       // body complete, waiting for fs_conn_release
};

// Who holds it.
enum {
    FS_OWNER_CALLER = 0, // the code that opened it or took it from a pool
    FS_OWNER_POOL,       // idle in a pool
    FS_OWNER_RESPONSE,   // the Response reading its body
};

typedef struct {
    mp_obj_base_t base;
    fs_io_t io; // the stream the engine reads: the transport, or TLS over it
    fs_tp_t tp;
#if FS_TLS
    fs_tls_t *tls; // TLS state (io.ctx) for https, else NULL
#endif
    mp_obj_t pool;       // the Pool it goes back to, or None
    mp_obj_t key;        // its pool key (host:port)
    mp_obj_t tlscfg;     // the TLSConfig it was verified with, or None (kept alive while used)
    fs_head_t head;      // response head parse state
    fs_chunked_t chunk;  // chunked decoder
    uint64_t body_left;  // FS_BODY_LENGTH: body bytes not yet handed out
    uint64_t body_read;  // body bytes handed out so far
    uint64_t send_left;  // request body bytes still owed under its Content-Length
    size_t run_left;     // FS_BODY_CHUNKED: decoded body bytes waiting at the front
    fs_deadline_t total; // the request's total deadline (FS_FOREVER: none)
    uint32_t read_ms;    // per-wait read/write timeout (0: none)
    uint32_t requests;   // requests sent on this connection
    uint32_t sent_ms;    // fs_clock_ms() when the request in flight started (Response.elapsed)
    uint8_t state;
    uint8_t owner;
    uint8_t body_kind;
    uint8_t keep_alive;
    uint8_t rx_started; // a byte of the current response arrived (a retry could repeat it)
    uint8_t counted;    // counted in fs_stats.open
    uint8_t send_known; // the request announced its body's length (send_left is enforced)
    bool busy;          // in request/send/getresponse: a scheduled callback may not touch it
} fs_conn_obj_t;

extern const mp_obj_type_t fs_conn_type;

// Counters behind fastsock.stats(); the transport keeps its own in fs_tp_stats.
typedef struct {
    uint32_t requests;     // requests sent
    uint32_t connections;  // connections opened
    uint32_t reused;       // requests sent on an already used connection
    uint32_t discarded;    // pooled connections found dead (closed or stray bytes) before reuse
    uint64_t bytes_copied; // body/head bytes copied by fastsock after the transport
    uint32_t heap_allocs;  // GC allocations made by fastsock's C code
    uint32_t open;         // connections holding transport resources now
} fs_stats_t;

extern fs_stats_t fs_stats;

// Open a connection to host:port (https when tlscfg is a TLSConfig) within connect_ms and
// the total deadline; raises on failure with nothing left open. Owned by the caller.
fs_conn_obj_t *fs_conn_open(mp_obj_t host, mp_int_t port, mp_obj_t tlscfg, uint32_t connect_ms,
                            fs_deadline_t total);

// Release everything (final); safe to call in any state and twice.
void fs_conn_close(fs_conn_obj_t *c);

// The response reading c's body is done with it: back to its pool if the exchange ended
// cleanly and the server keeps it alive, else closed. The only way out of FS_OWNER_RESPONSE.
void fs_conn_release(fs_conn_obj_t *c);

// The deadline for the next wait: per-wait timeout ms (0: none) cut by the total deadline.
fs_deadline_t fs_conn_deadline(const fs_conn_obj_t *c, uint32_t wait_ms);

// A code from an I/O call, with a timeout past the total deadline reported as FS_ERR_DEADLINE.
int fs_conn_code(const fs_conn_obj_t *c, int code);

// Run the scheduled callbacks that are queued (machine.Timer, Pin IRQs, micropython.schedule):
// in every wait, and between the pieces of a long body (a download that never waits would
// otherwise hold them off until it ends).
void fs_run_callbacks(void);

// A busy mark (Connection.busy, Response.busy) set for the span of a call that may wait, and
// put back however the call ends (an exception runs the undo on its way out): a scheduled
// callback that runs in the wait and reaches for the marked object gets RuntimeError.
typedef struct {
    nlr_jump_callback_node_t node; // first: the undo gets its address
    bool *flag;
    bool was;
} fs_mark_t;
void fs_mark_begin(fs_mark_t *m, bool *flag);
#define fs_mark_end() nlr_pop_jump_callback(true)

// Close c, then raise the exception for code (fs_exc_raise).
MP_NORETURN void fs_conn_raise(fs_conn_obj_t *c, int code, const char *what);

// tls(): None for plain HTTP, else (protocol, cipher suite, resumed).
mp_obj_t fs_conn_tls_info(fs_conn_obj_t *c);

// A str argument without NUL as a C string; TypeError or ValueError otherwise.
const char *fs_conn_str(mp_obj_t o, qstr name);

// A timeout in milliseconds from Python (0: none); ValueError when out of range.
uint32_t fs_timeout_ms(mp_obj_t ms);

// A bytes object taking over v's buffer (trimmed); its hash is left for first use, so a
// 10 MB body is not hashed just to be returned.
mp_obj_t fs_new_bytes(vstr_t *v);

#endif // FS_CONN_H

// SPDX-License-Identifier: MIT
// fastsock TLS layer: mbedTLS between the transport (fs_tp_ops) and the engine, offering the
// same operations (fs_tls_ops), so it works over both transports and the connection does not
// care which it reads. Decrypted bytes land in one per-connection buffer. No py/ objects: the
// binding (fs_conn.c) turns the codes below into exceptions. Compiled only with FS_TLS=1.
#ifndef FS_TLS_H
#define FS_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "fs_transport.h"

// Error codes: FS_TLS_ERR_* in fs_error.h.

// Shared client configuration (CA chain parsed once, random generator, remembered sessions);
// reference counted: each connection holds one reference, the Python TLSConfig object another.
typedef struct fs_tls_conf fs_tls_conf_t;

// One TLS connection over a transport.
typedef struct fs_tls fs_tls_t;

// Counters for fastsock.stats(); bytes are mbedTLS heap in use for fastsock (counted by
// mbedtls_calloc hooks where the mbedTLS build allows them, see fs_tls_counting(); other mbedTLS
// users in the process are not counted).
typedef struct {
    uint64_t bytes;      // heap held by mbedTLS for fastsock now (configs, connections)
    uint64_t peak;       // most held at once
    uint32_t handshakes; // completed handshakes
    uint32_t resumed;    // of which resumed an earlier session (no certificate exchange)
    uint32_t denied;     // allocations refused by the limit
} fs_tls_stats_t;

extern fs_tls_stats_t fs_tls_stats;

// Total mbedTLS heap allowed for fastsock (0 = no limit but the heap's own); also the budget
// check below.
extern size_t fs_tls_limit;

// 1 if fs_tls_stats.bytes counts real allocations (mbedtls_platform_set_calloc_free usable).
int fs_tls_counting(void);

// Create a config. verify: check the chain and the host name; ca/ca_len: PEM or DER bytes,
// NULL for the default store (ESP32: esp_crt_bundle; host: FS_TLS_DEFAULT_CA_FILE).
// Returns 0, FS_TLS_ERR_CA, FS_TLS_ERR_NO_CA or FS_TLS_ERR_NOMEM (msg says more).
int fs_tls_conf_new(fs_tls_conf_t **out, int verify, const uint8_t *ca, size_t ca_len, char *msg,
                    size_t msglen);

// Drop one reference; the last frees the config.
void fs_tls_conf_release(fs_tls_conf_t *conf);

// Before connecting: 0 if a handshake's FS_TLS_BUDGET fits (in the limit, and on the ESP32 in
// the heap TLS allocates from), else FS_TLS_ERR_NOMEM with the figures in msg.
int fs_tls_check_budget(char *msg, size_t msglen);

// A TLS connection over tp (not yet connected), holding a reference to conf; NULL if out of
// memory. Used through fs_tls_ops with the fs_tls_t as ctx: connect connects tp and shakes
// hands (SNI, certificate name, a remembered session for host:port offered), fill returns
// FS_ERR_TLS_TRUNCATED when TCP closed without close_notify, close frees t and closes tp.
fs_tls_t *fs_tls_new(fs_tls_conf_t *conf, fs_tp_t *tp);
extern const fs_io_ops_t fs_tls_ops;

// Release what t holds (its config reference too) but not tp; fs_tls_ops.close does both.
void fs_tls_free(fs_tls_t *t);

// The message for a negative code returned by an fs_tls_ops call on t (t may be NULL); in buf.
const char *fs_tls_strerror(const fs_tls_t *t, int code, char *buf, size_t len);

// Negotiated protocol ("TLSv1.2") and cipher suite names; 1 if the session was resumed.
const char *fs_tls_version(const fs_tls_t *t);
const char *fs_tls_cipher(const fs_tls_t *t);
int fs_tls_resumed(const fs_tls_t *t);

#endif // FS_TLS_H

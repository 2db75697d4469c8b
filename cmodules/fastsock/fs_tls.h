// fastsock TLS layer: mbedTLS between the transport (fs_tp_*) and the engine. Its bio callbacks
// read the transport's segments and write with fs_tp_write, so it works over both transports.
// Decrypted bytes land in one per-connection buffer read through the same shape as the
// transport (fill, segments, buffered, consume, write, readable). No py/ objects: the binding
// (fs_conn.c) turns the codes below into exceptions. Compiled only with FS_TLS=1.
#ifndef FS_TLS_H
#define FS_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "fs_transport.h"

// Codes besides the transport's -errno (all below FS_TP_ERR_UNSUPPORTED).
#define FS_TLS_ERR_VERIFY (-1100)    // the server's certificate was rejected (why: fs_tls_strerror)
#define FS_TLS_ERR_HANDSHAKE (-1101) // no agreement (version, cipher suite, alert from the server)
#define FS_TLS_ERR_PLAIN_HTTP (-1102) // the server answered in plain text, not TLS
#define FS_TLS_ERR_NOMEM (-1103)      // out of memory (or over fastsock's TLS limit)
#define FS_TLS_ERR_RECORD (-1104)     // a bad record after the handshake
#define FS_TLS_ERR_CA (-1105)         // the CA data holds no usable certificate
#define FS_TLS_ERR_NO_CA (-1106)      // verification asked for, but no default CA store
#define FS_TLS_IS_ERR(code) ((code) <= -1100 && (code) > -1200)

// Shared client configuration (CA chain parsed once, random generator, remembered sessions);
// reference counted: each connection holds one reference, the Python TLSConfig object another.
typedef struct fs_tls_conf fs_tls_conf_t;

// One TLS connection over a transport.
typedef struct fs_tls fs_tls_t;

// Counters for fastsock.stats(); bytes are mbedTLS heap in use (counted by mbedtls_calloc
// hooks where the mbedTLS build allows them, see fs_tls_counting()).
typedef struct {
    uint64_t bytes;      // heap held by mbedTLS now (configs, connections)
    uint64_t peak;       // most held at once
    uint32_t handshakes; // completed handshakes
    uint32_t resumed;    // of which resumed an earlier session (no certificate exchange)
    uint32_t denied;     // allocations refused by the limit
} fs_tls_stats_t;

extern fs_tls_stats_t fs_tls_stats;

// Total mbedTLS heap allowed (0 = no limit but the heap's own); also the budget check below.
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

// A TLS connection over tp (connected), holding a reference to conf; NULL if out of memory.
fs_tls_t *fs_tls_new(fs_tls_conf_t *conf, fs_tp_t *tp);

// Handshake for host (SNI and certificate name), offering a remembered session for
// host:port. Each wait is at most timeout_ms (0 = none). Returns 0, -errno from the transport
// or an FS_TLS_ERR_* code.
int fs_tls_handshake(fs_tls_t *t, const char *host, uint16_t port, uint32_t timeout_ms);

// The message for a negative code returned by an fs_tls_* call on t (t may be NULL); in buf.
const char *fs_tls_strerror(const fs_tls_t *t, int code, char *buf, size_t len);

// Release everything t holds (its config reference too).
void fs_tls_free(fs_tls_t *t);

// The transport's shape over decrypted bytes; same return conventions as fs_transport.h
// (fill: > 0 new bytes, 0 end of stream, < 0 error; write: 0 or < 0).
int fs_tls_fill(fs_tls_t *t, uint32_t timeout_ms);
size_t fs_tls_segments(fs_tls_t *t, fs_seg_t *segs, size_t max);
size_t fs_tls_buffered(const fs_tls_t *t);
void fs_tls_consume(fs_tls_t *t, size_t n);
int fs_tls_write(fs_tls_t *t, const uint8_t *buf, size_t len, uint32_t timeout_ms);
int fs_tls_readable(fs_tls_t *t);

// Negotiated protocol ("TLSv1.2") and cipher suite names; 1 if the session was resumed.
const char *fs_tls_version(const fs_tls_t *t);
const char *fs_tls_cipher(const fs_tls_t *t);
int fs_tls_resumed(const fs_tls_t *t);

#endif // FS_TLS_H

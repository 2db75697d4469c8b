// SPDX-License-Identifier: MIT
// fastsock's overlay on mbedTLS 3.6's default config (include/mbedtls/mbedtls_config.h) for
// host builds, included after it via MBEDTLS_USER_CONFIG_FILE (mbedtls/build_info.h). It
// mirrors what ESP-IDF v5.5 (mbedTLS 3.6) and the ESP32 board's sdkconfig set
// (boards/ESP32_NET/sdkconfig.board, docs/tls.md), so host figures mean something.
#ifndef FS_MBEDTLS_USER_CONFIG_H
#define FS_MBEDTLS_USER_CONFIG_H

// FS_TLS_IN_LEN / FS_TLS_OUT_LEN: one place for the record buffer sizes.
#include "fs_config.h"

// Allocation through mbedtls_calloc/free hooks: fastsock counts its own TLS memory and enforces
// its limit there (ESP-IDF builds mbedTLS with this on as well).
#define MBEDTLS_PLATFORM_MEMORY

// Asymmetric record buffers (CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN + ..._IN/OUT_CONTENT_LEN).
#define MBEDTLS_SSL_IN_CONTENT_LEN FS_TLS_IN_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN FS_TLS_OUT_LEN

// Not MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH (off in the default config, and off on the board): it
// only helps once max_fragment_length is negotiated, and with IN > OUT the resized input buffer
// rejects full 16 KB records from nginx ("requesting more data than fits"); see docs/tls.md.

// Left as in the default config, as in ESP-IDF v5.5's defaults:
// - TLS 1.2 (MBEDTLS_SSL_PROTO_TLS1_2) and TLS 1.3 (MBEDTLS_SSL_PROTO_TLS1_3, with the
//   middlebox compatibility mode and all three key exchange modes); 3.x has no TLS 1.0/1.1.
//   TLS 1.3 runs on PSA crypto (MBEDTLS_PSA_CRYPTO_C): fs_tls.c calls psa_crypto_init().
// - Session tickets (MBEDTLS_SSL_SESSION_TICKETS): TLS 1.2 tickets and TLS 1.3
//   NewSessionTicket, used for resumption.
// - MBEDTLS_SSL_KEEP_PEER_CERTIFICATE (CONFIG_MBEDTLS_SSL_KEEP_PEER_CERTIFICATE=y): fastsock
//   does not need the peer certificate after the handshake; turning it off makes remembered
//   sessions smaller.
// - MBEDTLS_SSL_MAX_FRAGMENT_LENGTH: requested when FS_TLS_IN_LEN < 16384.

#endif // FS_MBEDTLS_USER_CONFIG_H

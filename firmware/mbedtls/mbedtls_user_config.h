// fastsock's overlay on mbedTLS 2.28's default config for host builds (included at the end of
// mbedtls/config.h via MBEDTLS_USER_CONFIG_FILE). It mirrors what the ESP32 board sets through
// sdkconfig (boards/ESP32_NET/sdkconfig.board, docs/tls.md), so host figures mean something.
#ifndef FS_MBEDTLS_USER_CONFIG_H
#define FS_MBEDTLS_USER_CONFIG_H

// FS_TLS_IN_LEN / FS_TLS_OUT_LEN: one place for the record buffer sizes.
#include "fs_config.h"

// Allocation through mbedtls_calloc/free hooks: fastsock counts TLS memory and enforces its
// limit there (ESP-IDF builds mbedTLS with this on as well).
#define MBEDTLS_PLATFORM_MEMORY

// Asymmetric record buffers (CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN + ..._IN/OUT_CONTENT_LEN).
#define MBEDTLS_SSL_IN_CONTENT_LEN FS_TLS_IN_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN FS_TLS_OUT_LEN

// Not MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH: it only helps once max_fragment_length is negotiated,
// and in 2.28.3 the resized input buffer rejects full 16 KB records from nginx ("requesting
// more data than fits", seen with a 1 MB download); see docs/tls.md.

// TLS 1.2 only: IDF 5.x has no TLS 1.0/1.1 either (1.3 needs mbedTLS 3.x).
#undef MBEDTLS_SSL_PROTO_TLS1
#undef MBEDTLS_SSL_PROTO_TLS1_1
#undef MBEDTLS_SSL_CBC_RECORD_SPLITTING

#endif // FS_MBEDTLS_USER_CONFIG_H

// SPDX-License-Identifier: MIT
// fastsock build-time limits and feature switches.
// Every value can be overridden with -DNAME=value (or in a board's mpconfigboard.h).
#ifndef FS_CONFIG_H
#define FS_CONFIG_H

// An ESP32 compile that misses ESP-IDF's build-wide definitions takes the host's code paths
// (glibc malloc_usable_size, /etc/ssl CA file) and links anyway: see micropython.cmake.
// (MicroPython's qstr scan, NO_QSTR, preprocesses without them and compiles nothing;
// FS_STANDALONE marks the deliberate compiles outside ESP-IDF: scripts/codesize, tests.)
#if defined(__XTENSA__) && !defined(ESP_PLATFORM) && !defined(NO_QSTR) && !defined(FS_STANDALONE)
#error "fastsock: ESP_PLATFORM is not defined in an Xtensa build; give the module IDF's COMPILE_DEFINITIONS"
#endif

// Largest response head (status line + headers + blank line) accepted: bounds the bytes
// held back before the body starts; nginx's own default for request heads is 8 KB.
#ifndef FS_MAX_HEAD_BYTES
#define FS_MAX_HEAD_BYTES (8192)
#endif

// Most header fields in one head: bounds the caller's fs_hdr_t array (12 bytes each on ILP32,
// 24 on LP64).
#ifndef FS_MAX_HEADERS
#define FS_MAX_HEADERS (48)
#endif

// Longest single line (status line or one header field): a longer one is an attack or a bug.
#ifndef FS_MAX_LINE_BYTES
#define FS_MAX_LINE_BYTES (4096)
#endif

// Interim (1xx) heads skipped before the final response: stops an endless 100-continue feed.
#ifndef FS_MAX_INTERIM_HEADS
#define FS_MAX_INTERIM_HEADS (8)
#endif

// Framing bytes (size lines, extensions, CRLFs, trailers) allowed in one body before the
// overhead ratio applies: small bodies in small chunks are legal.
#ifndef FS_CHUNK_OVERHEAD_FREE
#define FS_CHUNK_OVERHEAD_FREE (1024)
#endif

// Framing bytes allowed per body byte once past FS_CHUNK_OVERHEAD_FREE (slowloris/overhead
// attack: a server feeding framing without data keeps the client busy for nothing).
#ifndef FS_CHUNK_OVERHEAD_RATIO
#define FS_CHUNK_OVERHEAD_RATIO (4)
#endif

// Longest chunk-size line including extensions; real servers send under 20 bytes.
#ifndef FS_MAX_CHUNK_LINE
#define FS_MAX_CHUNK_LINE (256)
#endif

// Total trailer bytes after the last chunk; trailers are read and dropped.
#ifndef FS_MAX_TRAILER_BYTES
#define FS_MAX_TRAILER_BYTES (4096)
#endif

// Scratch for a header field that straddles two receive segments (only such fields are copied).
#ifndef FS_SCRATCH_BYTES
#define FS_SCRATCH_BYTES (512)
#endif

// Scan header values and the end of the head a machine word at a time (portable C, no SIMD).
// Needs cheap unaligned loads; Xtensa (ESP32) has none, so it gets the byte loop instead.
#ifndef FS_WORD_SCAN
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) ||                            \
    defined(__ARM_FEATURE_UNALIGNED)
#define FS_WORD_SCAN (1)
#else
#define FS_WORD_SCAN (0)
#endif
#endif

// Segments handed to the head parser at once; lwIP after loss delivers chains of up to
// TCP_WND / MSS full pbufs, plus small ones.
#ifndef FS_MAX_SEGMENTS
#define FS_MAX_SEGMENTS (16)
#endif

// ---- TLS (https://): mbedTLS between the transport and the engine (fs_tls.c, docs/tls.md).

// Compile TLS in; the builds set it (host Makefile FS_TLS=1, the ESP32 cmake file). Without it
// https:// raises NotImplementedError.
#ifndef FS_TLS
#define FS_TLS (0)
#endif

// Incoming record plaintext mbedTLS buffers (host: MBEDTLS_SSL_IN_CONTENT_LEN via
// firmware/mbedtls; ESP32: CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN). 16 KB: servers send full-size
// records unless max_fragment_length is negotiated (smaller values request it).
#ifndef FS_TLS_IN_LEN
#define FS_TLS_IN_LEN (16384)
#endif

// Outgoing record plaintext (CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN): requests are small; a larger
// upload is simply split into more records.
#ifndef FS_TLS_OUT_LEN
#define FS_TLS_OUT_LEN (4096)
#endif

// Decrypted bytes held for the engine per TLS connection: a whole head plus body behind it
// (the same as the POSIX transport's receive buffer).
#ifndef FS_TLS_RX_BYTES
#define FS_TLS_RX_BYTES (FS_MAX_HEAD_BYTES + 2048)
#endif

// Heap one TLS connection needs at the peak of a full handshake (mbedTLS 3.6 with the defaults,
// docs/tls.md: 43-44 KB on x86_64 for TLS 1.2 / 1.3, 48-50 KB with a new one-CA config of its
// own: record buffers + decrypted buffer + handshake state and the server's chain, plus ~5 KB
// for a longer chain); checked before connecting so a shortage is a clear MemoryError instead
// of a failure mid-handshake.
#ifndef FS_TLS_BUDGET
#define FS_TLS_BUDGET (FS_TLS_IN_LEN + FS_TLS_OUT_LEN + FS_TLS_RX_BYTES + 24576)
#endif

// Servers whose TLS session each TLS config remembers for resumption (a session is ~150 bytes
// plus the peer certificate when MBEDTLS_SSL_KEEP_PEER_CERTIFICATE is on).
#ifndef FS_TLS_SESSIONS
#define FS_TLS_SESSIONS (4)
#endif

// Longest host name kept with a remembered session (longer names are not resumed).
#ifndef FS_TLS_HOST_MAX
#define FS_TLS_HOST_MAX (64)
#endif

// CA bundle used on the host when no ca= is given (Debian's ca-certificates); the ESP32 uses
// ESP-IDF's certificate bundle (esp_crt_bundle_attach) instead.
#ifndef FS_TLS_DEFAULT_CA_FILE
#define FS_TLS_DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#endif

// Longest a wait sleeps before scheduled callbacks (machine.Timer, Pin IRQs,
// micropython.schedule) run and Ctrl-C is seen: one FreeRTOS tick on the ESP32, as its sockets.
#ifndef FS_WAIT_SLICE_MS
#define FS_WAIT_SLICE_MS (10)
#endif

// Version, and the User-Agent sent unless a request names its own.
#define FS_VERSION "0.2.0"
#ifndef FS_USER_AGENT
#define FS_USER_AGENT "fastsock/" FS_VERSION
#endif

#endif // FS_CONFIG_H

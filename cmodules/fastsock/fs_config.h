// fastsock build-time limits and feature switches.
// Every value can be overridden with -DNAME=value (or in a board's mpconfigboard.h).
#ifndef FS_CONFIG_H
#define FS_CONFIG_H

// Largest response head (status line + headers + blank line) accepted: bounds the bytes
// held back before the body starts; nginx's own default for request heads is 8 KB.
#ifndef FS_MAX_HEAD_BYTES
#define FS_MAX_HEAD_BYTES (8192)
#endif

// Most header fields in one head: bounds the caller's fs_hdr_t array (8 bytes each on ILP32).
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
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || defined(__ARM_FEATURE_UNALIGNED)
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

// Version, and the User-Agent sent unless a request names its own.
#define FS_VERSION "0.2.0"
#ifndef FS_USER_AGENT
#define FS_USER_AGENT "fastsock/" FS_VERSION
#endif

#endif // FS_CONFIG_H

// SPDX-License-Identifier: MIT
// fastsock HTTP engine: HTTP/1.1 response-head parser and chunked-body decoder.
// Pure C99: no MicroPython headers, no heap, no I/O. Works over a chain of segments
// (lwIP pbuf payloads on the device, receive-buffer slices on the host).
#ifndef FS_HTTP_H
#define FS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "fs_config.h"

// Parsers return bytes consumed (>= 0), FS_INCOMPLETE or an FS_ERR_* engine code (fs_error.h).
#include "fs_error.h"

// One contiguous run of received bytes; a head may span several.
typedef struct {
    const uint8_t *ptr;
    size_t len;
} fs_seg_t;

// A header field: slices into the segments, or into the scratch when the field straddled a
// segment boundary. Valid while the segments and the scratch are.
typedef struct {
    const char *name;
    const char *value;
    uint16_t name_len;
    uint16_t value_len;
} fs_hdr_t;

// How the body is delimited, decided from status, request method and framing headers.
typedef enum {
    FS_BODY_NONE = 0,    // HEAD request, 204, 304 (and 1xx): no body bytes follow
    FS_BODY_LENGTH = 1,  // Content-Length bytes follow
    FS_BODY_CHUNKED = 2, // chunked coding follows (wins over Content-Length, RFC 9112 6.3)
    FS_BODY_CLOSE = 3,   // body runs until the server closes the connection
} fs_body_kind_t;

// Parse state and result for one response head.
typedef struct {
    // Result, valid when fs_head_parse returned > 0.
    uint64_t content_length; // Content-Length when present (also for HEAD/204/304), else 0
    const char *reason;      // slice, may be empty
    uint16_t reason_len;
    uint16_t status;
    uint16_t num_headers;  // headers filled in the caller's array
    uint8_t minor_version; // 0 or 1
    uint8_t body_kind;     // fs_body_kind_t
    uint8_t keep_alive;    // 1 if the connection may be reused after this response
    // Request facts the caller sets before the first call.
    uint8_t head_request; // 1 if the request was HEAD: no body whatever the headers say
    // Incremental scan state: where the search for the end of the head resumes.
    uint32_t scanned; // chain offset the end-of-head search resumes at
    uint32_t start;   // chain offset of the current head (past skipped 1xx heads)
    uint8_t newlines; // 0 mid-line, 1 just after LF, 2 after LF CR (at `scanned`)
    uint8_t interim;  // 1xx heads skipped so far
} fs_head_t;

// Prepare `h` for a new response; head_request is 1 for a HEAD request.
void fs_head_init(fs_head_t *h, int head_request);

// Parse a response head from the chain segs[0..nsegs) that starts at the response's first
// byte. Interim 1xx responses (except 101) are skipped and counted in the consumed total.
// Call again with the grown chain after FS_INCOMPLETE; the end-of-head search resumes where
// it stopped, so a head fed in n pieces costs O(head) in total.
// headers: caller's array of max_headers entries; scratch: caller's bytes for fields that
// straddle segments. Returns bytes consumed up to the first body byte (> 0), FS_INCOMPLETE,
// or an FS_ERR_* code.
int fs_head_parse(fs_head_t *h, const fs_seg_t *segs, size_t nsegs, fs_hdr_t *headers,
                  size_t max_headers, char *scratch, size_t scratch_len);

// Scratch that always suffices: each straddling field is copied once, and a head within
// FS_MAX_HEAD_BYTES holds all of them. Callers start with FS_SCRATCH_BYTES and, on
// FS_ERR_SCRATCH, parse the same chain again (same h) with this much.
#define FS_HEAD_SCRATCH_ENOUGH (FS_MAX_HEAD_BYTES)

// After FS_INCOMPLETE: the bytes of 1xx heads already skipped, which the caller drops from the
// front of the chain before calling again (so interim heads never pile up in its buffers).
size_t fs_head_drop_interim(fs_head_t *h);

// Resumable chunked-coding decoder. Body bytes are never moved: each step reports where
// the next run of body bytes lies in the input.
typedef struct {
    uint64_t remaining; // body bytes left in the current chunk
    uint64_t overhead;  // framing bytes seen
    uint64_t data;      // body bytes seen
    uint16_t line_len;  // bytes of the current size/trailer line
    uint16_t trailer;   // trailer bytes seen
    uint8_t state;      // internal
    uint8_t done;       // 1 after the last chunk and trailers are consumed
} fs_chunked_t;

void fs_chunked_init(fs_chunked_t *c);

// Decode from in[0..len). Consumes framing bytes up to and including at most one run of
// body bytes, which it reports as in[*data_off .. *data_off + *data_len) (len 0 if none).
// Returns bytes consumed (>= 0; 0 only when len is 0 or c->done) or an FS_ERR_* code.
// Call in a loop until c->done; FS_INCOMPLETE is never returned (0 consumed = need input).
int fs_chunked_step(fs_chunked_t *c, const uint8_t *in, size_t len, size_t *data_off,
                    size_t *data_len);

// Short English text for an FS_* code, for exception messages.
const char *fs_strerror(int code);

// Decimal digits of v into out (NUL-terminated; 21 bytes hold any value); returns the length.
// Numbers are formatted here, not with printf: the ESP32 links newlib-nano, whose printf has
// no %lld/%llu (it printed "Content-Length: ld").
size_t fs_u64_dec(char *out, uint64_t v);

#endif // FS_HTTP_H

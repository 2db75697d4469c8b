// SPDX-License-Identifier: MIT
// fastsock's one code space, shared by every layer (engine, transports, TLS, binding). Plain C:
// the engine and the transports include it without MicroPython. A function returns >= 0 on
// success or one negative code below; fs_error.c turns a code into the Python exception.
#ifndef FS_ERROR_H
#define FS_ERROR_H

//   -1 .. -999    -errno with MicroPython's numbering (-MP_ETIMEDOUT, -MP_ECONNRESET, ...)
//   -1000         not an error: the engine needs more input
//   -1001 ..      the response broke HTTP/1.1 (ProtocolError; LimitError where marked)
//   -1100 ..      the transport (name resolution, capabilities, the total deadline)
//   -1200 ..      TLS (TLSError, MemoryError for NOMEM)
//   -1300 ..      the binding (a call the connection's state does not allow)
#define FS_INCOMPLETE (-1000)

// Engine (fs_http.c).
#define FS_ERR_SYNTAX (-1001)            // malformed status line, header or chunk framing
#define FS_ERR_HEAD_TOO_LARGE (-1002)    // head exceeds FS_MAX_HEAD_BYTES (limit)
#define FS_ERR_TOO_MANY_HEADERS (-1003)  // more than the caller's header capacity (limit)
#define FS_ERR_LINE_TOO_LONG (-1004)     // a line exceeds FS_MAX_LINE_BYTES / CHUNK_LINE (limit)
#define FS_ERR_BAD_LENGTH (-1005)        // Content-Length not digits, overflowing, conflicting
#define FS_ERR_BAD_CHUNK (-1006)         // chunk size not hex, overflowing, or missing CRLF
#define FS_ERR_CHUNK_OVERHEAD (-1007)    // framing bytes out of proportion to body (limit)
#define FS_ERR_UNSUPPORTED (-1008)       // a transfer coding other than chunked
#define FS_ERR_SCRATCH (-1009)           // straddling fields need more scratch than given
#define FS_ERR_TOO_MANY_INTERIM (-1010)  // more than FS_MAX_INTERIM_HEADS 1xx heads (limit)
#define FS_ERR_TRAILER_TOO_LARGE (-1011) // chunked trailers exceed FS_MAX_TRAILER_BYTES (limit)
#define FS_ERR_ENGINE_LAST FS_ERR_TRAILER_TOO_LARGE
// Framing broken by the connection's end (the body layer, fs_body.c).
#define FS_ERR_CLOSED_BEFORE_HEAD (-1020) // closed before any byte of the response
#define FS_ERR_CLOSED_IN_HEAD (-1021)     // closed in the middle of the response head
#define FS_ERR_TRUNCATED (-1022)          // closed before the body's framing said it ends
#define FS_ERR_TLS_TRUNCATED (-1023)      // close-delimited body ended without close_notify

// Transport.
#define FS_ERR_DNS (-1100)          // host name not found
#define FS_ERR_NO_RECV_INTO (-1101) // the stack only lends its own buffers (lwIP): use fill
#define FS_ERR_DEADLINE (-1102)     // the request's total deadline passed
#define FS_ERR_AGAIN (-1103)        // fill made progress without bytes (TLS 1.3 ticket): fill again

// TLS (fs_tls.c).
#define FS_TLS_ERR_VERIFY (-1200)     // the server's certificate was rejected
#define FS_TLS_ERR_HANDSHAKE (-1201)  // no agreement (version, cipher suite, an alert)
#define FS_TLS_ERR_PLAIN_HTTP (-1202) // the server answered in plain text, not TLS
#define FS_TLS_ERR_NOMEM (-1203)      // out of memory (or over fastsock's TLS limit)
#define FS_TLS_ERR_RECORD (-1204)     // a bad record after the handshake
#define FS_TLS_ERR_CA (-1205)         // the CA data holds no usable certificate
#define FS_TLS_ERR_NO_CA (-1206)      // verification asked for, but no default CA store
#define FS_TLS_IS_ERR(code) ((code) <= -1200 && (code) > -1300)

// Binding.
#define FS_ERR_BUSY (-1300)       // the response is in use by another call (re-entry)
#define FS_ERR_WRITE_ZERO (-1301) // save(): the target stream accepted no bytes
#define FS_ERR_DECODE (-1302)     // a gzip/deflate body (Content-Encoding) is corrupt or cut short

// 1 for the engine codes that mean a configured limit was exceeded (LimitError).
static inline int fs_error_is_limit(int code) {
    return code == FS_ERR_HEAD_TOO_LARGE || code == FS_ERR_TOO_MANY_HEADERS ||
           code == FS_ERR_LINE_TOO_LONG || code == FS_ERR_CHUNK_OVERHEAD ||
           code == FS_ERR_TOO_MANY_INTERIM || code == FS_ERR_TRAILER_TOO_LARGE;
}

#endif // FS_ERROR_H

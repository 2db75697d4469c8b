// SPDX-License-Identifier: MIT
// fastsock HTTP engine: response-head parser and chunked decoder (contract in fs_http.h,
// the accepted grammar and every deliberate choice in docs/engine.md).
#include "fs_http.h"

#include <string.h>

// The counters behind each limit are narrow (fs_http.h): a limit they cannot count to would
// wrap and never fire.
_Static_assert(FS_MAX_LINE_BYTES <= 0xffff, "header lengths are uint16_t");
_Static_assert(FS_MAX_HEADERS <= 0xffff, "num_headers is uint16_t");
_Static_assert(FS_MAX_HEAD_BYTES < 0x7fffffff, "head offsets are returned as int");
_Static_assert(FS_MAX_INTERIM_HEADS < 0xff, "interim is uint8_t");
_Static_assert(FS_MAX_CHUNK_LINE < 0xffff, "line_len is uint16_t");
_Static_assert(FS_MAX_TRAILER_BYTES < 0xffff, "trailer is uint16_t");

// Byte classes: 1 = header-name character (RFC 9110 tchar), 2 = SP or HT, 0 = anything else.
// CR, LF and ':' are 0, so the name and whitespace loops stop inside their line.
enum { CLASS_TCHAR = 1, CLASS_OWS = 2 };
static const uint8_t k_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, //
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
    2, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, //
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, //
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, //
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, //
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, //
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, //
};

// ---------------------------------------------------------------------------------------
// Byte searches. Word-at-a-time in portable C when unaligned loads are cheap.

#if FS_WORD_SCAN
typedef size_t fs_word_t;

static const fs_word_t k_ones = (fs_word_t)-1 / 255;

static inline fs_word_t load_word(const uint8_t *p) {
    fs_word_t v;
    memcpy(&v, p, sizeof v); // one unaligned load on the targets that enable FS_WORD_SCAN
    return v;
}

// Index of the lowest flagged byte; only the lowest flag is exact (borrows run upward).
static inline size_t first_flag(fs_word_t m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (sizeof m == sizeof(unsigned long)) {
        return (size_t)__builtin_ctzl((unsigned long)m) >> 3; // ctzll is a libgcc call on ILP32
    }
    return (size_t)__builtin_ctzll((unsigned long long)m) >> 3;
#else
    size_t k = 0;
    while (!(m & ((fs_word_t)0x80 << (8 * k)))) {
        k++;
    }
    return k;
#endif
}
#endif

// First LF in [p, end), or end.
static const uint8_t *find_lf(const uint8_t *p, const uint8_t *end) {
#if FS_WORD_SCAN
    while ((size_t)(end - p) >= sizeof(fs_word_t)) {
        fs_word_t t = load_word(p) ^ (k_ones * '\n');
        fs_word_t m = (t - k_ones) & ~t & (k_ones << 7);
        if (m) {
            return p + first_flag(m);
        }
        p += sizeof(fs_word_t);
    }
#endif
    while (p < end && *p != '\n') {
        p++;
    }
    return p;
}

// First control byte (< 0x20, HT included) or DEL in [p, limit), or limit.
static const uint8_t *skip_text(const uint8_t *p, const uint8_t *limit) {
#if FS_WORD_SCAN
    while ((size_t)(limit - p) >= sizeof(fs_word_t)) {
        // On the low 7 bits no byte carries into the next: x + 0x60 has bit 7 set iff x >= 0x20,
        // x + 1 iff x == 0x7f. Bytes >= 0x80 (obs-text) are masked out.
        fs_word_t v = load_word(p);
        fs_word_t x = v & (k_ones * 0x7f);
        fs_word_t m = (~(x + k_ones * 0x60) | (x + k_ones)) & ~v & (k_ones << 7);
        if (m) {
            return p + first_flag(m);
        }
        p += sizeof(fs_word_t);
    }
#endif
    while (p < limit && *p >= 0x20 && *p != 0x7f) {
        p++;
    }
    return p;
}

// Case-insensitive compare of a token against a lowercase literal of letters and '-';
// `| 0x20` is exact for those because CR (the only byte mapping onto '-') never gets here.
static int token_is(const uint8_t *s, const char *lit, size_t n) {
    for (size_t k = 0; k < n; k++) {
        if ((s[k] | 0x20) != (uint8_t)lit[k]) {
            return 0;
        }
    }
    return 1;
}

// ---------------------------------------------------------------------------------------
// Response head: end-of-head scan.

enum { SCAN_MID = 0, SCAN_LF = 1, SCAN_LFCR = 2 };

static const char k_prefix[] = "HTTP/";

// Search for the end of the current head from h->scanned. Returns the chain offset just past
// the LF that ends the head, FS_INCOMPLETE, FS_ERR_SYNTAX (not "HTTP/") or HEAD_TOO_LARGE.
// The verdict depends only on the bytes, never on how they were split or fed.
static int find_head_end(fs_head_t *h, const fs_seg_t *segs, size_t nsegs) {
    size_t limit = (size_t)h->start + FS_MAX_HEAD_BYTES; // scanning this offset = too large
    size_t off = h->scanned;
    size_t base = 0;
    unsigned st = h->newlines;
    for (size_t i = 0; i < nsegs; base += segs[i].len, i++) {
        size_t n = segs[i].len;
        if (off >= base + n) {
            continue; // scanned in an earlier call
        }
        const uint8_t *s = segs[i].ptr;
        size_t stop = (limit < base + n ? limit : base + n) - base;
        size_t j = off - base;
        // Fail a non-HTTP peer at once instead of after FS_MAX_HEAD_BYTES of garbage.
        while (j < stop && base + j < (size_t)h->start + 5) {
            if (s[j] != (uint8_t)k_prefix[base + j - h->start]) {
                return FS_ERR_SYNTAX;
            }
            j++;
        }
        while (j < stop) {
            if (st != SCAN_MID) {
                uint8_t c = s[j++];
                if (c == '\n') {
                    h->scanned = (uint32_t)(base + j);
                    h->newlines = SCAN_MID;
                    return (int)(base + j);
                }
                st = (c == '\r' && st == SCAN_LF) ? SCAN_LFCR : SCAN_MID;
                continue;
            }
            j = (size_t)(find_lf(s + j, s + stop) - s);
            if (j == stop) {
                break;
            }
            j++;
            st = SCAN_LF;
        }
        off = base + j;
        if (off >= limit) {
            return FS_ERR_HEAD_TOO_LARGE;
        }
    }
    h->scanned = (uint32_t)off;
    h->newlines = (uint8_t)st;
    return FS_INCOMPLETE;
}

// ---------------------------------------------------------------------------------------
// Response head: field parsing once the whole head is known to be present.

// Read position in the chain; it never rests at a segment's end except at the head's end.
typedef struct {
    const fs_seg_t *segs;
    size_t i;           // segment holding p
    const uint8_t *p;   // next byte
    const uint8_t *end; // end of segs[i]
    size_t off;         // chain offset of p
    size_t head_end;    // chain offset just past the head
    char *scratch;      // room for lines that straddle segments
    size_t scratch_left;
} cursor_t;

// Framing facts gathered from the header fields.
typedef struct {
    uint64_t length;
    uint8_t has_length;
    uint8_t te_seen;
    uint8_t te_chunked; // "chunked" seen exactly once and as the only coding
    uint8_t te_other;   // any other coding, or chunked repeated
    uint8_t conn_close;
    uint8_t conn_keep;
} framing_t;

static void cursor_load(cursor_t *c) {
    size_t n = c->segs[c->i].len;
    c->p = c->segs[c->i].ptr;
    c->end = n ? c->p + n : c->p; // NULL + 0 is undefined in C
}

static void cursor_seek(cursor_t *c, size_t off) {
    size_t base = 0;
    c->i = 0;
    while (off >= base + c->segs[c->i].len) {
        base += c->segs[c->i].len;
        c->i++;
    }
    cursor_load(c);
    c->p += off - base;
    c->off = off;
}

// Advance n bytes, hopping (also empty) segments but never past the head's end.
static void cursor_skip(cursor_t *c, size_t n) {
    c->off += n;
    for (;;) {
        size_t left = (size_t)(c->end - c->p);
        if (n < left) {
            c->p += n;
            return;
        }
        n -= left;
        if (n == 0 && c->off == c->head_end) {
            c->p = c->end;
            return;
        }
        c->i++;
        cursor_load(c);
    }
}

// Make the line at the cursor one readable run: in place when its LF is in the current
// segment, else gathered into the scratch. The LF lies before *limit; returns 0 or an error.
static int cursor_line(cursor_t *c, const uint8_t **line, const uint8_t **limit) {
    size_t left = (size_t)(c->end - c->p);
    if (c->head_end - c->off <= left || find_lf(c->p, c->end) != c->end) {
        *line = c->p;
        *limit = c->end;
        return 0;
    }
    // Straddling line: measure through its LF (the scan proved one exists), then copy.
    size_t total = left;
    for (size_t i = c->i + 1;; i++) {
        const uint8_t *s = c->segs[i].ptr;
        size_t n = c->segs[i].len;
        const uint8_t *q = n ? find_lf(s, s + n) : s;
        if (n && q != s + n) {
            total += (size_t)(q - s) + 1;
            break;
        }
        total += n;
    }
    if (total - 1 > FS_MAX_LINE_BYTES) {
        return FS_ERR_LINE_TOO_LONG;
    }
    if (total > c->scratch_left) {
        return FS_ERR_SCRATCH;
    }
    uint8_t *dst = (uint8_t *)c->scratch;
    memcpy(dst, c->p, left);
    for (size_t i = c->i + 1, got = left; got < total; i++) {
        size_t n = c->segs[i].len;
        if (n > total - got) {
            n = total - got;
        }
        if (n) {
            memcpy(dst + got, c->segs[i].ptr, n);
        }
        got += n;
    }
    c->scratch += total;
    c->scratch_left -= total;
    *line = dst;
    *limit = dst + total;
    return 0;
}

// An error found inside a line yields to "line too long", so the verdict is the same whether
// the line was parsed in place or measured first for the scratch.
static int line_error(const uint8_t *line, const uint8_t *limit, int err) {
    if ((size_t)(find_lf(line, limit) - line) > FS_MAX_LINE_BYTES) {
        return FS_ERR_LINE_TOO_LONG;
    }
    return err;
}

// The line parsers below read [p, end) where some byte of class 0 lies before end: a line's
// LF, or the sentinel the one-pass path finds. That bounds the name and whitespace loops; the
// rest is checked against end. FS_INCOMPLETE from them means "ran out of [p, end)".

// Move past the line end at *pp (CR LF or a bare LF). Returns 0, FS_INCOMPLETE or SYNTAX.
static int line_end(const uint8_t **pp, const uint8_t *end) {
    const uint8_t *p = *pp;
    if (*p == '\r' && ++p == end) {
        return FS_INCOMPLETE;
    }
    if (*p != '\n') {
        return FS_ERR_SYNTAX; // a control byte, DEL or a bare CR
    }
    *pp = p + 1;
    return 0;
}

// status-line = "HTTP/1." DIGIT SP 3DIGIT [ SP reason ] line-end. The SP before an empty
// reason may be missing, as some embedded servers send "HTTP/1.1 200\r\n".
static int parse_status(fs_head_t *h, const uint8_t *line, const uint8_t *end,
                        const uint8_t **next) {
    static const char k_version[] = "HTTP/1.";
    const uint8_t *p = line;
    if (end - p < 13) {
        return FS_INCOMPLETE; // shorter than "HTTP/1.1 200" and a LF
    }
    for (size_t k = 0; k < sizeof k_version - 1; k++) {
        if (p[k] != (uint8_t)k_version[k]) {
            return FS_ERR_SYNTAX;
        }
    }
    p += sizeof k_version - 1;
    if (p[0] < '0' || p[0] > '9' || p[1] != ' ') {
        return FS_ERR_SYNTAX;
    }
    // RFC 9112 2.3: a higher 1.x minor is treated as the highest we implement, 1.1.
    uint8_t minor = p[0] != '0';
    p += 2;
    if (p[0] < '1' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9') {
        return FS_ERR_SYNTAX;
    }
    unsigned status = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 + (p[2] - '0');
    p += 3;
    const uint8_t *reason = p;
    if (*p == ' ') {
        reason = ++p;
        for (p = skip_text(p, end); p < end && *p == '\t'; p = skip_text(p + 1, end)) {
        }
        if (p == end) {
            return FS_INCOMPLETE;
        }
    }
    const uint8_t *rend = p;
    int r = line_end(&p, end);
    if (r) {
        return r;
    }
    if ((size_t)(p - 1 - line) > FS_MAX_LINE_BYTES) {
        return FS_ERR_LINE_TOO_LONG;
    }
    h->minor_version = minor;
    h->status = (uint16_t)status;
    h->reason = (const char *)reason;
    h->reason_len = (uint16_t)(rend - reason);
    *next = p;
    return 0;
}

// Next comma-separated list element of v[0..len) from *pos, OWS trimmed; 0 when done.
// An empty value yields one empty element.
static int next_element(const uint8_t *v, size_t len, size_t *pos, const uint8_t **e,
                        size_t *elen) {
    size_t a = *pos;
    if (a > len) {
        return 0;
    }
    size_t b = a;
    while (b < len && v[b] != ',') {
        b++;
    }
    *pos = b + 1;
    while (a < b && (v[a] == ' ' || v[a] == '\t')) {
        a++;
    }
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t')) {
        b--;
    }
    *e = v + a;
    *elen = b - a;
    return 1;
}

// Content-Length: digits only, overflow-checked; "5, 5" and repeated fields must all agree
// (RFC 9110 8.6 lets a recipient accept a list of identical values).
static int on_content_length(framing_t *f, const uint8_t *v, size_t len) {
    size_t pos = 0;
    const uint8_t *e;
    size_t elen;
    while (next_element(v, len, &pos, &e, &elen)) {
        if (elen == 0) {
            return FS_ERR_BAD_LENGTH;
        }
        size_t k = 0;
        while (k < elen - 1 && e[k] == '0') {
            k++; // leading zeros
        }
        if (elen - k > 20) {
            return FS_ERR_BAD_LENGTH; // 2^64 has 20 digits
        }
        uint64_t x = 0;
        for (; k < elen; k++) {
            unsigned d = (unsigned)e[k] - '0';
            // Only a 20th digit can overflow: check it against UINT64_MAX / 10 and % 10.
            if (d > 9 || (x >= 1844674407370955161u && (x > 1844674407370955161u || d > 5))) {
                return FS_ERR_BAD_LENGTH;
            }
            x = x * 10 + d;
        }
        if (f->has_length && x != f->length) {
            return FS_ERR_BAD_LENGTH;
        }
        f->has_length = 1;
        f->length = x;
    }
    return 0;
}

// Transfer-Encoding: the only coding we decode is a single final "chunked"; lists from
// repeated fields concatenate, empty elements are ignored (RFC 9110 5.6.1).
static void on_transfer_encoding(framing_t *f, const uint8_t *v, size_t len) {
    size_t pos = 0;
    const uint8_t *e;
    size_t elen;
    f->te_seen = 1;
    while (next_element(v, len, &pos, &e, &elen)) {
        if (elen == 0) {
            continue;
        }
        if (elen == 7 && token_is(e, "chunked", 7) && !f->te_chunked && !f->te_other) {
            f->te_chunked = 1;
        } else {
            f->te_other = 1; // gzip etc., or anything after chunked: not decodable here
        }
    }
}

static void on_connection(framing_t *f, const uint8_t *v, size_t len) {
    size_t pos = 0;
    const uint8_t *e;
    size_t elen;
    while (next_element(v, len, &pos, &e, &elen)) {
        if (elen == 5 && token_is(e, "close", 5)) {
            f->conn_close = 1;
        } else if (elen == 10 && token_is(e, "keep-alive", 10)) {
            f->conn_keep = 1;
        }
    }
}

// Interpret the framing headers; the switch on length keeps other names to one compare.
static int on_field(framing_t *f, const uint8_t *name, size_t nlen, const uint8_t *v, size_t vlen) {
    switch (nlen) {
        case 10:
            if (token_is(name, "connection", 10)) {
                on_connection(f, v, vlen);
            }
            return 0;
        case 14:
            if (token_is(name, "content-length", 14)) {
                return on_content_length(f, v, vlen);
            }
            return 0;
        case 17:
            if (token_is(name, "transfer-encoding", 17)) {
                on_transfer_encoding(f, v, vlen);
            }
            return 0;
        default:
            return 0;
    }
}

// field-line = token ":" OWS value OWS line-end. A line starting with SP/HT (obs-fold) or
// with whitespace before the colon has no valid token and is rejected (RFC 9112 5.1, 5.2).
static int parse_field(framing_t *f, fs_hdr_t *hd, const uint8_t *line, const uint8_t *end,
                       const uint8_t **next) {
    const uint8_t *p = line;
    // Four bytes per round: names are short, so the loop overhead matters.
    while (k_class[p[0]] == CLASS_TCHAR) {
        if (k_class[p[1]] != CLASS_TCHAR) {
            p += 1;
            break;
        }
        if (k_class[p[2]] != CLASS_TCHAR) {
            p += 2;
            break;
        }
        if (k_class[p[3]] != CLASS_TCHAR) {
            p += 3;
            break;
        }
        p += 4;
    }
    if (*p != ':' || p == line) {
        return FS_ERR_SYNTAX;
    }
    size_t name_len = (size_t)(p - line);
    if (++p == end) {
        return FS_INCOMPLETE;
    }
    while (k_class[*p] == CLASS_OWS) {
        p++; // stops at the run's last byte at the latest: it is of class 0
    }
    const uint8_t *v = p;
    for (p = skip_text(p, end); p < end && *p == '\t'; p = skip_text(p + 1, end)) {
    }
    if (p == end) {
        return FS_INCOMPLETE;
    }
    const uint8_t *vend = p;
    int r = line_end(&p, end);
    if (r) {
        return r;
    }
    if ((size_t)(p - 1 - line) > FS_MAX_LINE_BYTES) {
        return FS_ERR_LINE_TOO_LONG;
    }
    while (vend > v && k_class[vend[-1]] == CLASS_OWS) {
        vend--;
    }
    hd->name = (const char *)line;
    hd->name_len = (uint16_t)name_len;
    hd->value = (const char *)v;
    hd->value_len = (uint16_t)(vend - v);
    *next = p;
    return on_field(f, line, name_len, v, (size_t)(vend - v));
}

// Decide body framing and reuse (RFC 9112 6.3, 9.3) once all fields are in.
static void finish_head(fs_head_t *h, const framing_t *f, size_t n) {
    unsigned st = h->status;
    uint8_t body;
    h->num_headers = (uint16_t)n;
    h->content_length = f->has_length ? f->length : 0;
    if (h->head_request || st < 200 || st == 204 || st == 304) {
        body = FS_BODY_NONE;
    } else if (f->te_seen) {
        body = FS_BODY_CHUNKED; // undecodable codings were rejected by the caller
    } else if (f->has_length) {
        body = FS_BODY_LENGTH;
    } else {
        body = FS_BODY_CLOSE;
    }
    int keep = h->minor_version ? !f->conn_close : (f->conn_keep && !f->conn_close);
    // TE with CL (smuggling sign) or TE in HTTP/1.0 (RFC 9112 6.1): use it, then close.
    if (st == 101 || body == FS_BODY_CLOSE ||
        (f->te_seen && (f->has_length || !h->minor_version))) {
        keep = 0;
    }
    h->body_kind = body;
    h->keep_alive = (uint8_t)keep;
}

enum { HEAD_FINAL = 0, HEAD_INTERIM = 1 };

// What a complete head means: HEAD_FINAL, HEAD_INTERIM (1xx but 101) or FS_ERR_UNSUPPORTED.
static int head_verdict(fs_head_t *h, const framing_t *f, size_t n) {
    unsigned st = h->status;
    if (st < 200 && st != 101) {
        return HEAD_INTERIM;
    }
    // Undecodable codings only matter when a body follows.
    if (f->te_seen && !(f->te_chunked && !f->te_other) && !h->head_request && st >= 200 &&
        st != 204 && st != 304) {
        return FS_ERR_UNSUPPORTED;
    }
    finish_head(h, f, n);
    return HEAD_FINAL;
}

// One-pass parse of a head lying in [start, end) (class-0 byte before end). Returns the
// head's length with *kind set from head_verdict, FS_INCOMPLETE, or an error.
static int parse_run(fs_head_t *h, const uint8_t *start, const uint8_t *end, fs_hdr_t *headers,
                     size_t max_headers, int *kind) {
    framing_t f;
    const uint8_t *p;
    size_t n = 0;
    memset(&f, 0, sizeof f);
    int r = parse_status(h, start, end, &p);
    if (r) {
        return r;
    }
    for (;;) {
        if (p == end) {
            return FS_INCOMPLETE;
        }
        if (*p == '\r' || *p == '\n') {
            r = line_end(&p, end);
            if (r) {
                return r;
            }
            break;
        }
        if (n == max_headers) {
            return FS_ERR_TOO_MANY_HEADERS;
        }
        r = parse_field(&f, &headers[n], p, end, &p);
        if (r) {
            return r;
        }
        n++;
    }
    *kind = head_verdict(h, &f, n);
    return (int)(p - start);
}

// Fast path, tried before any scanning of a head: parse it in one pass if it lies whole in
// the segment where it starts. Returns the chain offset past it (*kind set), or 0 to leave
// the verdict to the general path (head not all here, or any error: errors are reported only
// once the scan has proved the head complete, so they never depend on segmentation).
static int parse_fast(fs_head_t *h, const fs_seg_t *segs, size_t nsegs, fs_hdr_t *headers,
                      size_t max_headers, int *kind) {
    size_t base = 0, i = 0;
    while (i < nsegs && h->start >= base + segs[i].len) {
        base += segs[i].len;
        i++;
    }
    if (i == nsegs) {
        return 0;
    }
    const uint8_t *p = segs[i].ptr + (h->start - base);
    const uint8_t *end = segs[i].ptr + segs[i].len;
    // End the run at a class-0 byte near the segment's end (usually the head's last LF).
    for (int k = 0; k_class[end[-1]] != 0; k++) {
        if (k == 64 || --end == p) {
            return 0;
        }
    }
    int r = parse_run(h, p, end, headers, max_headers, kind);
    if (r <= 0 || *kind < 0 || r > FS_MAX_HEAD_BYTES) {
        return 0;
    }
    h->scanned = h->start + (uint32_t)r;
    return (int)h->scanned;
}

// General path: parse the complete head [h->start, head_end), line by line across segments.
// Returns HEAD_FINAL, HEAD_INTERIM or an error.
static int parse_head(fs_head_t *h, cursor_t *c, fs_hdr_t *headers, size_t max_headers) {
    const uint8_t *line, *limit, *next;
    framing_t f;
    size_t n = 0;
    memset(&f, 0, sizeof f);
    int r = cursor_line(c, &line, &limit);
    if (r) {
        return r;
    }
    r = parse_status(h, line, limit, &next);
    if (r) {
        // The line's LF is in the run, so running out means the line is too short.
        return line_error(line, limit, r == FS_INCOMPLETE ? FS_ERR_SYNTAX : r);
    }
    cursor_skip(c, (size_t)(next - line));
    for (;;) {
        uint8_t ch = *c->p;
        if (ch == '\n' || ch == '\r') {
            // The scan stopped at the first empty line, so an empty line is the head's end;
            // a CR not followed by that LF is a bare CR.
            if (ch == '\r' && c->off + 2 != c->head_end) {
                return FS_ERR_SYNTAX;
            }
            break;
        }
        if (n == max_headers) {
            return FS_ERR_TOO_MANY_HEADERS;
        }
        r = cursor_line(c, &line, &limit);
        if (r) {
            return r;
        }
        r = parse_field(&f, &headers[n], line, limit, &next);
        if (r) {
            return line_error(line, limit, r == FS_INCOMPLETE ? FS_ERR_SYNTAX : r);
        }
        n++;
        cursor_skip(c, (size_t)(next - line));
    }
    return head_verdict(h, &f, n);
}

void fs_head_init(fs_head_t *h, int head_request) {
    memset(h, 0, sizeof *h);
    h->head_request = head_request ? 1 : 0;
}

int fs_head_parse(fs_head_t *h, const fs_seg_t *segs, size_t nsegs, fs_hdr_t *headers,
                  size_t max_headers, char *scratch, size_t scratch_len) {
    for (;;) {
        int kind = HEAD_FINAL;
        int end =
            h->scanned == h->start ? parse_fast(h, segs, nsegs, headers, max_headers, &kind) : 0;
        if (end == 0) {
            uint32_t scanned = h->scanned;
            uint8_t newlines = h->newlines;
            end = find_head_end(h, segs, nsegs);
            if (end < 0) {
                return end;
            }
            cursor_t c;
            c.segs = segs;
            c.head_end = (size_t)end;
            c.scratch = scratch;
            c.scratch_left = scratch_len;
            cursor_seek(&c, h->start);
            kind = parse_head(h, &c, headers, max_headers);
            if (kind < 0) {
                // A caller may retry (FS_ERR_SCRATCH with more scratch): the end is found again.
                h->scanned = scanned;
                h->newlines = newlines;
                return kind;
            }
        }
        if (kind == HEAD_FINAL) {
            return end;
        }
        // 1xx: drop it (its fields and scratch use too) and look for the next head.
        if (++h->interim > FS_MAX_INTERIM_HEADS) {
            return FS_ERR_TOO_MANY_INTERIM;
        }
        h->start = (uint32_t)end;
        h->scanned = (uint32_t)end;
        h->newlines = SCAN_MID;
    }
}

size_t fs_head_drop_interim(fs_head_t *h) {
    size_t n = h->start;
    h->scanned -= h->start;
    h->start = 0;
    return n;
}

// ---------------------------------------------------------------------------------------
// Chunked transfer coding (RFC 9112 7.1). Framing is walked byte by byte; data runs are
// reported in O(1). Chunk framing needs CR LF (as in llhttp and h11); heads accept bare LF.

enum {
    CK_SIZE_FIRST, // first hex digit of a chunk-size line
    CK_SIZE,       // more hex digits
    CK_SIZE_WS,    // BWS after the size
    CK_EXT,        // chunk extension, skipped
    CK_SIZE_LF,    // LF ending the size line
    CK_DATA,       // chunk data
    CK_DATA_CR,    // CR after chunk data
    CK_DATA_LF,    // LF after chunk data
    CK_TRAILER,    // start of a trailer line or of the final empty line
    CK_TNAME,      // trailer field name
    CK_TVALUE,     // trailer field value
    CK_TLF,        // LF ending a trailer line
    CK_END_LF,     // LF of the final empty line
    CK_DONE,
};

static int hex_value(uint8_t ch) {
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch |= 0x20;
    return (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
}

// Checked at each framing line's end, so the verdict does not depend on the input's splits.
static int overhead_ok(const fs_chunked_t *c) {
    return c->overhead <= FS_CHUNK_OVERHEAD_FREE + (uint64_t)FS_CHUNK_OVERHEAD_RATIO * c->data;
}

void fs_chunked_init(fs_chunked_t *c) {
    memset(c, 0, sizeof *c);
}

enum { LINE_DONE = 1 };

// One framing byte; returns 0, LINE_DONE when it ended a framing line, or an error.
static int chunk_framing(fs_chunked_t *c, uint8_t ch) {
    int d;
    switch (c->state) {
        case CK_SIZE_FIRST:
            d = hex_value(ch);
            if (d < 0) {
                return FS_ERR_BAD_CHUNK;
            }
            c->remaining = (uint64_t)d;
            c->line_len = 1;
            c->state = CK_SIZE;
            return 0;
        case CK_SIZE:
        case CK_SIZE_WS:
        case CK_EXT:
            if (ch == '\r') {
                c->state = CK_SIZE_LF;
                return 0;
            }
            if (++c->line_len > FS_MAX_CHUNK_LINE) {
                return FS_ERR_LINE_TOO_LONG;
            }
            if (c->state == CK_EXT) {
                // Extensions are ignored; only bytes that could break framing are refused.
                return (ch < 0x20 && ch != '\t') || ch == 0x7f ? FS_ERR_BAD_CHUNK : 0;
            }
            if (ch == ';') {
                c->state = CK_EXT;
                return 0;
            }
            if (ch == ' ' || ch == '\t') {
                c->state = CK_SIZE_WS;
                return 0;
            }
            d = hex_value(ch);
            // More than 15 significant hex digits would not fit the 60-bit budget.
            if (d < 0 || c->state != CK_SIZE || (c->remaining >> 56) != 0) {
                return FS_ERR_BAD_CHUNK;
            }
            c->remaining = (c->remaining << 4) | (uint64_t)d;
            return 0;
        case CK_SIZE_LF:
            if (ch != '\n') {
                return FS_ERR_BAD_CHUNK;
            }
            c->state = c->remaining ? CK_DATA : CK_TRAILER;
            return LINE_DONE;
        case CK_DATA_CR:
            if (ch != '\r') {
                return FS_ERR_BAD_CHUNK;
            }
            c->state = CK_DATA_LF;
            return 0;
        case CK_DATA_LF:
            if (ch != '\n') {
                return FS_ERR_BAD_CHUNK;
            }
            c->state = CK_SIZE_FIRST;
            return LINE_DONE;
        default:
            break;
    }
    // Trailer section: fields are validated like header fields, then dropped.
    if (++c->trailer > FS_MAX_TRAILER_BYTES) {
        return FS_ERR_TRAILER_TOO_LARGE;
    }
    switch (c->state) {
        case CK_TRAILER:
            if (ch == '\r') {
                c->state = CK_END_LF;
                return 0;
            }
            c->state = CK_TNAME;
            return k_class[ch] == CLASS_TCHAR ? 0 : FS_ERR_SYNTAX;
        case CK_TNAME:
            if (ch == ':') {
                c->state = CK_TVALUE;
                return 0;
            }
            return k_class[ch] == CLASS_TCHAR ? 0 : FS_ERR_SYNTAX;
        case CK_TVALUE:
            if (ch == '\r') {
                c->state = CK_TLF;
                return 0;
            }
            return (ch < 0x20 && ch != '\t') || ch == 0x7f ? FS_ERR_SYNTAX : 0;
        case CK_TLF:
            if (ch != '\n') {
                return FS_ERR_SYNTAX;
            }
            c->state = CK_TRAILER;
            return LINE_DONE;
        case CK_END_LF:
            if (ch != '\n') {
                return FS_ERR_BAD_CHUNK;
            }
            c->state = CK_DONE;
            c->done = 1;
            return LINE_DONE;
        default:
            return FS_ERR_BAD_CHUNK;
    }
}

// Report in[i .. i + n) as body bytes, n bounded by the chunk; returns the consumed count.
static int data_run(fs_chunked_t *c, size_t i, size_t len, size_t *data_off, size_t *data_len) {
    size_t n = len - i;
    if (c->remaining < n) {
        n = (size_t)c->remaining;
    }
    *data_off = i;
    *data_len = n;
    c->remaining -= n;
    c->data += n;
    if (!c->remaining) {
        c->state = CK_DATA_CR;
    }
    return (int)(i + n);
}

int fs_chunked_step(fs_chunked_t *c, const uint8_t *in, size_t len, size_t *data_off,
                    size_t *data_len) {
    if (len > INT32_MAX) {
        len = INT32_MAX; // the consumed count must fit the int result
    }
    if (c->state == CK_DATA && len) {
        return data_run(c, 0, len, data_off, data_len); // mid-chunk: the common call
    }
    *data_off = 0;
    *data_len = 0;
    size_t i = 0, mark = 0; // framing bytes in[mark..i) are not yet in c->overhead
    while (i < len && !c->done) {
        if (c->state == CK_DATA) {
            c->overhead += i - mark;
            return data_run(c, i, len, data_off, data_len);
        }
        int r = chunk_framing(c, in[i++]);
        if (r == LINE_DONE) {
            c->overhead += i - mark;
            mark = i;
            if (!overhead_ok(c)) {
                return FS_ERR_CHUNK_OVERHEAD;
            }
        } else if (r) {
            return r;
        }
    }
    c->overhead += i - mark;
    return (int)i;
}

const char *fs_strerror(int code) {
    switch (code) {
        case FS_INCOMPLETE:
            return "incomplete";
        case FS_ERR_SYNTAX:
            return "malformed HTTP response";
        case FS_ERR_HEAD_TOO_LARGE:
            return "response head too large";
        case FS_ERR_TOO_MANY_HEADERS:
            return "too many header fields";
        case FS_ERR_LINE_TOO_LONG:
            return "header or chunk line too long";
        case FS_ERR_BAD_LENGTH:
            return "invalid or conflicting Content-Length";
        case FS_ERR_BAD_CHUNK:
            return "malformed chunked body";
        case FS_ERR_CHUNK_OVERHEAD:
            return "chunk framing out of proportion to data";
        case FS_ERR_UNSUPPORTED:
            return "unsupported transfer coding";
        case FS_ERR_SCRATCH:
            return "header scratch space exhausted";
        case FS_ERR_TOO_MANY_INTERIM:
            return "too many 1xx interim responses";
        case FS_ERR_TRAILER_TOO_LARGE:
            return "chunked trailers too large";
        default:
            return code >= 0 ? "ok" : "unknown error";
    }
}

size_t fs_u64_dec(char *out, uint64_t v) {
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    out[n] = '\0';
    return n;
}

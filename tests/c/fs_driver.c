// SPDX-License-Identifier: MIT
// Differential-test driver for the engine: for each argument "g:FILE" (GET) or "h:FILE"
// (HEAD) parse the response in FILE and print one canonical JSON line (see drv_json.h).
// Optional "--split=N": feed the head as segments of N bytes, growing, to exercise resumption.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_json.h"
#include "fs_http.h"

static const char *kind_name(int k) {
    static const char *const names[] = { "none", "length", "chunked", "close" };
    return names[k & 3];
}

static void run(const uint8_t *in, size_t len, int head_request, size_t split) {
    fs_head_t h;
    fs_hdr_t hdrs[FS_MAX_HEADERS];
    static char scratch[FS_MAX_HEAD_BYTES + 16];
    static fs_seg_t segs[FS_MAX_HEAD_BYTES * 10];
    int r = FS_INCOMPLETE;
    fs_head_init(&h, head_request);
    if (split == 0) {
        fs_seg_t seg = { in, len };
        r = fs_head_parse(&h, &seg, 1, hdrs, FS_MAX_HEADERS, scratch, sizeof scratch);
    } else {
        size_t n = 0;
        for (size_t pos = 0; pos < len && r == FS_INCOMPLETE && n < sizeof segs / sizeof segs[0];) {
            size_t piece = len - pos < split ? len - pos : split;
            segs[n].ptr = in + pos;
            segs[n++].len = piece;
            pos += piece;
            r = fs_head_parse(&h, segs, n, hdrs, FS_MAX_HEADERS, scratch, sizeof scratch);
        }
    }
    if (r < 0) {
        json_verdict(r == FS_INCOMPLETE ? "incomplete" : "error", r, fs_strerror(r));
        return;
    }
    // Body per the head's framing.
    static uint8_t body[1 << 22];
    size_t blen = 0;
    const uint8_t *rest = in + r;
    size_t rlen = len - (size_t)r;
    const char *verdict = "ok";
    int code = 0;
    if (h.body_kind == FS_BODY_LENGTH) {
        if (rlen < h.content_length) {
            verdict = "incomplete";
        } else {
            blen = (size_t)h.content_length;
            memcpy(body, rest, blen);
        }
    } else if (h.body_kind == FS_BODY_CLOSE) {
        blen = rlen < sizeof body ? rlen : sizeof body;
        memcpy(body, rest, blen);
    } else if (h.body_kind == FS_BODY_CHUNKED) {
        fs_chunked_t c;
        fs_chunked_init(&c);
        size_t off = 0;
        while (off < rlen && !c.done) {
            size_t doff, dlen;
            size_t piece = split ? (rlen - off < split ? rlen - off : split) : rlen - off;
            int k = fs_chunked_step(&c, rest + off, piece, &doff, &dlen);
            if (k < 0) {
                verdict = "error";
                code = k;
                break;
            }
            if (blen + dlen <= sizeof body) {
                memcpy(body + blen, rest + off + doff, dlen);
                blen += dlen;
            }
            off += (size_t)k;
        }
        if (!code && !c.done) {
            verdict = "incomplete";
        }
    }
    if (strcmp(verdict, "ok") != 0) {
        json_verdict(verdict, code, code ? fs_strerror(code) : "body");
        return;
    }
    json_begin_ok(h.status, h.minor_version, h.reason, h.reason_len);
    for (unsigned i = 0; i < h.num_headers; i++) {
        json_header(i, hdrs[i].name, hdrs[i].name_len, hdrs[i].value, hdrs[i].value_len);
    }
    json_end_ok(kind_name(h.body_kind), h.keep_alive, h.interim, body, blen);
}

int main(int argc, char **argv) {
    size_t split = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--split=", 8) == 0) {
            split = (size_t)strtoul(argv[i] + 8, NULL, 10);
            continue;
        }
        size_t len;
        uint8_t *in = read_case(argv[i] + 2, &len);
        run(in, len, argv[i][0] == 'h', split);
        free(in);
    }
    return 0;
}

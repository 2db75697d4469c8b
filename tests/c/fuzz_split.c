// SPDX-License-Identifier: MIT
// libFuzzer target: the head parser's and chunked decoder's verdicts must not depend on how
// the input is split. Input: 4 bytes of split seed, then the response.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_http.h"

#define MAXSEG 64

// Canonical result text of one head parse.
static void summary(char *out, size_t cap, int r, const fs_head_t *h, const fs_hdr_t *hd) {
    if (r <= 0) {
        snprintf(out, cap, "%d", r); // the result fields are only defined on success
        return;
    }
    int n = snprintf(out, cap, "%d %u %u %u %u %llu %u %u %.*s", r, h->status, h->minor_version,
                     h->body_kind, h->keep_alive, (unsigned long long)h->content_length, h->interim,
                     h->num_headers, r > 0 ? (int)h->reason_len : 0, r > 0 ? h->reason : "");
    for (unsigned i = 0; r > 0 && i < h->num_headers && n > 0 && (size_t)n < cap; i++) {
        n += snprintf(out + n, cap - (size_t)n, "|%.*s=%.*s", hd[i].name_len, hd[i].name,
                      hd[i].value_len, hd[i].value);
    }
}

static char s_whole[1 << 16], s_split[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) {
        return 0;
    }
    uint32_t seed;
    memcpy(&seed, data, 4);
    data += 4;
    size -= 4;
    static fs_hdr_t hd[FS_MAX_HEADERS];
    static char scratch[FS_HEAD_SCRATCH_ENOUGH];
    fs_head_t h;

    fs_seg_t whole = { data, size };
    fs_head_init(&h, seed & 1);
    int r = fs_head_parse(&h, &whole, 1, hd, FS_MAX_HEADERS, scratch, sizeof scratch);
    summary(s_whole, sizeof s_whole, r, &h, hd);

    // Random chain (some empty pieces), parsed as it grows.
    fs_seg_t segs[MAXSEG];
    size_t nseg = 0, pos = 0;
    uint32_t x = seed | 1;
    int r2 = FS_INCOMPLETE;
    fs_head_init(&h, seed & 1);
    while (r2 == FS_INCOMPLETE && nseg < MAXSEG) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t piece = nseg == MAXSEG - 1 ? size - pos : (x % 5 == 0 ? 0 : x % 97);
        if (piece > size - pos) {
            piece = size - pos;
        }
        segs[nseg].ptr = data + pos;
        segs[nseg++].len = piece;
        pos += piece;
        // The shipped scratch protocol (fs_body.c): FS_SCRATCH_BYTES, then enough on FS_ERR_SCRATCH.
        r2 = fs_head_parse(&h, segs, nseg, hd, FS_MAX_HEADERS, scratch, FS_SCRATCH_BYTES);
        if (r2 == FS_ERR_SCRATCH) {
            r2 = fs_head_parse(&h, segs, nseg, hd, FS_MAX_HEADERS, scratch, sizeof scratch);
        }
        if (pos == size) {
            break;
        }
    }
    summary(s_split, sizeof s_split, r2, &h, hd);
    if (strcmp(s_whole, s_split) != 0) {
        fprintf(stderr, "whole: %s\nsplit: %s\n", s_whole, s_split);
        abort();
    }

    // Chunked: whole vs pieces.
    for (int pass = 0; pass < 2; pass++) {
        fs_chunked_t c;
        fs_chunked_init(&c);
        uint64_t sum = 0;
        size_t used = 0;
        int err = 0;
        uint32_t y = seed;
        for (size_t p = 0; p < size && !c.done && !err;) {
            y = y * 1103515245u + 12345u;
            size_t n = pass == 0 ? size : 1 + (y >> 16) % 13;
            if (n > size - p) {
                n = size - p;
            }
            size_t off = 0;
            while (off < n && !c.done) {
                size_t doff, dlen;
                int k = fs_chunked_step(&c, data + p + off, n - off, &doff, &dlen);
                if (k < 0) {
                    err = k;
                    break;
                }
                for (size_t i = 0; i < dlen; i++) {
                    sum = sum * 31 + data[p + off + doff + i];
                }
                off += (size_t)k;
            }
            p += off;
            used = p;
        }
        static uint64_t ref_sum;
        static size_t ref_used;
        static int ref_err, ref_done;
        if (pass == 0) {
            ref_sum = sum;
            ref_used = used;
            ref_err = err;
            ref_done = c.done;
        } else if (err != ref_err ||
                   (!err && (sum != ref_sum || used != ref_used || c.done != ref_done))) {
            abort();
        }
    }
    return 0;
}

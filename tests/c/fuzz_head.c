// SPDX-License-Identifier: MIT
// libFuzzer target: response-head parser on arbitrary bytes (first byte picks options), then
// the chunked decoder on what follows a chunked head. Checks the result invariants.
#include <stdlib.h>
#include <string.h>

#include "fs_http.h"

static int inside(const char *p, size_t n, const void *base, size_t len) {
    const char *b = base;
    return p >= b && p + n <= b + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) {
        return 0;
    }
    uint8_t opt = data[0];
    data++;
    size--;
    fs_hdr_t hdrs[FS_MAX_HEADERS];
    char scratch[FS_SCRATCH_BYTES];
    fs_head_t h;
    fs_seg_t seg = { data, size };
    size_t max_headers = (opt & 0x40) ? 4 : FS_MAX_HEADERS;
    fs_head_init(&h, opt & 1);
    int r = fs_head_parse(&h, &seg, 1, hdrs, max_headers, scratch, sizeof scratch);
    // Consumed bytes, FS_INCOMPLETE or an engine code: nothing else.
    if (r == 0 || (r < 0 && r != FS_INCOMPLETE && (r > FS_ERR_SYNTAX || r < FS_ERR_ENGINE_LAST)) ||
        (size_t)(r > 0 ? r : 0) > size) {
        abort();
    }
    if (r < 0) {
        return 0;
    }
    if (h.num_headers > max_headers || h.body_kind > FS_BODY_CLOSE ||
        (h.body_kind == FS_BODY_CLOSE && h.keep_alive) || h.status < 100 || h.status > 999 ||
        !inside(h.reason, h.reason_len, data, size)) {
        abort();
    }
    for (unsigned i = 0; i < h.num_headers; i++) {
        if (hdrs[i].name_len == 0 || !inside(hdrs[i].name, hdrs[i].name_len, data, (size_t)r) ||
            !inside(hdrs[i].value, hdrs[i].value_len, data, (size_t)r)) {
            abort();
        }
    }
    if (h.body_kind == FS_BODY_CHUNKED) {
        fs_chunked_t c;
        fs_chunked_init(&c);
        size_t off = (size_t)r;
        while (off < size && !c.done) {
            size_t doff, dlen;
            int k = fs_chunked_step(&c, data + off, size - off, &doff, &dlen);
            if (k < 0) {
                break;
            }
            if (k == 0 || (size_t)k > size - off || doff + dlen > (size_t)k) {
                abort();
            }
            off += (size_t)k;
        }
    }
    return 0;
}

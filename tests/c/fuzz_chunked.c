// SPDX-License-Identifier: MIT
// libFuzzer target: chunked decoder on arbitrary bytes fed in pieces (sizes from the first
// byte); checks that steps consume and report data inside their input.
#include <stdlib.h>

#include "fs_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) {
        return 0;
    }
    size_t piece = 1 + data[0] % 64;
    data++;
    size--;
    fs_chunked_t c;
    fs_chunked_init(&c);
    uint64_t total = 0;
    for (size_t pos = 0; pos < size && !c.done;) {
        size_t n = size - pos < piece ? size - pos : piece;
        size_t off = 0;
        while (off < n && !c.done) {
            size_t doff, dlen;
            int k = fs_chunked_step(&c, data + pos + off, n - off, &doff, &dlen);
            if (k < 0) {
                return 0;
            }
            if (k == 0 || (size_t)k > n - off || doff + dlen > (size_t)k) {
                abort();
            }
            total += dlen;
            off += (size_t)k;
        }
        pos += off;
    }
    if (total != c.data) {
        abort();
    }
    return 0;
}

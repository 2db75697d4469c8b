// SPDX-License-Identifier: MIT
// Canonical JSON lines shared by the differential drivers (engine and llhttp), so their
// outputs compare as data in tests/test_engine_diff.py. Header-only, test code only.
//   {"verdict":"ok","status":200,"version":"1.1","reason":"OK","headers":[["n","v"],...],
//    "body_kind":"length","keep_alive":1,"interim":0,"body":"<hex>"}
//   {"verdict":"error"|"incomplete","code":-1,"why":"..."}
// Strings carry raw bytes as \u00XX escapes (Latin-1), so Python recovers them exactly.
#ifndef DRV_JSON_H
#define DRV_JSON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_str(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20 || c >= 0x7f) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static void json_verdict(const char *verdict, int code, const char *why) {
    printf("{\"verdict\":\"%s\",\"code\":%d,\"why\":", verdict, code);
    json_str(why, strlen(why));
    printf("}\n");
}

static void json_begin_ok(unsigned status, unsigned minor, const char *reason, size_t rlen) {
    printf("{\"verdict\":\"ok\",\"status\":%u,\"version\":\"1.%u\",\"reason\":", status, minor);
    json_str(reason, rlen);
    printf(",\"headers\":[");
}

static void json_header(unsigned i, const char *n, size_t nl, const char *v, size_t vl) {
    printf(i ? ",[" : "[");
    json_str(n, nl);
    putchar(',');
    json_str(v, vl);
    putchar(']');
}

static void json_end_ok(const char *kind, int keep, int interim, const uint8_t *body, size_t blen) {
    printf("],\"body_kind\":\"%s\",\"keep_alive\":%d,\"interim\":%d,\"body\":\"", kind, keep,
           interim);
    for (size_t i = 0; i < blen; i++) {
        printf("%02x", body[i]);
    }
    printf("\"}\n");
}

static uint8_t *read_case(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) {
            break;
        }
        cap *= 2;
        buf = realloc(buf, cap);
    }
    fclose(f);
    *len = n;
    return buf;
}

#endif // DRV_JSON_H

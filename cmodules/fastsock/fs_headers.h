// SPDX-License-Identifier: MIT
// fastsock response headers, kept packed in one bytes object per response: a response costs
// one allocation for its headers, and strings are made only for the fields a program reads.
#ifndef FS_HEADERS_H
#define FS_HEADERS_H

#include "py/obj.h"

#include "fs_http.h"

// Pack the reason phrase and n parsed fields into one bytes object: a 2-byte reason length
// (little endian) and the reason, then per field a 2-byte name length, a 2-byte value
// length, the lower-cased name and the value.
mp_obj_t fs_headers_pack(const char *reason, size_t reason_len, const fs_hdr_t *hdrs, size_t n);

// A str from header bytes: UTF-8 as is; any other byte >= 0x80 becomes '?' (obs-text is
// opaque per RFC 9110 5.5), so a hostile value never raises UnicodeError.
mp_obj_t fs_headers_str(const char *data, size_t len);

// The value of header `name` (a str, any case), repeated fields joined by ", ", or dflt.
mp_obj_t fs_headers_lookup(mp_obj_t packed, mp_obj_t name, mp_obj_t dflt);

// The reason phrase.
mp_obj_t fs_headers_reason_of(mp_obj_t packed);

// _fastsock.Headers over a packed block: a dict underneath, empty until fs_headers_fill puts
// every field in (lower-cased name -> value, repeated fields joined); lookups walk the packed
// block until then.
extern const mp_obj_type_t fs_headers_type;
mp_obj_t fs_headers_new(mp_obj_t packed);
void fs_headers_fill(mp_obj_t headers);

#endif // FS_HEADERS_H

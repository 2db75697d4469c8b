// fastsock response headers, kept packed in one bytes object per response: a response costs
// one allocation for its headers, and strings are made only for the fields a program reads.
#ifndef FS_HEADERS_H
#define FS_HEADERS_H

#include "py/obj.h"

#include "fs_http.h"

// Pack n parsed fields: per field a 2-byte name length, a 2-byte value length (little
// endian), the lower-cased name, the value. Returns a bytes object.
mp_obj_t fs_headers_pack(const fs_hdr_t *hdrs, size_t n);

// A str from header bytes: UTF-8 as is; any other byte >= 0x80 becomes '?' (obs-text is
// opaque per RFC 9110 5.5), so a hostile value never raises UnicodeError.
mp_obj_t fs_headers_str(const char *data, size_t len);

// _fastsock.hget(packed, name, default): the value of `name` (any case), repeated fields
// joined by ", ", or default.
MP_DECLARE_CONST_FUN_OBJ_3(fs_headers_get_obj);

// _fastsock.hdict(packed): all fields as a dict of lower-cased name -> value.
MP_DECLARE_CONST_FUN_OBJ_1(fs_headers_dict_obj);

#endif // FS_HEADERS_H

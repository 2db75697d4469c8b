// fastsock Response and Headers objects (_fastsock.Response, _fastsock.Headers). A response is
// one fixed-size object: no instance dict, so a request costs a handful of allocations.
#ifndef FS_RESPONSE_H
#define FS_RESPONSE_H

#include "py/obj.h"

extern const mp_obj_type_t fs_response_type;
extern const mp_obj_type_t fs_headers_type;

// A response whose body is read from conn. packed: reason and headers (fs_headers.h);
// target: the session's cached URL tuple (key, host, port, target, host header, url,
// session), or None for a bare connection (the body's end then closes the connection).
mp_obj_t fs_response_new(mp_obj_t conn, int status, mp_obj_t packed, mp_obj_t target);

#endif // FS_RESPONSE_H

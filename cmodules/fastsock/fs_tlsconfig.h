// SPDX-License-Identifier: MIT
// _fastsock.TLSConfig: the TLS settings https connections share (fs_tls.h).
#ifndef FS_TLSCONFIG_H
#define FS_TLSCONFIG_H

#include "py/obj.h"

#include "fs_tls.h"

extern const mp_obj_type_t fs_tlsconfig_type;

// The config behind a TLSConfig object, for a connection about to be made: TypeError for
// another object, MemoryError (before any network activity) when a handshake would not fit.
fs_tls_conf_t *fs_tlsconfig_get(mp_obj_t cfg);

#endif // FS_TLSCONFIG_H

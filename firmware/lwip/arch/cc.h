// SPDX-License-Identifier: MIT
// lwIP compiler/platform glue for Linux host builds (gcc, glibc).
#ifndef FS_LWIP_ARCH_CC_H
#define FS_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

// Use the C library's errno values (lwIP's err_to_errno maps onto them).
#define LWIP_ERRNO_STDINCLUDE (1)
#define LWIP_TIMEVAL_PRIVATE (0)

#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
        printf x;                                                                                  \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                                    \
    do {                                                                                           \
        fprintf(stderr, "lwIP assertion \"%s\" failed at line %d in %s\n", x, __LINE__, __FILE__); \
        fflush(stderr);                                                                            \
        abort();                                                                                   \
    } while (0)

// TCP initial sequence numbers, DNS ids and source ports (seeded in fs_host_net_init).
#define LWIP_RAND() ((u32_t)random())

#endif // FS_LWIP_ARCH_CC_H

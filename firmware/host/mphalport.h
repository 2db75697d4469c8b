// SPDX-License-Identifier: MIT
// HAL for the fastsock host port: POSIX time and stdio, EINTR-retrying syscalls.
#include <errno.h>
#include <unistd.h>

// py/mphal.h pulls in extmod/virtpin.h unless the port names its own pin type.
#define mp_hal_pin_obj_t void *

static inline void mp_hal_delay_us(mp_uint_t us) {
    usleep(us);
}
#define mp_hal_ticks_cpu() 0
void mp_hal_set_interrupt_char(int c);

// ports/unix/modsocket.c expects these from the unix port's own mphalport.h.
#define MP_HAL_RETRY_SYSCALL(ret, syscall, raise)                                                  \
    {                                                                                              \
        for (;;) {                                                                                 \
            ret = syscall;                                                                         \
            if (ret == -1) {                                                                       \
                int err = errno;                                                                   \
                if (err == EINTR) {                                                                \
                    mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS);                 \
                    continue;                                                                      \
                }                                                                                  \
                raise;                                                                             \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
    }

#define RAISE_ERRNO(err_flag, error_val)                                                           \
    {                                                                                              \
        if (err_flag == -1) {                                                                      \
            mp_raise_OSError(error_val);                                                           \
        }                                                                                          \
    }

// SPDX-License-Identifier: MIT
// lwIP OS layer for Linux host builds: pthread semaphores, mailboxes and threads, plus the
// per-thread netconn semaphore ESP-IDF provides (LWIP_NETCONN_SEM_PER_THREAD).
#ifndef FS_LWIP_ARCH_SYS_ARCH_H
#define FS_LWIP_ARCH_SYS_ARCH_H

#if defined(__XTENSA__)
// Cross-compiling fastsock's transport for the Xtensa code-size check (scripts/codesize):
// only the thread handle type is needed there, and newlib-free picolibc has no pthreads.
typedef void *pthread_t;
#else
#include <pthread.h>
#endif

struct sys_sem;
struct sys_mbox;
struct sys_mutex;
typedef struct sys_sem *sys_sem_t;
typedef struct sys_mbox *sys_mbox_t;
typedef struct sys_mutex *sys_mutex_t;
typedef pthread_t sys_thread_t;
typedef int sys_prot_t;

#define SYS_MBOX_NULL (NULL)
#define SYS_SEM_NULL (NULL)

#define sys_sem_valid(s) ((s) != NULL && *(s) != NULL)
#define sys_sem_set_invalid(s)                                                                     \
    do {                                                                                           \
        *(s) = NULL;                                                                               \
    } while (0)
#define sys_mbox_valid(m) ((m) != NULL && *(m) != NULL)
#define sys_mbox_set_invalid(m)                                                                    \
    do {                                                                                           \
        *(m) = NULL;                                                                               \
    } while (0)
#define sys_mutex_valid(m) ((m) != NULL && *(m) != NULL)
#define sys_mutex_set_invalid(m)                                                                   \
    do {                                                                                           \
        *(m) = NULL;                                                                               \
    } while (0)

// One semaphore per application thread for netconn calls, created on first use.
sys_sem_t *sys_arch_netconn_sem_get(void);
void sys_arch_netconn_sem_alloc(void);
void sys_arch_netconn_sem_free(void);
#define LWIP_NETCONN_THREAD_SEM_GET() sys_arch_netconn_sem_get()
#define LWIP_NETCONN_THREAD_SEM_ALLOC() sys_arch_netconn_sem_alloc()
#define LWIP_NETCONN_THREAD_SEM_FREE() sys_arch_netconn_sem_free()

#endif // FS_LWIP_ARCH_SYS_ARCH_H

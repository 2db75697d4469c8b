// SPDX-License-Identifier: MIT
// lwIP OS layer on POSIX threads (host builds only). Semaphores and mailboxes are a mutex plus
// condition variables on CLOCK_MONOTONIC; SYS_ARCH_PROTECT is one recursive mutex. lwIP's own
// threads block every signal so Ctrl-C reaches the interpreter's thread.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/err.h"
#include "lwip/stats.h"
#include "lwip/sys.h"

struct sys_sem {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned count;
};

struct sys_mutex {
    pthread_mutex_t lock;
};

struct sys_mbox {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    unsigned head, len, size;
    void **msgs;
};

static pthread_mutex_t protect_lock;
static uint64_t start_ms;

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void cond_init(pthread_cond_t *c) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

// Wait on c until signalled or `deadline` (ms, CLOCK_MONOTONIC; 0 = forever); 1 on timeout.
static int cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline) {
    if (deadline == 0) {
        pthread_cond_wait(c, m);
        return 0;
    }
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000u),
                           .tv_nsec = (long)(deadline % 1000u) * 1000000L };
    return pthread_cond_timedwait(c, m, &ts) == ETIMEDOUT;
}

void sys_init(void) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&protect_lock, &a);
    pthread_mutexattr_destroy(&a);
    start_ms = mono_ms();
}

u32_t sys_now(void) {
    return (u32_t)(mono_ms() - start_ms);
}

u32_t sys_jiffies(void) {
    return sys_now();
}

sys_prot_t sys_arch_protect(void) {
    pthread_mutex_lock(&protect_lock);
    return 0;
}

void sys_arch_unprotect(sys_prot_t pval) {
    (void)pval;
    pthread_mutex_unlock(&protect_lock);
}

err_t sys_sem_new(sys_sem_t *sem, u8_t count) {
    struct sys_sem *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return ERR_MEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    cond_init(&s->cond);
    s->count = count;
    *sem = s;
    SYS_STATS_INC_USED(sem);
    return ERR_OK;
}

void sys_sem_free(sys_sem_t *sem) {
    struct sys_sem *s = *sem;
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
    *sem = NULL;
    SYS_STATS_DEC(sem.used);
}

void sys_sem_signal(sys_sem_t *sem) {
    struct sys_sem *s = *sem;
    pthread_mutex_lock(&s->lock);
    s->count++;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout) {
    struct sys_sem *s = *sem;
    uint64_t start = mono_ms();
    uint64_t deadline = timeout ? start + timeout : 0;
    pthread_mutex_lock(&s->lock);
    while (s->count == 0) {
        if (cond_wait_until(&s->cond, &s->lock, deadline) && s->count == 0) {
            pthread_mutex_unlock(&s->lock);
            return SYS_ARCH_TIMEOUT;
        }
    }
    s->count--;
    pthread_mutex_unlock(&s->lock);
    return (u32_t)(mono_ms() - start);
}

err_t sys_mutex_new(sys_mutex_t *mutex) {
    struct sys_mutex *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return ERR_MEM;
    }
    pthread_mutex_init(&m->lock, NULL);
    *mutex = m;
    return ERR_OK;
}

void sys_mutex_free(sys_mutex_t *mutex) {
    pthread_mutex_destroy(&(*mutex)->lock);
    free(*mutex);
    *mutex = NULL;
}

void sys_mutex_lock(sys_mutex_t *mutex) {
    pthread_mutex_lock(&(*mutex)->lock);
}

void sys_mutex_unlock(sys_mutex_t *mutex) {
    pthread_mutex_unlock(&(*mutex)->lock);
}

err_t sys_mbox_new(sys_mbox_t *mbox, int size) {
    struct sys_mbox *m = calloc(1, sizeof(*m));
    if (m == NULL || size <= 0) {
        free(m);
        return ERR_MEM;
    }
    m->msgs = calloc((size_t)size, sizeof(void *));
    if (m->msgs == NULL) {
        free(m);
        return ERR_MEM;
    }
    m->size = (unsigned)size;
    pthread_mutex_init(&m->lock, NULL);
    cond_init(&m->not_empty);
    cond_init(&m->not_full);
    *mbox = m;
    SYS_STATS_INC_USED(mbox);
    return ERR_OK;
}

void sys_mbox_free(sys_mbox_t *mbox) {
    struct sys_mbox *m = *mbox;
    pthread_cond_destroy(&m->not_empty);
    pthread_cond_destroy(&m->not_full);
    pthread_mutex_destroy(&m->lock);
    free(m->msgs);
    free(m);
    *mbox = NULL;
    SYS_STATS_DEC(mbox.used);
}

static void mbox_put_locked(struct sys_mbox *m, void *msg) {
    m->msgs[(m->head + m->len) % m->size] = msg;
    m->len++;
    pthread_cond_signal(&m->not_empty);
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg) {
    struct sys_mbox *m = *mbox;
    pthread_mutex_lock(&m->lock);
    while (m->len == m->size) {
        pthread_cond_wait(&m->not_full, &m->lock);
    }
    mbox_put_locked(m, msg);
    pthread_mutex_unlock(&m->lock);
}

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg) {
    struct sys_mbox *m = *mbox;
    pthread_mutex_lock(&m->lock);
    if (m->len == m->size) {
        pthread_mutex_unlock(&m->lock);
        SYS_STATS_INC(mbox.err);
        return ERR_MEM;
    }
    mbox_put_locked(m, msg);
    pthread_mutex_unlock(&m->lock);
    return ERR_OK;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg) {
    return sys_mbox_trypost(mbox, msg);
}

static void *mbox_take_locked(struct sys_mbox *m) {
    void *msg = m->msgs[m->head];
    m->head = (m->head + 1) % m->size;
    m->len--;
    pthread_cond_signal(&m->not_full);
    return msg;
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout) {
    struct sys_mbox *m = *mbox;
    uint64_t start = mono_ms();
    uint64_t deadline = timeout ? start + timeout : 0;
    pthread_mutex_lock(&m->lock);
    while (m->len == 0) {
        if (cond_wait_until(&m->not_empty, &m->lock, deadline) && m->len == 0) {
            pthread_mutex_unlock(&m->lock);
            if (msg != NULL) {
                *msg = NULL;
            }
            return SYS_ARCH_TIMEOUT;
        }
    }
    void *v = mbox_take_locked(m);
    pthread_mutex_unlock(&m->lock);
    if (msg != NULL) {
        *msg = v;
    }
    return (u32_t)(mono_ms() - start);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg) {
    struct sys_mbox *m = *mbox;
    pthread_mutex_lock(&m->lock);
    if (m->len == 0) {
        pthread_mutex_unlock(&m->lock);
        return SYS_MBOX_EMPTY;
    }
    void *v = mbox_take_locked(m);
    pthread_mutex_unlock(&m->lock);
    if (msg != NULL) {
        *msg = v;
    }
    return 0;
}

typedef struct {
    lwip_thread_fn fn;
    void *arg;
} thread_start_t;

static void *thread_main(void *p) {
    thread_start_t st = *(thread_start_t *)p;
    free(p);
    st.fn(st.arg);
    return NULL;
}

sys_thread_t sys_thread_new(const char *name, lwip_thread_fn thread, void *arg, int stacksize,
                            int prio) {
    (void)stacksize;
    (void)prio;
    thread_start_t *st = malloc(sizeof(*st));
    LWIP_ASSERT("sys_thread_new: out of memory", st != NULL);
    st->fn = thread;
    st->arg = arg;
    // Signals go to the interpreter's thread only: block them all while the new thread starts.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int r = pthread_create(&t, NULL, thread_main, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    LWIP_ASSERT("sys_thread_new: pthread_create failed", r == 0);
    pthread_detach(t);
    pthread_setname_np(t, name);
    return t;
}

static __thread sys_sem_t thread_sem;

sys_sem_t *sys_arch_netconn_sem_get(void) {
    if (thread_sem == NULL) {
        sys_arch_netconn_sem_alloc();
    }
    return &thread_sem;
}

void sys_arch_netconn_sem_alloc(void) {
    if (thread_sem == NULL) {
        err_t err = sys_sem_new(&thread_sem, 0);
        LWIP_ASSERT("out of memory for a netconn semaphore", err == ERR_OK);
        (void)err;
    }
}

void sys_arch_netconn_sem_free(void) {
    if (thread_sem != NULL) {
        sys_sem_free(&thread_sem);
    }
}

// SPDX-License-Identifier: MIT
// fastsock host networking: brings up lwIP (tcpip thread + one Ethernet netif) from
// FASTSOCK_* environment variables, and injects seeded faults (drop, delay, duplicate,
// reorder) on the netif's input path. ARP passes untouched so faults hit IP traffic only.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include "hostnet.h"

// glibc's <netinet/tcp.h> defines its own TCP_MSS; make sure lwIP's stayed ours.
_Static_assert(TCP_MSS == CONFIG_LWIP_TCP_MSS && TCP_WND == CONFIG_LWIP_TCP_WND_DEFAULT,
               "lwipopts.h not in effect");

fs_hostnet_stats_t fs_hostnet_stats;

enum { BACKEND_TAP, BACKEND_SLIRP };

static struct netif hostnet_netif;
static int backend;

// Fault settings: probabilities in parts per million, times in ms.
static struct {
    uint32_t drop, dup, reorder;
    uint32_t delay_ms, reorder_ms;
    uint64_t rng;
    int active;
} fault;

// Frames held back by delay/reorder, sorted by due time; the fault thread releases them.
typedef struct held {
    struct held *next;
    uint64_t due_ms;
    size_t len;
    uint8_t data[];
} held_t;

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fault_cond;
static held_t *held_head;

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

// xorshift64*: reproducible for a given FASTSOCK_SEED; called with fault_lock held.
static uint32_t rng_ppm(void) {
    fault.rng ^= fault.rng >> 12;
    fault.rng ^= fault.rng << 25;
    fault.rng ^= fault.rng >> 27;
    return (uint32_t)(((fault.rng * 0x2545F4914F6CDD1Dull) >> 32) % 1000000u);
}

// Hand one frame to lwIP (any thread: tcpip_input only posts a message).
static void input_now(const uint8_t *frame, size_t len) {
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (p == NULL) {
        __atomic_add_fetch(&fs_hostnet_stats.no_pbuf, 1, __ATOMIC_RELAXED);
        return;
    }
    pbuf_take(p, frame, (u16_t)len);
    if (hostnet_netif.input(p, &hostnet_netif) != ERR_OK) {
        pbuf_free(p);
    }
}

// Called with fault_lock held.
static void hold(const uint8_t *frame, size_t len, uint64_t due) {
    held_t *h = malloc(sizeof(held_t) + len);
    if (h == NULL) {
        return;
    }
    h->due_ms = due;
    h->len = len;
    memcpy(h->data, frame, len);
    held_t **pp = &held_head;
    while (*pp != NULL && (*pp)->due_ms <= due) {
        pp = &(*pp)->next;
    }
    h->next = *pp;
    *pp = h;
    pthread_cond_signal(&fault_cond);
}

static void fault_thread(void *arg) {
    (void)arg;
    pthread_mutex_lock(&fault_lock);
    for (;;) {
        if (held_head == NULL) {
            pthread_cond_wait(&fault_cond, &fault_lock);
            continue;
        }
        uint64_t now = mono_ms();
        if (held_head->due_ms > now) {
            uint64_t d = held_head->due_ms;
            struct timespec ts = { .tv_sec = (time_t)(d / 1000u),
                                   .tv_nsec = (long)(d % 1000u) * 1000000L };
            pthread_cond_timedwait(&fault_cond, &fault_lock, &ts);
            continue;
        }
        held_t *h = held_head;
        held_head = h->next;
        pthread_mutex_unlock(&fault_lock);
        input_now(h->data, h->len);
        free(h);
        pthread_mutex_lock(&fault_lock);
    }
}

void fs_hostnet_deliver(const uint8_t *frame, size_t len) {
    __atomic_add_fetch(&fs_hostnet_stats.frames_in, 1, __ATOMIC_RELAXED);
    int is_ip = len >= 14 && frame[12] == 0x08 && frame[13] == 0x00;
    if (!fault.active || !is_ip) {
        input_now(frame, len);
        return;
    }
    pthread_mutex_lock(&fault_lock);
    if (fault.drop && rng_ppm() < fault.drop) {
        fs_hostnet_stats.dropped++;
        pthread_mutex_unlock(&fault_lock);
        return;
    }
    int copies = 1;
    if (fault.dup && rng_ppm() < fault.dup) {
        fs_hostnet_stats.duplicated++;
        copies = 2;
    }
    uint32_t delay = fault.delay_ms;
    if (fault.reorder && rng_ppm() < fault.reorder) {
        fs_hostnet_stats.reordered++;
        delay += fault.reorder_ms;
    }
    if (delay == 0 && held_head == NULL) {
        pthread_mutex_unlock(&fault_lock);
        while (copies--) {
            input_now(frame, len);
        }
        return;
    }
    // Behind held frames, even undelayed ones queue so only FASTSOCK_REORDER reorders.
    fs_hostnet_stats.delayed += delay ? 1 : 0;
    uint64_t due = mono_ms() + delay;
    while (copies--) {
        hold(frame, len, due);
    }
    pthread_mutex_unlock(&fault_lock);
}

static err_t hostnet_linkoutput(struct netif *netif, struct pbuf *p) {
    (void)netif;
    __atomic_add_fetch(&fs_hostnet_stats.frames_out, 1, __ATOMIC_RELAXED);
    int r = backend == BACKEND_TAP ? fs_tap_output(p) : fs_slirp_output(p);
    return r == 0 ? ERR_OK : ERR_IF;
}

static err_t hostnet_netif_init(struct netif *netif) {
    netif->name[0] = 'f';
    netif->name[1] = 's';
    netif->output = etharp_output;
    netif->linkoutput = hostnet_linkoutput;
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    // A locally administered MAC that differs from the kernel's side of the link.
    static const uint8_t mac[ETH_HWADDR_LEN] = { 0x02, 0x66, 0x73, 0x00, 0x00, 0x02 };
    memcpy(netif->hwaddr, mac, ETH_HWADDR_LEN);
    netif->flags =
        NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

static const char *env_or(const char *name, const char *dflt) {
    const char *v = getenv(name);
    return v != NULL && *v ? v : dflt;
}

// Percentage (may be fractional) to parts per million; -1 if malformed.
static int env_ppm(const char *name, uint32_t *out) {
    const char *v = env_or(name, "0");
    char *end;
    double pct = strtod(v, &end);
    if (*end != '\0' || pct < 0 || pct > 100) {
        fprintf(stderr, "fastsock hostnet: %s=%s is not a percentage 0..100\n", name, v);
        return -1;
    }
    *out = (uint32_t)(pct * 10000.0 + 0.5);
    return 0;
}

static int env_uint(const char *name, const char *dflt, uint64_t *out) {
    const char *v = env_or(name, dflt);
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end != '\0') {
        fprintf(stderr, "fastsock hostnet: %s=%s is not a number\n", name, v);
        return -1;
    }
    *out = n;
    return 0;
}

static int env_ip(const char *name, const char *dflt, ip4_addr_t *out) {
    const char *v = env_or(name, dflt);
    if (!ip4addr_aton(v, out)) {
        fprintf(stderr, "fastsock hostnet: %s=%s is not an IPv4 address\n", name, v);
        return -1;
    }
    return 0;
}

static struct {
    ip4_addr_t ip, mask, gw, dns;
    int have_dns;
    sys_sem_t done;
} setup;

// Runs in the tcpip thread: netif and DNS configuration belong to it (no core locking).
static void setup_in_tcpip(void *arg) {
    (void)arg;
    netif_add(&hostnet_netif, &setup.ip, &setup.mask, &setup.gw, NULL, hostnet_netif_init,
              tcpip_input);
    netif_set_default(&hostnet_netif);
    netif_set_up(&hostnet_netif);
    netif_set_link_up(&hostnet_netif);
    if (setup.have_dns) {
        ip_addr_t dns;
        ip_addr_copy_from_ip4(dns, setup.dns);
        dns_setserver(0, &dns);
    }
    sys_sem_signal(&setup.done);
}

int fs_host_net_init(void) {
    const char *mode = env_or("FASTSOCK_NETIF", "slirp");
    const char *dflt_ip, *dflt_gw;
    if (strcmp(mode, "tap") == 0) {
        backend = BACKEND_TAP;
        dflt_ip = "10.0.0.2";
        dflt_gw = "10.0.0.1";
    } else if (strcmp(mode, "slirp") == 0) {
        backend = BACKEND_SLIRP;
        dflt_ip = "10.0.2.15";
        dflt_gw = "10.0.2.2";
    } else {
        fprintf(stderr, "fastsock hostnet: FASTSOCK_NETIF=%s: expected tap or slirp\n", mode);
        return -1;
    }
    uint64_t seed, delay, reorder_ms;
    if (env_ip("FASTSOCK_IP", dflt_ip, &setup.ip) || env_ip("FASTSOCK_GW", dflt_gw, &setup.gw) ||
        env_ip("FASTSOCK_MASK", "255.255.255.0", &setup.mask) ||
        env_ppm("FASTSOCK_DROP", &fault.drop) || env_ppm("FASTSOCK_DUP", &fault.dup) ||
        env_ppm("FASTSOCK_REORDER", &fault.reorder) || env_uint("FASTSOCK_DELAY_MS", "0", &delay) ||
        env_uint("FASTSOCK_REORDER_MS", "20", &reorder_ms) ||
        env_uint("FASTSOCK_SEED", "1", &seed)) {
        return -1;
    }
    if (getenv("FASTSOCK_DNS") != NULL) {
        if (env_ip("FASTSOCK_DNS", "", &setup.dns)) {
            return -1;
        }
        setup.have_dns = 1;
    }
    fault.delay_ms = (uint32_t)delay;
    fault.reorder_ms = (uint32_t)reorder_ms;
    fault.rng = seed ? seed : 1;
    fault.active = fault.drop || fault.dup || fault.reorder || fault.delay_ms;
    srandom((unsigned)seed);
    if (fault.active) {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&fault_cond, &a);
        pthread_condattr_destroy(&a);
        sys_thread_new("fs-faults", fault_thread, NULL, 0, 0);
    }
    int r = backend == BACKEND_TAP ? fs_tap_open(env_or("FASTSOCK_TAP", "tap0")) : fs_slirp_open();
    if (r != 0) {
        return -1;
    }
    if (sys_sem_new(&setup.done, 0) != ERR_OK) {
        return -1;
    }
    // setup_in_tcpip runs as the tcpip thread starts (no message, so no pool entry in flight).
    tcpip_init(setup_in_tcpip, NULL);
    sys_arch_sem_wait(&setup.done, 0);
    sys_sem_free(&setup.done);
    return backend == BACKEND_TAP ? fs_tap_start() : fs_slirp_start();
}

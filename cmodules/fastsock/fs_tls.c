// SPDX-License-Identifier: MIT
// fastsock TLS layer (fs_tls.h): mbedTLS 3.6 (host: Debian's sources; ESP32: ESP-IDF v5.5's),
// TLS 1.2 and 1.3, over the transport's operations (fs_tp_ops), and offers the same operations
// itself (fs_tls_ops). Record bytes come from the transport's own buffers (or straight into
// mbedTLS's input buffer with recv_into where the transport can); decrypted bytes go to one
// buffer per connection that the engine parses in place. fastsock's own mbedTLS memory is
// counted through mbedtls_calloc hooks, bounded by fs_tls_limit, and checked before each
// handshake; other mbedTLS users in the process pass through the hooks uncounted.
#ifndef _GNU_SOURCE // ESP-IDF defines it for every file
#define _GNU_SOURCE // memmem, malloc_usable_size
#endif
#include "fs_config.h"
#if FS_TLS

// ESP-IDF's certificate bundle installs its own verify callback on the config; chaining it
// needs the 3.x private field (as IDF's own components do).
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "py/mperrno.h"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/oid.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/version.h"
#include "mbedtls/x509_crt.h"
#if MBEDTLS_VERSION_NUMBER < 0x03060000
#error "fastsock's TLS needs mbedTLS 3.6 (ESP-IDF v5.5; host: scripts/fetch-mbedtls)"
#endif
// TLS 1.3 (and the X.509/TLS code with MBEDTLS_USE_PSA_CRYPTO) runs on PSA crypto, which must be
// initialised before a handshake.
#if defined(MBEDTLS_USE_PSA_CRYPTO) || defined(MBEDTLS_SSL_PROTO_TLS1_3)
#include "psa/crypto.h"
#define FS_TLS_PSA (1)
#endif

#ifdef ESP_PLATFORM
#include "esp_heap_caps.h"
#if defined(CONFIG_MBEDTLS_CERTIFICATE_BUNDLE)
#include "esp_crt_bundle.h"
#define FS_TLS_BUNDLE (1)
#endif
#else
#include <malloc.h>
#endif

#include "fs_tls.h"

// Receives at least this long go straight into mbedTLS's record buffer (recv_into).
#define DIRECT_MIN (2048)
// TLS 1.3 tickets per connection after which the read waits again with a fresh read timeout
// (servers send one or two; more share the wait already running).
#define TICKETS_FRESH_WAIT (4)

typedef struct {
    char host[FS_TLS_HOST_MAX];
    uint16_t port;
    uint8_t used;
    mbedtls_ssl_session session;
} remembered_t;

struct fs_tls_conf {
    mbedtls_ssl_config ssl;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    // A verify callback installed by the default store (esp_crt_bundle), called from ours.
    int (*chain_vrfy)(void *, mbedtls_x509_crt *, int, uint32_t *);
    void *chain_p;
    int *suites; // cipher suites, AES-GCM first (see prefer_aes_gcm)
    uint32_t refs;
    uint8_t verify;
    uint8_t next; // remembered[] slot to replace next
    remembered_t remembered[FS_TLS_SESSIONS];
};

struct fs_tls {
    mbedtls_ssl_context ssl;
    fs_tls_conf_t *conf;
    fs_tp_t *tp;
    fs_deadline_t deadline; // for the bio callbacks of the current call
    int tp_err;             // transport error met by a bio callback (-errno)
    int mbed_err;           // last mbedTLS error code
    uint32_t vflags;        // verification result of a failed handshake
    uint32_t start;         // first unconsumed decrypted byte
    uint32_t end;           // one past the last decrypted byte
    uint16_t certs_seen;    // certificates the verify callback saw (0 = resumed)
    uint16_t port;
    uint8_t in_handshake;
    uint8_t offered; // a remembered session was offered
    uint8_t resumed;
    uint8_t eof;     // 1: close_notify seen; 2: TCP closed without it (truncation attack?)
    uint8_t first;   // first byte the server sent, 0 until then
    uint8_t alert;   // fatal alert from the server, if any
    uint8_t tickets; // TLS 1.3 tickets that ended a fill early (TICKETS_FRESH_WAIT)
    uint8_t no_san;  // the server's certificate has no subjectAltName (refused: host_check)
    char host[FS_TLS_HOST_MAX];
    uint8_t buf[FS_TLS_RX_BYTES];
};

fs_tls_stats_t fs_tls_stats;
size_t fs_tls_limit;

// ---- memory: every mbedTLS allocation in the process goes through these once installed;
// only those made inside fastsock's own calls into mbedTLS (between OWN_ENTER and OWN_LEAVE on
// this thread) are counted and capped, the rest pass straight through.

#if defined(MBEDTLS_PLATFORM_MEMORY) &&                                                            \
    !(defined(MBEDTLS_PLATFORM_CALLOC_MACRO) && defined(MBEDTLS_PLATFORM_FREE_MACRO))
#define FS_TLS_COUNTING (1)
#ifdef ESP_PLATFORM
// IDF's default for mbedTLS (CONFIG_MBEDTLS_INTERNAL_MEM_ALLOC); PSRAM boards may prefer
// MALLOC_CAP_SPIRAM | MALLOC_CAP_8BIT.
#ifndef FS_TLS_HEAP_CAPS
#define FS_TLS_HEAP_CAPS (MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT)
#endif
#define SYS_CALLOC(n, size) heap_caps_calloc((n), (size), FS_TLS_HEAP_CAPS)
#define SYS_FREE(p) heap_caps_free(p)
#define SYS_SIZE(p) heap_caps_get_allocated_size(p)
#else
#define SYS_CALLOC(n, size) calloc((n), (size))
#define SYS_FREE(p) free(p)
#define SYS_SIZE(p) malloc_usable_size(p)
#endif

// Depth of fastsock's calls into mbedTLS on this thread (nested entry points count once).
// Invariant: every fastsock call into mbedTLS runs inside OWN_ENTER/OWN_LEAVE, so a block
// counted when allocated is counted when freed, and other users' blocks never are.
static __thread uint32_t own_depth;
#define OWN_ENTER() (own_depth++)
#define OWN_LEAVE() (own_depth--)

// The block's real size comes from the allocator, so no header is added.
static void *count_calloc(size_t n, size_t size) {
    if (own_depth == 0) {
        // Another mbedTLS user (MicroPython's ssl, an ESP-IDF component): its own allocator.
        return MBEDTLS_PLATFORM_STD_CALLOC(n, size);
    }
    uint64_t want = (uint64_t)n * size;
    if (fs_tls_limit &&
        __atomic_load_n(&fs_tls_stats.bytes, __ATOMIC_RELAXED) + want > fs_tls_limit) {
        __atomic_add_fetch(&fs_tls_stats.denied, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    void *p = SYS_CALLOC(n, size);
    if (p != NULL) {
        uint64_t now =
            __atomic_add_fetch(&fs_tls_stats.bytes, (uint64_t)SYS_SIZE(p), __ATOMIC_RELAXED);
        if (now > fs_tls_stats.peak) {
            fs_tls_stats.peak = now;
        }
    }
    return p;
}

static void count_free(void *p) {
    if (p == NULL) {
        return;
    }
    if (own_depth == 0) {
        MBEDTLS_PLATFORM_STD_FREE(p);
        return;
    }
    uint64_t k = SYS_SIZE(p);
    // Never below zero, whatever a block's history (the gauge is unsigned).
    if (__atomic_load_n(&fs_tls_stats.bytes, __ATOMIC_RELAXED) >= k) {
        __atomic_sub_fetch(&fs_tls_stats.bytes, k, __ATOMIC_RELAXED);
    }
    SYS_FREE(p);
}

static void install_hooks(void) {
    static uint8_t done;
    if (!done) {
        mbedtls_platform_set_calloc_free(count_calloc, count_free);
        done = 1;
    }
}
#else
#define FS_TLS_COUNTING (0)
#define OWN_ENTER() ((void)0)
#define OWN_LEAVE() ((void)0)
static void install_hooks(void) {
}
#endif

// A call into mbedTLS made as fastsock's own (its allocations counted); the call's value.
#define OWN(call)                                                                                  \
    __extension__({                                                                                \
        OWN_ENTER();                                                                               \
        __typeof__(call) own_result_ = (call);                                                     \
        OWN_LEAVE();                                                                               \
        own_result_;                                                                               \
    })

int fs_tls_counting(void) {
    return FS_TLS_COUNTING;
}

// tls_limit refused an allocation during the last entry point's call: whatever mbedTLS made of
// it ("Bad input parameters (-0x7100)", a BIGNUM or PK error, "no CA store"), the cap is what
// failed, and the message names it.
static bool capped;

static void cap_message(char *buf, size_t len) {
    snprintf(buf, len,
             "TLS memory limit: tls_limit(%u) reached (%u bytes in use by TLS); raise it, or "
             "tls_limit(None)",
             (unsigned)fs_tls_limit, (unsigned)fs_tls_stats.bytes);
}

// r, from a call that began when the cap had refused `denied` allocations: a TLS failure is
// FS_TLS_ERR_NOMEM if the cap refused one meanwhile.
static int capped_code(int r, uint32_t denied) {
    capped = fs_tls_stats.denied != denied;
    return FS_TLS_IS_ERR(r) && capped ? FS_TLS_ERR_NOMEM : r;
}

// ---- configuration

static void remembered_forget(remembered_t *r) {
    if (r->used) {
        mbedtls_ssl_session_free(&r->session);
        mbedtls_ssl_session_init(&r->session);
        r->used = 0;
    }
}

static remembered_t *remembered_find(fs_tls_conf_t *c, const char *host, uint16_t port) {
    for (int i = 0; i < FS_TLS_SESSIONS; i++) {
        remembered_t *r = &c->remembered[i];
        if (r->used && r->port == port && strcmp(r->host, host) == 0) {
            return r;
        }
    }
    return NULL;
}

static void conf_release(fs_tls_conf_t *c) {
    if (c == NULL || --c->refs > 0) {
        return;
    }
    for (int i = 0; i < FS_TLS_SESSIONS; i++) {
        remembered_forget(&c->remembered[i]);
    }
    mbedtls_ssl_config_free(&c->ssl);
    mbedtls_free(c->suites);
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_ctr_drbg_free(&c->drbg);
    mbedtls_entropy_free(&c->entropy);
    mbedtls_free(c);
}

// Parse PEM (one or more certificates, needs a terminating NUL) or DER bytes into chain.
static int parse_ca(mbedtls_x509_crt *chain, const uint8_t *ca, size_t len, char *msg,
                    size_t msglen) {
    int r;
    if (len > 0 && memmem(ca, len, "-----BEGIN", 10) != NULL) {
        uint8_t *pem = mbedtls_calloc(1, len + 1);
        if (pem == NULL) {
            snprintf(msg, msglen, "out of memory for a copy of ca= (%u bytes)", (unsigned)len + 1);
            return FS_TLS_ERR_NOMEM;
        }
        memcpy(pem, ca, len);
        r = mbedtls_x509_crt_parse(chain, pem, len + 1);
        mbedtls_free(pem);
    } else {
        r = mbedtls_x509_crt_parse_der(chain, ca, len);
    }
    // A positive result counts PEM certificates that failed: fine while some were usable.
    if (r < 0 || chain->version == 0) {
        char why[80] = "no certificate found";
        if (r < 0) {
            mbedtls_strerror(r, why, sizeof(why));
        }
        snprintf(msg, msglen, "ca= holds no usable CA certificate (PEM or DER): %s", why);
        return r == MBEDTLS_ERR_X509_ALLOC_FAILED ? FS_TLS_ERR_NOMEM : FS_TLS_ERR_CA;
    }
    return 0;
}

// The CA store used without ca=.
static int default_ca(fs_tls_conf_t *c, char *msg, size_t msglen) {
#if defined(FS_TLS_BUNDLE)
    if (esp_crt_bundle_attach(&c->ssl) != 0) {
        snprintf(msg, msglen, "could not attach ESP-IDF's certificate bundle");
        return FS_TLS_ERR_NOMEM;
    }
    c->chain_vrfy = c->ssl.MBEDTLS_PRIVATE(f_vrfy);
    c->chain_p = c->ssl.MBEDTLS_PRIVATE(p_vrfy);
    return 0;
#elif defined(MBEDTLS_FS_IO) && !defined(ESP_PLATFORM)
    int r = mbedtls_x509_crt_parse_file(&c->ca, FS_TLS_DEFAULT_CA_FILE);
    if (r < 0 || c->ca.version == 0) {
        snprintf(msg, msglen,
                 "no usable default CA store %s (install ca-certificates, or pass ca=)",
                 FS_TLS_DEFAULT_CA_FILE);
        return r == MBEDTLS_ERR_X509_ALLOC_FAILED ? FS_TLS_ERR_NOMEM : FS_TLS_ERR_NO_CA;
    }
    mbedtls_ssl_conf_ca_chain(&c->ssl, &c->ca, NULL);
    return 0;
#else
    snprintf(msg, msglen,
             "this build has no default CA store (enable CONFIG_MBEDTLS_CERTIFICATE_BUNDLE, or "
             "pass ca=)");
    return FS_TLS_ERR_NO_CA;
#endif
}

// The library's suites with AES-GCM moved to the front (TLS 1.3's, then TLS 1.2's ECDHE ones):
// AES has hardware help on both ends (AES-NI + PCLMUL on the host, the AES block on ESP32)
// where ChaCha20 runs in plain C; ~2x bulk throughput on the host (docs/tls.md).
static void prefer_aes_gcm(fs_tls_conf_t *c) {
    static const int first[] = {
        MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
        MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    };
    const int *all = mbedtls_ssl_list_ciphersuites();
    size_t n = 0;
    while (all[n] != 0) {
        n++;
    }
    c->suites = mbedtls_calloc(n + 1, sizeof(int));
    if (c->suites == NULL) {
        return; // the library's own order then
    }
    size_t k = 0;
    for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
        for (size_t j = 0; j < n; j++) {
            if (all[j] == first[i]) {
                c->suites[k++] = first[i];
                break;
            }
        }
    }
    for (size_t j = 0; j < n; j++) {
        bool moved = false;
        for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
            moved |= all[j] == first[i];
        }
        if (!moved) {
            c->suites[k++] = all[j];
        }
    }
    mbedtls_ssl_conf_ciphersuites(&c->ssl, c->suites);
}

static int conf_new(fs_tls_conf_t **out, int verify, const uint8_t *ca, size_t ca_len, char *msg,
                    size_t msglen) {
    *out = NULL;
    msg[0] = '\0';
    fs_tls_conf_t *c = mbedtls_calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(msg, msglen, "out of memory for a TLS configuration");
        return FS_TLS_ERR_NOMEM;
    }
    c->refs = 1;
    c->verify = verify != 0;
    mbedtls_ssl_config_init(&c->ssl);
    mbedtls_entropy_init(&c->entropy);
    mbedtls_ctr_drbg_init(&c->drbg);
    mbedtls_x509_crt_init(&c->ca);
    for (int i = 0; i < FS_TLS_SESSIONS; i++) {
        mbedtls_ssl_session_init(&c->remembered[i].session);
    }
    int r = 0;
#if defined(FS_TLS_PSA)
    // Idempotent; the first call (whoever makes it) sets up PSA's key store and random generator.
    if (psa_crypto_init() != PSA_SUCCESS) {
        r = MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
#endif
    static const unsigned char pers[] = "fastsock";
    if (r == 0) {
        r = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy, pers,
                                  sizeof(pers) - 1);
    }
    if (r == 0) {
        r = mbedtls_ssl_config_defaults(&c->ssl, MBEDTLS_SSL_IS_CLIENT,
                                        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    }
    if (r != 0) {
        char why[80];
        mbedtls_strerror(r, why, sizeof(why));
        snprintf(msg, msglen, "TLS setup failed: %s", why);
        conf_release(c);
        return FS_TLS_ERR_NOMEM;
    }
    mbedtls_ssl_conf_rng(&c->ssl, mbedtls_ctr_drbg_random, &c->drbg);
    prefer_aes_gcm(c);
    // TLS 1.2 at least; 1.3 as well where the build has it (host; ESP32 with
    // CONFIG_MBEDTLS_SSL_PROTO_TLS1_3).
    mbedtls_ssl_conf_min_tls_version(&c->ssl, MBEDTLS_SSL_VERSION_TLS1_2);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS)
    // TLS 1.3 tickets come after the handshake (NewSessionTicket); mbedtls_ssl_read ignores them
    // unless asked to return MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET (tls_fill remembers).
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &c->ssl, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) && FS_TLS_IN_LEN < 16384
    // A smaller input buffer only works if the server agrees to send smaller records.
    mbedtls_ssl_conf_max_frag_len(&c->ssl, FS_TLS_IN_LEN >= 4096   ? MBEDTLS_SSL_MAX_FRAG_LEN_4096
                                           : FS_TLS_IN_LEN >= 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                                           : FS_TLS_IN_LEN >= 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                                                                   : MBEDTLS_SSL_MAX_FRAG_LEN_512);
#endif
    if (verify) {
        r = ca != NULL ? parse_ca(&c->ca, ca, ca_len, msg, msglen) : default_ca(c, msg, msglen);
        if (r != 0) {
            conf_release(c);
            return r;
        }
        if (ca != NULL) {
            mbedtls_ssl_conf_ca_chain(&c->ssl, &c->ca, NULL);
        }
        mbedtls_ssl_conf_authmode(&c->ssl, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
        // verify=False: the chain is still parsed (so resumption can be told from a full
        // handshake by the verify callback) but its result is ignored.
        mbedtls_ssl_conf_authmode(&c->ssl, MBEDTLS_SSL_VERIFY_OPTIONAL);
    }
    *out = c;
    return 0;
}

int fs_tls_check_budget(char *msg, size_t msglen) {
    size_t need = FS_TLS_BUDGET;
#ifdef ESP_PLATFORM
    // The input record buffer is the largest single block a handshake allocates.
    size_t free_now = heap_caps_get_free_size(FS_TLS_HEAP_CAPS);
    size_t largest = heap_caps_get_largest_free_block(FS_TLS_HEAP_CAPS);
    if (free_now < need || largest < FS_TLS_IN_LEN + 512) {
        snprintf(
            msg, msglen,
            "not enough heap for a TLS handshake: needs about %u bytes (one block of %u), "
            "the IDF heap has %u free, largest block %u (gc.mem_free() does not show this heap)",
            (unsigned)need, (unsigned)(FS_TLS_IN_LEN + 512), (unsigned)free_now, (unsigned)largest);
        return FS_TLS_ERR_NOMEM;
    }
#endif
    if (fs_tls_limit) {
        uint64_t used = fs_tls_stats.bytes;
        if (used + need > fs_tls_limit) {
            snprintf(msg, msglen,
                     "TLS memory limit: a handshake needs about %u bytes, but only %u of "
                     "tls_limit(%u) are free (%u in use by TLS)",
                     (unsigned)need, (unsigned)(used < fs_tls_limit ? fs_tls_limit - used : 0),
                     (unsigned)fs_tls_limit, (unsigned)used);
            return FS_TLS_ERR_NOMEM;
        }
    }
    return 0;
}

// ---- bio callbacks over the transport

static int bio_result(fs_tls_t *t, int n, const uint8_t *data) {
    if (n > 0) {
        if (!t->first) {
            t->first = data[0] ? data[0] : 0xff;
        }
        return n;
    }
    if (n < 0) {
        t->tp_err = n;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return 0; // end of stream: mbedTLS reports MBEDTLS_ERR_SSL_CONN_EOF
}

static int bio_recv(void *ctx, unsigned char *out, size_t len) {
    fs_tls_t *t = ctx;
    fs_tp_t *tp = t->tp;
    if (fs_tp_ops.buffered(tp) == 0) {
        if (len >= DIRECT_MIN) {
            // The rest of a large record: no stop in the transport's buffer (POSIX).
            int n = fs_tp_ops.recv_into(tp, out, len, t->deadline);
            if (n != FS_ERR_NO_RECV_INTO) {
                return bio_result(t, n, out);
            }
        }
        int n = fs_tp_ops.fill(tp, t->deadline);
        if (n <= 0) {
            return bio_result(t, n, NULL);
        }
    }
    fs_seg_t seg;
    fs_tp_ops.segments(tp, &seg, 1);
    size_t k = seg.len < len ? seg.len : len;
    memcpy(out, seg.ptr, k);
    fs_tp_ops.consume(tp, k);
    return bio_result(t, (int)k, out);
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
    fs_tls_t *t = ctx;
    int r = fs_tp_ops.write(t->tp, buf, len, t->deadline);
    if (r < 0) {
        t->tp_err = r;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)len;
}

// The host name as RFC 6125 and CPython's ssl check it, stricter than mbedTLS: only
// subjectAltName counts (a CN-only certificate names no host), and an IP address must be an IP
// entry, not a DNS entry spelling it.
static void host_check(fs_tls_t *t, const mbedtls_x509_crt *crt, uint32_t *flags) {
    if (!(crt->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME)) {
        t->no_san = 1;
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
        return;
    }
    uint8_t ip[16];
    size_t n = mbedtls_x509_crt_parse_cn_inet_pton(t->host, ip);
    if (n == 0) {
        return; // a DNS name: mbedTLS's subjectAltName check stands
    }
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s != NULL; s = s->next) {
        if ((s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK) == MBEDTLS_X509_SAN_IP_ADDRESS &&
            s->buf.len == n && memcmp(s->buf.p, ip, n) == 0) {
            *flags &= ~MBEDTLS_X509_BADCERT_CN_MISMATCH;
            return;
        }
    }
}

// Called for each certificate of the server's chain: only in full handshakes.
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
    fs_tls_t *t = ctx;
    t->certs_seen++;
    if (depth == 0) {
        host_check(t, crt, flags);
    }
    if (t->conf->chain_vrfy != NULL) {
        int r = t->conf->chain_vrfy(t->conf->chain_p, crt, depth, flags);
        // The bundle answers "no trusted root" with an error, which mbedTLS turns into
        // X509_FATAL_ERROR and loses the reason; as a flag it is a verification failure.
        if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
            *flags |= MBEDTLS_X509_BADCERT_NOT_TRUSTED;
            return 0;
        }
        return r;
    }
    return 0;
}

// ---- connections

static void tls_free(fs_tls_t *t);

static fs_tls_t *tls_new(fs_tls_conf_t *conf, fs_tp_t *tp) {
    fs_tls_t *t = mbedtls_calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    mbedtls_ssl_init(&t->ssl);
    t->conf = conf;
    conf->refs++;
    t->tp = tp;
    if (mbedtls_ssl_setup(&t->ssl, &conf->ssl) != 0) {
        tls_free(t);
        return NULL;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_verify(&t->ssl, verify_cb, t);
    return t;
}

static void tls_free(fs_tls_t *t) {
    if (t == NULL) {
        return;
    }
    mbedtls_ssl_free(&t->ssl);
    conf_release(t->conf);
    mbedtls_free(t);
}

// Keep the connection's session for the next handshake with the same server: after a TLS 1.2
// handshake, and for TLS 1.3 after each NewSessionTicket (mbedTLS exports each session once;
// a TLS 1.3 handshake itself has none to export, so the last remembered one stays until then).
static void remember(fs_tls_t *t) {
    fs_tls_conf_t *c = t->conf;
    if (t->host[0] == '\0') {
        return;
    }
    mbedtls_ssl_session got;
    mbedtls_ssl_session_init(&got);
    if (mbedtls_ssl_get_session(&t->ssl, &got) != 0) {
        mbedtls_ssl_session_free(&got);
        return;
    }
    remembered_t *r = remembered_find(c, t->host, t->port);
    if (r == NULL) {
        r = &c->remembered[c->next];
        c->next = (uint8_t)((c->next + 1) % FS_TLS_SESSIONS);
    }
    remembered_forget(r);
    r->session = got; // owns what got pointed to
    strcpy(r->host, t->host);
    r->port = t->port;
    r->used = 1;
}

// An mbedTLS error during I/O: the transport's own error if one caused it.
static int io_error(fs_tls_t *t, int r) {
    t->mbed_err = r;
    if (t->tp_err) {
        return t->tp_err;
    }
    if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
        return FS_TLS_ERR_NOMEM;
    }
    return FS_TLS_ERR_RECORD;
}

// Handshake for host (SNI and certificate name), offering a remembered session for host:port.
static int handshake(fs_tls_t *t, const char *host, uint16_t port, fs_deadline_t deadline) {
    size_t hlen = strlen(host);
    if (hlen < sizeof(t->host)) {
        memcpy(t->host, host, hlen + 1);
    }
    t->port = port;
    t->deadline = deadline;
    int r = mbedtls_ssl_set_hostname(&t->ssl, host);
    if (r != 0) {
        return io_error(t, r);
    }
    remembered_t *old = t->host[0] ? remembered_find(t->conf, t->host, port) : NULL;
    if (old != NULL && mbedtls_ssl_set_session(&t->ssl, &old->session) == 0) {
        t->offered = 1;
    }
    t->in_handshake = 1;
    do {
        r = mbedtls_ssl_handshake(&t->ssl);
    } while (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE);
    t->in_handshake = 0;
    if (r == 0) {
        t->resumed = t->offered && t->certs_seen == 0;
        fs_tls_stats.handshakes++;
        fs_tls_stats.resumed += t->resumed;
        remember(t);
        return 0;
    }
    t->mbed_err = r;
    if (old != NULL) {
        // The offered session may be what the server disliked: don't offer it again.
        remembered_forget(old);
    }
    if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && t->ssl.MBEDTLS_PRIVATE(in_msg) != NULL) {
        t->alert = t->ssl.MBEDTLS_PRIVATE(in_msg)[1];
    }
    // TLS records start with a content type of 20..23; anything printable is a plain-text answer.
    if (t->first >= 0x20 && t->first < 0x7f) {
        return FS_TLS_ERR_PLAIN_HTTP;
    }
    if (t->tp_err) {
        return t->tp_err;
    }
    if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        t->vflags = mbedtls_ssl_get_verify_result(&t->ssl);
        return FS_TLS_ERR_VERIFY;
    }
    if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED || r == MBEDTLS_ERR_X509_ALLOC_FAILED) {
        return FS_TLS_ERR_NOMEM;
    }
    return FS_TLS_ERR_HANDSHAKE;
}

static const char *alert_name(int a) {
    switch (a) {
        case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
            return "handshake_failure: no cipher suite or key exchange both ends support";
        case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
            return "protocol_version: no TLS version both ends support (this client: TLS 1.2, 1.3)";
#else
            return "protocol_version: no TLS version both ends support (this client: TLS 1.2 only)";
#endif
        case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY:
            return "insufficient_security: the server wants stronger cipher suites";
        case MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME:
            return "unrecognized_name: the server does not serve this host name (SNI)";
        case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER:
            return "illegal_parameter";
        case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR:
            return "decode_error";
        default:
            return NULL;
    }
}

// The first verification problems by importance, as one line.
static void verify_reason(const fs_tls_t *t, char *buf, size_t len) {
    static const struct {
        uint32_t flag;
        const char *text;
    } reasons[] = {
        { MBEDTLS_X509_BADCERT_NOT_TRUSTED,
          "unknown CA (the chain does not end at a trusted certificate; pass ca=)" },
        { MBEDTLS_X509_BADCERT_CN_MISMATCH,
          "host name mismatch (the certificate is not for this host)" },
        { MBEDTLS_X509_BADCERT_EXPIRED, "certificate expired" },
        { MBEDTLS_X509_BADCERT_FUTURE, "certificate not yet valid (is the clock set?)" },
        { MBEDTLS_X509_BADCERT_REVOKED, "certificate revoked" },
        { MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE,
          "certificate not meant for TLS servers" },
        { MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY,
          "certificate uses an unacceptable hash or key" },
    };
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (t->vflags & reasons[i].flag) {
            const char *text =
                reasons[i].flag == MBEDTLS_X509_BADCERT_CN_MISMATCH && t->no_san
                    ? "no subjectAltName (a certificate naming its host only in CN is not accepted)"
                    : reasons[i].text;
            int k = snprintf(buf + n, len - n, "%s%s", n ? "; " : "", text);
            if (k < 0 || (size_t)k >= len - n) {
                return;
            }
            n += (size_t)k;
        }
    }
    if (n == 0) {
        int k = mbedtls_x509_crt_verify_info(buf, len, "", t->vflags);
        // One line: the library's text ends each reason with a newline.
        for (char *p = buf; k > 0 && *p; p++) {
            if (*p == '\n') {
                *p = *(p + 1) ? ';' : '\0';
            }
        }
    }
}

static const char *tls_strerror(const fs_tls_t *t, int code, char *buf, size_t len) {
    char why[112];
    why[0] = '\0';
    if (t != NULL && t->mbed_err) {
        mbedtls_strerror(t->mbed_err, why, sizeof(why));
    }
    switch (code) {
        case FS_TLS_ERR_VERIFY: {
            char reason[160];
            verify_reason(t, reason, sizeof(reason));
            snprintf(buf, len, "certificate verify failed for '%s': %s", t->host, reason);
            break;
        }
        case FS_TLS_ERR_PLAIN_HTTP:
            snprintf(buf, len,
                     "TLS handshake failed: the server answered in plain text%s, not TLS "
                     "(wrong port, or use http://)",
                     t->first == 'H' ? " (HTTP)" : "");
            break;
        case FS_TLS_ERR_HANDSHAKE: {
            const char *a = t != NULL ? alert_name(t->alert) : NULL;
            if (a != NULL) {
                snprintf(buf, len, "TLS handshake failed: the server sent alert %s", a);
            } else if (t != NULL && t->alert) {
                snprintf(buf, len, "TLS handshake failed: the server sent alert %d", t->alert);
            } else {
                snprintf(buf, len, "TLS handshake failed: %s (-0x%04x)", why,
                         t ? (unsigned)-t->mbed_err : 0u);
            }
            break;
        }
        case FS_TLS_ERR_NOMEM:
            if (capped) {
                cap_message(buf, len);
            } else {
                snprintf(buf, len, "out of memory for TLS (%u bytes in use by TLS)",
                         (unsigned)fs_tls_stats.bytes);
            }
            break;
        case FS_TLS_ERR_RECORD:
            snprintf(buf, len, "TLS error: %s (-0x%04x)", why, t ? (unsigned)-t->mbed_err : 0u);
            break;
        default:
            snprintf(buf, len, "TLS error %d", code);
            break;
    }
    return buf;
}

// ---- the transport's shape over decrypted bytes

static int tls_fill_own(void *ctx, fs_deadline_t deadline) {
    fs_tls_t *t = ctx;
    if (t->eof) {
        return t->eof == 1 ? 0 : FS_ERR_TLS_TRUNCATED;
    }
    if (t->start > 0) {
        memmove(t->buf, t->buf + t->start, t->end - t->start);
        t->end -= t->start;
        t->start = 0;
    }
    if (t->end == sizeof(t->buf)) {
        return -MP_ENOBUFS;
    }
    t->deadline = deadline;
    for (;;) {
        int r = mbedtls_ssl_read(&t->ssl, t->buf + t->end, sizeof(t->buf) - t->end);
        if (r > 0) {
            t->end += (uint32_t)r;
            return r;
        }
        // End of stream. Only close_notify proves the server ended it: a bare TCP close may be
        // an attacker cutting a close-delimited body short, so the caller is told which.
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            t->eof = 1;
            return 0;
        }
        if (r == 0 || r == MBEDTLS_ERR_SSL_CONN_EOF) {
            t->eof = 2;
            return FS_ERR_TLS_TRUNCATED;
        }
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
            continue;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
            // TLS 1.3 tickets arrive after the handshake: a record done, so the next wait gets
            // its own read timeout (the first few; a ticket flood shares the caller's).
            remember(t);
            if (t->tickets < TICKETS_FRESH_WAIT) {
                t->tickets++;
                return FS_ERR_AGAIN;
            }
            continue;
        }
#endif
        return io_error(t, r);
    }
}

static size_t tls_segments(void *ctx, fs_seg_t *segs, size_t max) {
    fs_tls_t *t = ctx;
    if (max == 0 || t->end == t->start) {
        return 0;
    }
    segs[0].ptr = t->buf + t->start;
    segs[0].len = t->end - t->start;
    return 1;
}

static size_t tls_buffered(const void *ctx) {
    const fs_tls_t *t = ctx;
    return t->end - t->start;
}

static void tls_consume(void *ctx, size_t n) {
    fs_tls_t *t = ctx;
    t->start += (uint32_t)n;
    if (t->start == t->end) {
        t->start = t->end = 0;
    }
}

static int tls_write_own(void *ctx, const uint8_t *buf, size_t len, fs_deadline_t deadline) {
    fs_tls_t *t = ctx;
    t->deadline = deadline;
    while (len > 0) {
        int r = mbedtls_ssl_write(&t->ssl, buf, len);
        if (r > 0) {
            buf += r;
            len -= (size_t)r;
        } else if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
            return io_error(t, r);
        }
    }
    return 0;
}

// XXX raw bytes at the transport may be part of a record only: a fill can still wait for the
// rest of it (bounded by the read timeout).
static int tls_readable_own(void *ctx) {
    fs_tls_t *t = ctx;
    return t->end > t->start || t->eof || mbedtls_ssl_get_bytes_avail(&t->ssl) > 0 ||
           fs_tp_ops.readable(t->tp);
}

static int tls_recv_into(void *ctx, uint8_t *buf, size_t len, fs_deadline_t deadline) {
    (void)ctx;
    (void)buf;
    (void)len;
    (void)deadline;
    return FS_ERR_NO_RECV_INTO;
}

// Connect the transport under it, then shake hands; no response is ever read from a server
// whose handshake or verification failed.
static int tls_connect_own(void *ctx, const char *host, uint16_t port, fs_deadline_t deadline) {
    fs_tls_t *t = ctx;
    int r = fs_tp_ops.connect(t->tp, host, port, deadline);
    return r < 0 ? r : handshake(t, host, port, deadline);
}

// The TLS state and the transport under it.
static void tls_close(void *ctx) {
    fs_tls_t *t = ctx;
    fs_tp_ops.close(t->tp);
    fs_tls_free(t);
}

// ---- entry points: each call from the rest of fastsock into mbedTLS is counted as its own.

int fs_tls_conf_new(fs_tls_conf_t **out, int verify, const uint8_t *ca, size_t ca_len, char *msg,
                    size_t msglen) {
    install_hooks();
    uint32_t denied = fs_tls_stats.denied;
    int r = capped_code(OWN(conf_new(out, verify, ca, ca_len, msg, msglen)), denied);
    if (r == FS_TLS_ERR_NOMEM && capped) {
        cap_message(msg, msglen);
    }
    return r;
}

void fs_tls_conf_release(fs_tls_conf_t *c) {
    OWN_ENTER();
    conf_release(c);
    OWN_LEAVE();
}

fs_tls_t *fs_tls_new(fs_tls_conf_t *conf, fs_tp_t *tp) {
    uint32_t denied = fs_tls_stats.denied;
    fs_tls_t *t = OWN(tls_new(conf, tp));
    capped_code(0, denied);
    return t;
}

void fs_tls_free(fs_tls_t *t) {
    OWN_ENTER();
    tls_free(t);
    OWN_LEAVE();
}

const char *fs_tls_strerror(const fs_tls_t *t, int code, char *buf, size_t len) {
    return OWN(tls_strerror(t, code, buf, len));
}

static int tls_connect(void *ctx, const char *host, uint16_t port, fs_deadline_t deadline) {
    uint32_t denied = fs_tls_stats.denied;
    return capped_code(OWN(tls_connect_own(ctx, host, port, deadline)), denied);
}

static int tls_fill(void *ctx, fs_deadline_t deadline) {
    uint32_t denied = fs_tls_stats.denied;
    return capped_code(OWN(tls_fill_own(ctx, deadline)), denied);
}

static int tls_write(void *ctx, const uint8_t *buf, size_t len, fs_deadline_t deadline) {
    uint32_t denied = fs_tls_stats.denied;
    return capped_code(OWN(tls_write_own(ctx, buf, len, deadline)), denied);
}

static int tls_readable(void *ctx) {
    return OWN(tls_readable_own(ctx));
}

const fs_io_ops_t fs_tls_ops = {
    .connect = tls_connect,
    .write = tls_write,
    .fill = tls_fill,
    .segments = tls_segments,
    .buffered = tls_buffered,
    .consume = tls_consume,
    .recv_into = tls_recv_into,
    .readable = tls_readable,
    .close = tls_close,
};

const char *fs_tls_version(const fs_tls_t *t) {
    return OWN(mbedtls_ssl_get_version(&t->ssl));
}

const char *fs_tls_cipher(const fs_tls_t *t) {
    return OWN(mbedtls_ssl_get_ciphersuite(&t->ssl));
}

int fs_tls_resumed(const fs_tls_t *t) {
    return t->resumed;
}

#endif // FS_TLS

// SPDX-License-Identifier: MIT
// fastsock host port entry point: `micropython [-X heapsize=N[k|m]] (script.py | -c code) [args]`.
// Runs one script; on an uncaught exception prints the traceback and exits 1.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "py/builtin.h"
#include "py/compile.h"
#include "py/gc.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/stackctrl.h"
#include "shared/runtime/gchelper.h"
#if FS_TRANSPORT_LWIP
#include "hostnet.h"
#endif

#ifndef FS_HOST_LIBPATH
#define FS_HOST_LIBPATH ""
#endif

static char *heap;

static void stderr_print_strn(void *env, const char *str, size_t len) {
    (void)env;
    ssize_t r = write(STDERR_FILENO, str, len);
    (void)r;
}

const mp_print_t mp_stderr_print = { NULL, stderr_print_strn };

static void sigint_handler(int signum) {
    (void)signum;
    mp_sched_keyboard_interrupt();
}

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}

void nlr_jump_fail(void *val) {
    fprintf(stderr, "FATAL: uncaught NLR %p\n", val);
    exit(1);
}

mp_import_stat_t mp_import_stat(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0) {
        return S_ISDIR(st.st_mode) ? MP_IMPORT_STAT_DIR : MP_IMPORT_STAT_FILE;
    }
    return MP_IMPORT_STAT_NO_EXIST;
}

// socket.makefile() is the only user of the VFS; the host port has none.
mp_obj_t mp_vfs_open(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args) {
    (void)n_args;
    (void)args;
    (void)kw_args;
    mp_raise_OSError(MP_EOPNOTSUPP);
}

void mp_hal_set_interrupt_char(int c) {
    (void)c;
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    ssize_t r = write(STDOUT_FILENO, str, len);
    return r < 0 ? 0 : (mp_uint_t)r;
}

// Newlines stay "\n" as on the unix port (shared/runtime/stdout_helpers.c would write "\r\n",
// which is for UARTs): scripts parsing the output see plain lines.
void mp_hal_stdout_tx_strn_cooked(const char *str, size_t len) {
    mp_hal_stdout_tx_strn(str, len);
}

void mp_hal_stdout_tx_str(const char *str) {
    mp_hal_stdout_tx_strn(str, strlen(str));
}

int mp_hal_stdin_rx_chr(void) {
    unsigned char c;
    return read(STDIN_FILENO, &c, 1) == 1 ? c : 4; // EOF reads as Ctrl-D
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    (void)poll_flags;
    return 0;
}

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

mp_uint_t mp_hal_ticks_ms(void) {
    return (mp_uint_t)(monotonic_ns() / 1000000u);
}

mp_uint_t mp_hal_ticks_us(void) {
    return (mp_uint_t)(monotonic_ns() / 1000u);
}

uint64_t mp_hal_time_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void mp_hal_delay_ms(mp_uint_t ms) {
    // Sleep in slices so Ctrl-C is raised promptly.
    uint64_t end = monotonic_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS);
        uint64_t now = monotonic_ns();
        if (now >= end) {
            return;
        }
        uint64_t left_us = (end - now) / 1000u;
        usleep(left_us > 10000 ? 10000 : (useconds_t)left_us);
    }
}

static void path_append(const char *p, size_t len) {
    mp_obj_list_append(mp_sys_path, mp_obj_new_str_via_qstr(p, len));
}

// Append each entry of a colon-separated list (NULL: none).
static void path_append_all(const char *list) {
    for (const char *p = list; p != NULL && *p;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        path_append(p, n);
        p = colon ? colon + 1 : p + n;
    }
}

// sys.path: the script's folder, MICROPYPATH entries, then fastsock's own Python files.
static void init_path(const char *script) {
    const char *slash = script ? strrchr(script, '/') : NULL;
    path_append(script ? script : "", slash ? (size_t)(slash - script) : 0);
    path_append_all(getenv("MICROPYPATH"));
    path_append_all(FS_HOST_LIBPATH);
}

// Returns the process exit code for an exception: SystemExit's code, else 1 with a traceback.
static int handle_uncaught(mp_obj_base_t *exc) {
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(exc->type), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        mp_obj_t code = mp_obj_exception_get_value(MP_OBJ_FROM_PTR(exc));
        if (code == mp_const_none) {
            return 0;
        }
        mp_int_t val;
        if (mp_obj_get_int_maybe(code, &val)) {
            return (int)val & 0xff;
        }
        mp_obj_print_helper(&mp_stderr_print, code, PRINT_STR);
        mp_print_str(&mp_stderr_print, "\n");
        return 1;
    }
    mp_obj_print_exception(&mp_stderr_print, MP_OBJ_FROM_PTR(exc));
    return 1;
}

static int run(const char *script, const char *code) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_lexer_t *lex =
            script ? mp_lexer_new_from_file(qstr_from_str(script))
                   : mp_lexer_new_from_str_len(MP_QSTR__lt_stdin_gt_, code, strlen(code), 0);
        qstr source_name = lex->source_name;
        mp_parse_tree_t pt = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t fun = mp_compile(&pt, source_name, false);
        mp_call_function_0(fun);
        mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS);
        nlr_pop();
        return 0;
    }
    return handle_uncaught((mp_obj_base_t *)nlr.ret_val);
}

static size_t parse_size(const char *s) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024 * 1024;
    }
    return (size_t)v;
}

static int usage(void) {
    fprintf(stderr, "usage: micropython [-X heapsize=N[k|m]] (script.py | -c code) [args...]\n");
    return 2;
}

int main(int argc, char **argv) {
    mp_stack_ctrl_init();
    mp_stack_set_limit(256 * 1024);
    size_t heap_size = 8 * 1024 * 1024;
    const char *script = NULL;
    const char *code = NULL;
    int a = 1;
    for (; a < argc; a++) {
        if (strcmp(argv[a], "-X") == 0 && a + 1 < argc &&
            strncmp(argv[a + 1], "heapsize=", 9) == 0) {
            heap_size = parse_size(argv[++a] + 9);
        } else if (strcmp(argv[a], "-c") == 0 && a + 1 < argc) {
            code = argv[++a];
            break;
        } else if (argv[a][0] == '-') {
            return usage();
        } else {
            script = argv[a];
            break;
        }
    }
    if (script == NULL && code == NULL) {
        return usage();
    }
    if (heap_size < 4096) {
        fprintf(stderr, "micropython: heapsize too small\n");
        return 2;
    }
    heap = malloc(heap_size);
    if (heap == NULL) {
        fprintf(stderr, "micropython: cannot allocate heap of %zu bytes\n", heap_size);
        return 2;
    }
    gc_init(heap, heap + heap_size);
    mp_init();
    signal(SIGINT, sigint_handler);
    signal(SIGPIPE, SIG_IGN);
    init_path(script);
    for (int i = a; i < argc; i++) {
        mp_obj_list_append(mp_sys_argv, mp_obj_new_str_from_cstr(argv[i]));
    }
#if FS_TRANSPORT_LWIP
    // lwIP and its netif (TAP or slirp, from FASTSOCK_* variables) before the script runs.
    if (fs_host_net_init() != 0) {
        return 2;
    }
#endif
    int ret = run(script, code);
    // Run finalisers (closing sockets, freeing transport buffers) before exit.
    gc_sweep_all();
    mp_deinit();
    free(heap);
    return ret;
}

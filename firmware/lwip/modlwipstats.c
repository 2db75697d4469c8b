// SPDX-License-Identifier: MIT
// lwipstats: lwIP's statistics for host tests (host-lwip builds only, never on the device).
//   used()   -> {pool name: entries in use, ..., "HEAP": bytes of lwIP's heap in use,
//                "TCP_PCB_TIME_WAIT": pcbs of closed connections waiting out 2 MSL}
//   faults() -> what the host netif and its fault injector did (see hostnet.h)
//   coalesced() -> bytes fastsock's transport copied to merge chains of tiny pbufs
//   display() prints lwIP's own stats_display() report.
#include "py/runtime.h"

#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcpip.h"

#include "fs_transport.h"
#include "hostnet.h"

// Pcbs in TIME_WAIT, counted in the tcpip thread (core locking is off, as on ESP-IDF).
static sys_sem_t tw_sem;
static volatile int tw_count;

static void count_time_wait(void *arg) {
    (void)arg;
    int n = 0;
    for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next) {
        n++;
    }
    tw_count = n;
    sys_sem_signal(&tw_sem);
}

static int time_wait_pcbs(void) {
    if (!sys_sem_valid(&tw_sem) && sys_sem_new(&tw_sem, 0) != ERR_OK) {
        return 0;
    }
    if (tcpip_callback(count_time_wait, NULL) != ERR_OK) {
        return 0;
    }
    sys_arch_sem_wait(&tw_sem, 0);
    return tw_count;
}

static mp_obj_t lwipstats_used(void) {
    mp_obj_t d = mp_obj_new_dict(MEMP_MAX + 1);
    for (int i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        if (m != NULL) {
            mp_obj_dict_store(d, mp_obj_new_str_from_cstr(m->name), MP_OBJ_NEW_SMALL_INT(m->used));
        }
    }
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_HEAP), mp_obj_new_int_from_uint(lwip_stats.mem.used));
    // Not a pool: how many TCP_PCB entries are closed connections waiting out 2 MSL.
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_TCP_PCB_TIME_WAIT),
                      MP_OBJ_NEW_SMALL_INT(time_wait_pcbs()));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(lwipstats_used_obj, lwipstats_used);

static mp_obj_t lwipstats_faults(void) {
    const fs_hostnet_stats_t *s = &fs_hostnet_stats;
    mp_obj_t d = mp_obj_new_dict(8);
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_frames_in), mp_obj_new_int_from_uint(s->frames_in));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_frames_out), mp_obj_new_int_from_uint(s->frames_out));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_dropped), mp_obj_new_int_from_uint(s->dropped));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_duplicated), mp_obj_new_int_from_uint(s->duplicated));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_delayed), mp_obj_new_int_from_uint(s->delayed));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_reordered), mp_obj_new_int_from_uint(s->reordered));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_no_pbuf), mp_obj_new_int_from_uint(s->no_pbuf));
    mp_obj_dict_store(d, MP_ROM_QSTR(MP_QSTR_guard_dropped),
                      mp_obj_new_int_from_uint(s->guard_dropped));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(lwipstats_faults_obj, lwipstats_faults);

static mp_obj_t lwipstats_coalesced(void) {
    return mp_obj_new_int_from_uint(fs_tp_stats.bytes_copied);
}
static MP_DEFINE_CONST_FUN_OBJ_0(lwipstats_coalesced_obj, lwipstats_coalesced);

static mp_obj_t lwipstats_display(void) {
    stats_display();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(lwipstats_display_obj, lwipstats_display);

static const mp_rom_map_elem_t lwipstats_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_lwipstats) },
    { MP_ROM_QSTR(MP_QSTR_used), MP_ROM_PTR(&lwipstats_used_obj) },
    { MP_ROM_QSTR(MP_QSTR_faults), MP_ROM_PTR(&lwipstats_faults_obj) },
    { MP_ROM_QSTR(MP_QSTR_coalesced), MP_ROM_PTR(&lwipstats_coalesced_obj) },
    { MP_ROM_QSTR(MP_QSTR_display), MP_ROM_PTR(&lwipstats_display_obj) },
    // The options this build took from the board's files (tests compare them with the files).
    { MP_ROM_QSTR(MP_QSTR_TCP_WND), MP_ROM_INT(TCP_WND) },
    { MP_ROM_QSTR(MP_QSTR_TCP_MSS), MP_ROM_INT(TCP_MSS) },
    { MP_ROM_QSTR(MP_QSTR_RECVMBOX), MP_ROM_INT(DEFAULT_TCP_RECVMBOX_SIZE) },
};
static MP_DEFINE_CONST_DICT(lwipstats_module_globals, lwipstats_module_globals_table);

const mp_obj_module_t lwipstats_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&lwipstats_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_lwipstats, lwipstats_module);

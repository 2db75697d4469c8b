# SPDX-License-Identifier: MIT
# lwIP 2.1.3 (Debian's source package, fetched at build time) for the host port's lwIP build,
# plus fastsock's host glue (sys_arch, TAP/slirp netif, fault injection, `lwipstats`).
# Included by firmware/host/Makefile when FS_TRANSPORT=lwip; expects FS_ROOT and BUILD.
# FS_BOARD_VARIANT (e.g. SPIRAM) picks the board variant whose lwIP options the build uses.
FS_LWIP_PORT := $(FS_ROOT)/firmware/lwip
LWIP_DIR ?= $(shell $(FS_ROOT)/scripts/fetch-lwip)
ifeq ($(wildcard $(LWIP_DIR)/src/core/tcp.c),)
$(error lwIP sources not found at '$(LWIP_DIR)' (scripts/fetch-lwip failed, or set LWIP_DIR))
endif
LWIP_SRC := $(LWIP_DIR)/src

LWIP_C := \
	$(addprefix core/, init.c def.c dns.c inet_chksum.c ip.c mem.c memp.c netif.c pbuf.c \
		raw.c stats.c sys.c tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
	$(addprefix core/ipv4/, autoip.c dhcp.c etharp.c icmp.c igmp.c ip4.c ip4_addr.c ip4_frag.c) \
	$(addprefix api/, api_lib.c api_msg.c err.c netbuf.c tcpip.c) \
	netif/ethernet.c
FS_LWIP_GLUE_C := sys_arch.c hostnet.c netif_tap.c netif_slirp.c

# The board's lwIP options (TCP window, buffers, mailboxes), generated from its sdkconfig files.
FS_BOARD_DIR := $(FS_ROOT)/boards/ESP32_NET
FS_BOARD_VARIANT ?=
LWIP_GEN := $(BUILD)/lwip-gen
LWIP_SDKCONFIG := $(LWIP_GEN)/lwip_sdkconfig.h
# Regenerated on every make (the script rewrites it only when its content changes), so a
# different FS_BOARD_VARIANT in the same BUILD cannot keep a stale header.
$(shell $(FS_ROOT)/scripts/board-sdkconfig --board $(FS_BOARD_DIR) --variant '$(FS_BOARD_VARIANT)' \
	-o $(LWIP_SDKCONFIG) >&2 || echo FAILED > $(LWIP_SDKCONFIG).failed)
ifneq ($(wildcard $(LWIP_SDKCONFIG).failed),)
$(shell rm -f $(LWIP_SDKCONFIG).failed)
$(error scripts/board-sdkconfig failed for $(FS_BOARD_DIR) variant '$(FS_BOARD_VARIANT)')
endif

LWIP_INC := -I$(FS_LWIP_PORT) -I$(LWIP_GEN) -I$(LWIP_SRC)/include
# modlwipstats.c reads the transport's counters.
CFLAGS += -I$(FS_ROOT)/cmodules/fastsock
LWIP_OBJ := $(addprefix $(BUILD)/lwip/, $(LWIP_C:.c=.o))
FS_LWIP_GLUE_OBJ := $(addprefix $(BUILD)/lwip-glue/, $(FS_LWIP_GLUE_C:.c=.o))
LWIP_LIB := $(BUILD)/liblwip-host.a
LWIP_CFLAGS := $(LWIP_INC) -std=gnu99 -O2 -g -fno-common -Wall -Wno-address
LWIP_LWIPOPTS_DEPS := $(FS_LWIP_PORT)/lwipopts.h $(LWIP_SDKCONFIG) $(FS_LWIP_PORT)/arch/cc.h $(FS_LWIP_PORT)/arch/sys_arch.h

# The interpreter: fastsock over lwIP, the init hook in main.c, the `lwipstats` module.
CFLAGS += $(LWIP_INC) -DFS_TRANSPORT_LWIP=1
SRC_C += modlwipstats.c
SRC_QSTR += modlwipstats.c
vpath modlwipstats.c $(FS_LWIP_PORT)
LIBS += -lslirp -lpthread

$(BUILD)/lwip/%.o: $(LWIP_SRC)/%.c $(LWIP_LWIPOPTS_DEPS)
	$(Q)mkdir -p $(dir $@)
	$(ECHO) "CC lwip/$*.c"
	$(Q)$(CC) $(LWIP_CFLAGS) -c -o $@ $<

$(BUILD)/lwip-glue/%.o: $(FS_LWIP_PORT)/%.c $(LWIP_LWIPOPTS_DEPS) $(FS_LWIP_PORT)/hostnet.h
	$(Q)mkdir -p $(dir $@)
	$(ECHO) "CC firmware/lwip/$*.c"
	$(Q)$(CC) $(LWIP_CFLAGS) -Werror -c -o $@ $<

$(LWIP_LIB): $(LWIP_OBJ) $(FS_LWIP_GLUE_OBJ)
	$(ECHO) "AR $@"
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/$(PROG): $(LWIP_LIB)

# The bare netconn download loop the benchmark compares fastsock with (same lwIP build).
BENCH_NETCONN := $(BUILD)/bench-netconn
$(BENCH_NETCONN): $(FS_LWIP_PORT)/bench_netconn.c $(LWIP_LIB) $(LWIP_LWIPOPTS_DEPS)
	$(ECHO) "LINK $@"
	$(Q)$(CC) $(LWIP_CFLAGS) -Werror -o $@ $< $(LWIP_LIB) -lslirp -lpthread

all: $(BENCH_NETCONN)

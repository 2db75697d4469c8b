# SPDX-License-Identifier: MIT
# mbedTLS 3.6 (Debian trixie's source package, fetched at build time) for the host port's TLS,
# built per flavour with fastsock's config overlay. Included by firmware/host/Makefile when
# FS_TLS=1; expects FS_ROOT and BUILD. The ESP32 build uses ESP-IDF v5.5's own mbedTLS 3.6.
# library/*.c is the whole library (X.509, TLS, legacy and PSA crypto); 3rdparty/ (Everest
# X25519, p256-m) is only compiled in with options this config leaves off.
FS_MBEDTLS_PORT := $(FS_ROOT)/firmware/mbedtls
MBEDTLS_DIR ?= $(shell $(FS_ROOT)/scripts/fetch-mbedtls)
ifeq ($(wildcard $(MBEDTLS_DIR)/library/ssl_tls.c),)
$(error mbedTLS sources not found at '$(MBEDTLS_DIR)' (scripts/fetch-mbedtls failed, or set MBEDTLS_DIR))
endif

MBEDTLS_C := $(notdir $(wildcard $(MBEDTLS_DIR)/library/*.c))
# Objects per source tree: a new pin never links against objects of the old one.
MBEDTLS_BUILD := $(BUILD)/mbedtls/$(notdir $(MBEDTLS_DIR))
MBEDTLS_OBJ := $(addprefix $(MBEDTLS_BUILD)/, $(MBEDTLS_C:.c=.o))
MBEDTLS_LIB := $(MBEDTLS_BUILD)/libmbedtls-host.a
# The library and everything including its headers must see the same config.
MBEDTLS_CONFIG := -I$(MBEDTLS_DIR)/include -I$(FS_MBEDTLS_PORT) -I$(FS_ROOT)/cmodules/fastsock \
	-DMBEDTLS_USER_CONFIG_FILE='"mbedtls_user_config.h"'
MBEDTLS_CFLAGS := $(MBEDTLS_CONFIG) -std=gnu99 -O2 -g -fno-common
ifeq ($(FS_SANITIZE),1)
# ASan only: the library's own arithmetic is not ours to UBSan-check.
MBEDTLS_CFLAGS += -fsanitize=address -fno-omit-frame-pointer
endif
MBEDTLS_DEPS := $(FS_MBEDTLS_PORT)/mbedtls_user_config.h $(FS_ROOT)/cmodules/fastsock/fs_config.h

CFLAGS += $(MBEDTLS_CONFIG) -DFS_TLS=1

$(MBEDTLS_BUILD)/%.o: $(MBEDTLS_DIR)/library/%.c $(MBEDTLS_DEPS)
	$(Q)mkdir -p $(dir $@)
	$(ECHO) "CC mbedtls/$*.c"
	$(Q)$(CC) $(MBEDTLS_CFLAGS) -c -o $@ $<

$(MBEDTLS_LIB): $(MBEDTLS_OBJ)
	$(ECHO) "AR $@"
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/$(PROG): $(MBEDTLS_LIB)
LIBS += $(MBEDTLS_LIB)

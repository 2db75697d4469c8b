# SPDX-License-Identifier: MIT
# fastsock for make-based ports (the host port); the ESP32 build uses micropython.cmake.
FASTSOCK_MOD_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(addprefix $(FASTSOCK_MOD_DIR)/,modfastsock.c fs_conn.c fs_request.c fs_body.c fs_pool.c fs_exc.c \
	fs_headers.c fs_response.c)
SRC_USERMOD_LIB_C += $(FASTSOCK_MOD_DIR)/fs_http.c
# FS_TRANSPORT=lwip (host builds over a real lwIP): the device's netconn transport.
ifeq ($(FS_TRANSPORT),lwip)
SRC_USERMOD_LIB_C += $(FASTSOCK_MOD_DIR)/fs_transport_lwip.c
else
SRC_USERMOD_LIB_C += $(FASTSOCK_MOD_DIR)/fs_transport_posix.c
endif
CFLAGS_USERMOD += -I$(FASTSOCK_MOD_DIR)
# FS_TLS=1: https:// through mbedTLS (the host Makefile builds the library, firmware/mbedtls).
ifeq ($(FS_TLS),1)
SRC_USERMOD_LIB_C += $(FASTSOCK_MOD_DIR)/fs_tls.c
SRC_USERMOD_C += $(FASTSOCK_MOD_DIR)/fs_tlsconfig.c
endif

# fastsock for make-based ports (the host port); the ESP32 build uses micropython.cmake.
FASTSOCK_MOD_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(FASTSOCK_MOD_DIR)/modfastsock.c $(FASTSOCK_MOD_DIR)/fs_conn.c
SRC_USERMOD_LIB_C += $(FASTSOCK_MOD_DIR)/fs_http.c $(FASTSOCK_MOD_DIR)/fs_transport_posix.c
CFLAGS_USERMOD += -I$(FASTSOCK_MOD_DIR)

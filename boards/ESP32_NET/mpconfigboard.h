// SPDX-License-Identifier: MIT
// ESP32_NET: generic ESP32 module with the fastsock HTTP client.
// Variants pass a plain flag (a -D value with spaces or parentheses would be split apart in
// MicroPython's qstr scan, which then misreads every file) and the name is chosen here.

#if defined(ESP32_NET_VARIANT_SPIRAM)
#define MICROPY_HW_BOARD_NAME "ESP32_NET (fastsock) with SPIRAM"
#elif defined(ESP32_NET_VARIANT_QEMU)
#define MICROPY_HW_BOARD_NAME "ESP32_NET (fastsock) for QEMU"
#else
#define MICROPY_HW_BOARD_NAME "ESP32_NET (fastsock)"
#endif

#ifndef MICROPY_HW_MCU_NAME
#define MICROPY_HW_MCU_NAME "ESP32"
#endif

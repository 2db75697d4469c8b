// ESP32_NET: generic ESP32 module with the fastsock HTTP client.
// The SPIRAM variant overrides the board name from mpconfigvariant_SPIRAM.cmake.

#ifndef MICROPY_HW_BOARD_NAME
#define MICROPY_HW_BOARD_NAME "ESP32_NET (fastsock)"
#endif

#ifndef MICROPY_HW_MCU_NAME
#define MICROPY_HW_MCU_NAME "ESP32"
#endif

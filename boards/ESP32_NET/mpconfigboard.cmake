# SPDX-License-Identifier: MIT
# ESP32_NET: generic ESP32 (WROOM, 4 MiB flash) with the fastsock HTTP client frozen in.
# Build out of tree: make -C <micropython>/ports/esp32 BOARD_DIR=<abs>/boards/ESP32_NET
#   USER_C_MODULES=<abs>/cmodules/micropython.cmake  (scripts/build-firmware does this).
set(IDF_TARGET esp32)

# Port fragments resolve against ports/esp32; our own must be ${MICROPY_BOARD_DIR}/...
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.ble
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)

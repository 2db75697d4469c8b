# SPDX-License-Identifier: MIT
# ESP32_NET-QEMU: the default board with QEMU's OpenCores Ethernet (network.LAN with
# phy_type=network.PHY_OPENETH) for the emulated-ESP32 tests. Everything else is the default
# board's; needs the rig's MicroPython (scripts/esp32-rig), which has PHY_OPENETH.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.ble
    ${MICROPY_BOARD_DIR}/sdkconfig.board
    ${MICROPY_BOARD_DIR}/sdkconfig.qemu
)

# The board name is chosen in mpconfigboard.h from this flag.
list(APPEND MICROPY_DEF_BOARD ESP32_NET_VARIANT_QEMU=1)

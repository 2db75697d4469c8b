# SPDX-License-Identifier: MIT
# ESP32_NET-SPIRAM: WROVER-class modules. The port's SPIRAM fragment first, then ours,
# so our networking values (sdkconfig.board, sdkconfig.spiram) win where they overlap.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.ble
    boards/sdkconfig.spiram
    ${MICROPY_BOARD_DIR}/sdkconfig.board
    ${MICROPY_BOARD_DIR}/sdkconfig.spiram
)

# The board name is chosen in mpconfigboard.h from this flag.
list(APPEND MICROPY_DEF_BOARD ESP32_NET_VARIANT_SPIRAM=1)

# A build whose GCC lacks Espressif's -mfix-esp32-psram-cache-issue (the emulated rig's, built
# from Debian's GCC) names a fragment here that turns the PSRAM cache workaround off (valid on
# chip revision 3 only): scripts/build-firmware --rig does this. Release builds leave it unset.
if(DEFINED ENV{ESP32_NET_SDKCONFIG_EXTRA})
    list(APPEND SDKCONFIG_DEFAULTS $ENV{ESP32_NET_SDKCONFIG_EXTRA})
endif()

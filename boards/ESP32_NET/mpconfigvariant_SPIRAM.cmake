# ESP32_NET-SPIRAM: WROVER-class modules. The port's SPIRAM fragment first, then ours,
# so our networking values (sdkconfig.board, sdkconfig.spiram) win where they overlap.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.ble
    boards/sdkconfig.spiram
    ${MICROPY_BOARD_DIR}/sdkconfig.board
    ${MICROPY_BOARD_DIR}/sdkconfig.spiram
)

# Quoted as a whole: the parentheses would split CMake's unquoted NAME="..." form in two.
list(APPEND MICROPY_DEF_BOARD
    "MICROPY_HW_BOARD_NAME=\"ESP32_NET (fastsock) with SPIRAM\""
)

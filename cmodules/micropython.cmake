# SPDX-License-Identifier: MIT
# All of this repository's user C modules, for USER_C_MODULES=<abs>/cmodules/micropython.cmake.
include(${CMAKE_CURRENT_LIST_DIR}/fastsock/micropython.cmake)

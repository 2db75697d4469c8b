# SPDX-License-Identifier: MIT
# Frozen Python for ESP32_NET: everything the port freezes by default, plus the fastsock
# Python face, fastsock.py and its less used half fastsock_more.py (the C part comes in through
# USER_C_MODULES).
include("$(PORT_DIR)/boards/manifest.py")
module("fastsock.py", base_path="$(BOARD_DIR)/../../cmodules/fastsock")
module("fastsock_more.py", base_path="$(BOARD_DIR)/../../cmodules/fastsock")

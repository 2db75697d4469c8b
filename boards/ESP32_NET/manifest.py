# SPDX-License-Identifier: MIT
# Frozen Python for ESP32_NET: everything the port freezes by default, plus fastsock's Python
# face, the fastsock package (fastsock/__init__.py and its leaf fastsock/_more.py; the C part,
# _fastsock, comes in through USER_C_MODULES).
include("$(PORT_DIR)/boards/manifest.py")
package("fastsock", base_path="$(BOARD_DIR)/../../cmodules/fastsock")

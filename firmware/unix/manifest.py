# SPDX-License-Identifier: MIT
# Frozen into build/host-unix/micropython, as the device freezes them: asyncio (the unix port's
# standard manifest also freezes it) and fastsock's Python half (the fastsock package). The standard manifest's
# micropython-lib packages (unix-ffi, mip, ssl) are not in Debian's +ds source tarball.
include("$(MPY_DIR)/extmod/asyncio")
package("fastsock", base_path="$(FS_ROOT)/cmodules/fastsock")

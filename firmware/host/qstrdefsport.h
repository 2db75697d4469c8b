// SPDX-License-Identifier: MIT
// qstrs specific to the fastsock host port (most are collected automatically)

// SPDX-License-Identifier: MIT
// Empty stand-in: py/modsys.c includes it; the host port has no platform module.

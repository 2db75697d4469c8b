# SPDX-License-Identifier: MIT
# fastsock for CMake-based ports (ESP32): the module's sources and include directory.
add_library(usermod_fastsock INTERFACE)

target_sources(usermod_fastsock INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modfastsock.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_conn.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_request.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_body.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_pool.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_exc.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_headers.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_response.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_http.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_transport_lwip.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_tls.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_tlsconfig.c
)

target_include_directories(usermod_fastsock INTERFACE ${CMAKE_CURRENT_LIST_DIR})

# On the device the transport is lwIP's netconn API, and https:// runs over ESP-IDF's mbedTLS 3.x
# (the port links the mbedtls component, which also holds esp_crt_bundle; record sizes come
# from sdkconfig, see docs/tls.md).
set(FASTSOCK_DEFS FS_TRANSPORT_LWIP=1 FS_TLS=1)
target_compile_definitions(usermod_fastsock INTERFACE ${FASTSOCK_DEFS})
# The qstr scan does not read an INTERFACE library's definitions; without these the qstrs
# behind #if FS_TLS / FS_TRANSPORT_LWIP would be missing from the firmware build.
list(APPEND MICROPY_CPP_DEF_EXTRA ${FASTSOCK_DEFS})

# The esp32 port compiles user-module sources twice: in its main component and, because
# usermod's INTERFACE sources reach the executable too, in micropython.elf, whose objects are
# the ones linked. IDF's build-wide definitions (ESP_PLATFORM, ...) reach only the first, so
# they are given here; without them the ESP32 firmware ran the host's code paths.
if(COMMAND idf_build_get_property)
    idf_build_get_property(FASTSOCK_IDF_DEFS COMPILE_DEFINITIONS)
    idf_build_get_property(FASTSOCK_IDF_C_OPTS C_COMPILE_OPTIONS)
    target_compile_definitions(usermod_fastsock INTERFACE ${FASTSOCK_IDF_DEFS})
    target_compile_options(usermod_fastsock INTERFACE ${FASTSOCK_IDF_C_OPTS})
endif()

target_link_libraries(usermod INTERFACE usermod_fastsock)

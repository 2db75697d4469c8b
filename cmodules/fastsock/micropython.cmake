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

# On the device the transport is lwIP's netconn API.
target_compile_definitions(usermod_fastsock INTERFACE FS_TRANSPORT_LWIP=1)

# https:// over ESP-IDF's mbedTLS 3.x (the port links the mbedtls component, which also holds
# esp_crt_bundle; record sizes come from sdkconfig, see docs/tls.md).
target_compile_definitions(usermod_fastsock INTERFACE FS_TLS=1)

target_link_libraries(usermod INTERFACE usermod_fastsock)

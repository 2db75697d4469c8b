# fastsock for CMake-based ports (ESP32): the module's sources and include directory.
add_library(usermod_fastsock INTERFACE)

target_sources(usermod_fastsock INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modfastsock.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_conn.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_headers.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_response.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_http.c
    ${CMAKE_CURRENT_LIST_DIR}/fs_transport_lwip.c
)

target_include_directories(usermod_fastsock INTERFACE ${CMAKE_CURRENT_LIST_DIR})

# On the device the transport is lwIP's netconn API.
target_compile_definitions(usermod_fastsock INTERFACE FS_TRANSPORT_LWIP=1)

target_link_libraries(usermod INTERFACE usermod_fastsock)

// SPDX-License-Identifier: MIT
// Builtin open() for the host port: a POSIX file descriptor behind MicroPython's stream
// protocol, so Response.save() and CA files work as they do with the device's VFS files.
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "py/builtin.h"
#include "py/mperrno.h"
#include "py/runtime.h"
#include "py/stream.h"

typedef struct {
    mp_obj_base_t base;
    int fd;
} host_file_t;

static mp_uint_t host_file_read(mp_obj_t self_in, void *buf, mp_uint_t size, int *errcode) {
    host_file_t *self = MP_OBJ_TO_PTR(self_in);
    ssize_t r;
    do {
        r = read(self->fd, buf, size);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        *errcode = errno;
        return MP_STREAM_ERROR;
    }
    return (mp_uint_t)r;
}

static mp_uint_t host_file_write(mp_obj_t self_in, const void *buf, mp_uint_t size, int *errcode) {
    host_file_t *self = MP_OBJ_TO_PTR(self_in);
    ssize_t r;
    do {
        r = write(self->fd, buf, size);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        *errcode = errno;
        return MP_STREAM_ERROR;
    }
    return (mp_uint_t)r;
}

static mp_uint_t host_file_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    host_file_t *self = MP_OBJ_TO_PTR(self_in);
    switch (request) {
        case MP_STREAM_CLOSE:
            if (self->fd >= 0) {
                close(self->fd);
                self->fd = -1;
            }
            return 0;
        case MP_STREAM_FLUSH:
            return 0;
        case MP_STREAM_SEEK: {
            struct mp_stream_seek_t *s = (struct mp_stream_seek_t *)arg;
            off_t off = lseek(self->fd, s->offset, s->whence);
            if (off < 0) {
                *errcode = errno;
                return MP_STREAM_ERROR;
            }
            s->offset = off;
            return 0;
        }
        case MP_STREAM_GET_FILENO:
            return self->fd;
        default:
            *errcode = MP_EINVAL;
            return MP_STREAM_ERROR;
    }
}

static const mp_rom_map_elem_t host_file_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&mp_stream_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&mp_stream_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_readline), MP_ROM_PTR(&mp_stream_unbuffered_readline_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&mp_stream_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_seek), MP_ROM_PTR(&mp_stream_seek_obj) },
    { MP_ROM_QSTR(MP_QSTR_flush), MP_ROM_PTR(&mp_stream_flush_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&mp_stream_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&mp_stream_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&mp_stream___exit___obj) },
};
static MP_DEFINE_CONST_DICT(host_file_locals, host_file_locals_table);

static const mp_stream_p_t host_file_binary_p = {
    .read = host_file_read,
    .write = host_file_write,
    .ioctl = host_file_ioctl,
};

static const mp_stream_p_t host_file_text_p = {
    .read = host_file_read,
    .write = host_file_write,
    .ioctl = host_file_ioctl,
    .is_text = true,
};

static MP_DEFINE_CONST_OBJ_TYPE(host_file_binary_type, MP_QSTR_FileIO, MP_TYPE_FLAG_ITER_IS_STREAM,
                                protocol, &host_file_binary_p, locals_dict, &host_file_locals);

static MP_DEFINE_CONST_OBJ_TYPE(host_file_text_type, MP_QSTR_TextIOWrapper,
                                MP_TYPE_FLAG_ITER_IS_STREAM, protocol, &host_file_text_p,
                                locals_dict, &host_file_locals);

static mp_obj_t host_open(size_t n_args, const mp_obj_t *args) {
    const char *path = mp_obj_str_get_str(args[0]);
    const char *mode = n_args > 1 ? mp_obj_str_get_str(args[1]) : "r";
    int flags = O_RDONLY;
    bool text = true;
    for (const char *m = mode; *m; m++) {
        switch (*m) {
            case 'r':
                flags = O_RDONLY;
                break;
            case 'w':
                flags = O_WRONLY | O_CREAT | O_TRUNC;
                break;
            case 'a':
                flags = O_WRONLY | O_CREAT | O_APPEND;
                break;
            case 'x':
                flags = O_WRONLY | O_CREAT | O_EXCL;
                break;
            case '+':
                flags = (flags & ~(O_RDONLY | O_WRONLY)) | O_RDWR;
                break;
            case 'b':
                text = false;
                break;
            case 't':
                text = true;
                break;
            default:
                mp_raise_ValueError(MP_ERROR_TEXT("invalid mode"));
        }
    }
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0) {
        mp_raise_OSError_with_filename(errno, path);
    }
    host_file_t *f = mp_obj_malloc_with_finaliser(host_file_t, text ? &host_file_text_type
                                                                    : &host_file_binary_type);
    f->fd = fd;
    return MP_OBJ_FROM_PTR(f);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mp_builtin_open_obj, 1, 2, host_open);

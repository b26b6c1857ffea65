/* SPDX-License-Identifier: MIT */
#include "libsystemd.h"

#include <dlfcn.h>

#include "util.h"

static struct libsystemd lib;
static int load_result = 1; /* 1: not tried yet */

static int resolve(void *dl, const char *name, void *slot) {
        void *p = dlsym(dl, name);
        if (!p)
                return -ENOSYS;
        /* POSIX guarantees a data pointer from dlsym() can hold a function. */
        memcpy(slot, &p, sizeof(p));
        return 0;
}

static int load(void) {
        static const char *const sonames[] = { "libsystemd.so.0", "libelogind.so.0" };
        void *dl = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(sonames) && !dl; i++) {
                dl = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
                if (dl)
                        lib.soname = sonames[i];
        }
        if (!dl)
                return -ENOENT;

        const struct {
                const char *name;
                void *slot;
        } symbols[] = {
                { "sd_pid_get_session", &lib.pid_get_session },
                { "sd_pid_get_cgroup", &lib.pid_get_cgroup },
                { "sd_uid_get_display", &lib.uid_get_display },
                { "sd_seat_get_active", &lib.seat_get_active },
                { "sd_bus_open_system", &lib.bus_open_system },
                { "sd_bus_new", &lib.bus_new },
                { "sd_bus_set_address", &lib.bus_set_address },
                { "sd_bus_set_bus_client", &lib.bus_set_bus_client },
                { "sd_bus_start", &lib.bus_start },
                { "sd_bus_get_unique_name", &lib.bus_get_unique_name },
                { "sd_bus_flush_close_unref", &lib.bus_flush_close_unref },
                { "sd_bus_set_method_call_timeout", &lib.bus_set_method_call_timeout },
                { "sd_bus_call_method", &lib.bus_call_method },
                { "sd_bus_message_read", &lib.message_read },
                { "sd_bus_message_read_basic", &lib.message_read_basic },
                { "sd_bus_message_enter_container", &lib.message_enter_container },
                { "sd_bus_message_exit_container", &lib.message_exit_container },
                { "sd_bus_message_peek_type", &lib.message_peek_type },
                { "sd_bus_message_skip", &lib.message_skip },
                { "sd_bus_message_unref", &lib.message_unref },
                { "sd_bus_error_free", &lib.error_free },
        };
        for (size_t i = 0; i < ARRAY_SIZE(symbols); i++) {
                int r = resolve(dl, symbols[i].name, symbols[i].slot);
                if (r < 0) {
                        dlclose(dl);
                        lib = (struct libsystemd) { 0 };
                        return r;
                }
        }
        /* Stays loaded for the life of the process: its symbols are in use. */
        return 0;
}

int libsystemd_get(const struct libsystemd **ret) {
        if (load_result > 0)
                load_result = load();
        if (load_result < 0)
                return load_result;
        *ret = &lib;
        return 0;
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* sd-login and sd-bus from libsystemd (or libelogind, which has the same
 * interface), loaded with dlopen: one binary runs on hosts with systemd,
 * with elogind, and with neither.  Only the types logoff uses are declared;
 * their layout is libsystemd's stable ABI. */

typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
typedef struct {
        const char *name;
        const char *message;
        int _need_free;
} sd_bus_error;

struct libsystemd {
        const char *soname;
        /* sd-login */
        int (*pid_get_session)(pid_t pid, char **session);
        int (*pid_get_cgroup)(pid_t pid, char **cgroup);
        int (*uid_get_display)(uid_t uid, char **session);
        int (*seat_get_active)(const char *seat, char **session, uid_t *uid);
        /* sd-bus */
        int (*bus_open_system)(sd_bus **bus);
        int (*bus_new)(sd_bus **bus);
        int (*bus_set_address)(sd_bus *bus, const char *address);
        int (*bus_set_bus_client)(sd_bus *bus, int b);
        int (*bus_start)(sd_bus *bus);
        int (*bus_get_unique_name)(sd_bus *bus, const char **name);
        sd_bus *(*bus_flush_close_unref)(sd_bus *bus);
        int (*bus_set_method_call_timeout)(sd_bus *bus, uint64_t usec);
        int (*bus_call_method)(sd_bus *bus, const char *destination, const char *path, const char *interface,
                               const char *member, sd_bus_error *ret_error, sd_bus_message **reply,
                               const char *types, ...);
        int (*message_read)(sd_bus_message *m, const char *types, ...);
        int (*message_read_basic)(sd_bus_message *m, char type, void *p);
        int (*message_enter_container)(sd_bus_message *m, char type, const char *contents);
        int (*message_exit_container)(sd_bus_message *m);
        int (*message_peek_type)(sd_bus_message *m, char *type, const char **contents);
        int (*message_skip)(sd_bus_message *m, const char *types);
        sd_bus_message *(*message_unref)(sd_bus_message *m);
        void (*error_free)(sd_bus_error *e);
};

/* The library, loaded on first use.  Returns 0, or -ENOENT when neither
 * libsystemd nor libelogind is installed, -ENOSYS when one lacks a symbol. */
int libsystemd_get(const struct libsystemd **ret);

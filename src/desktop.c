/* SPDX-License-Identifier: MIT */
#include "desktop.h"

#include <inttypes.h>
#include <limits.h>
#include <sys/wait.h>

#include "interrupt.h"
#include "libsystemd.h"
#include "session.h"
#include "spawn.h"
#include "text.h"
#include "util.h"

/* How long the session manager may take to answer, and the child that asks
 * it to live. */
#define CALL_TIMEOUT_USEC (5u * 1000000u)
#define ASK_TIMEOUT_USEC (8u * 1000000u)
#define POLL_USEC (100u * 1000u)

enum logout_args {
        ARGS_NONE,
        ARGS_XFCE,    /* Logout(show_dialog=false, allow_save=true) */
        ARGS_GNOME,   /* Logout(mode=1): no confirmation, inhibitors honoured */
        ARGS_KSMSERVER, /* logout(confirm=0, type=0 (logout), mode=0) */
};

struct desktop_kind {
        const char *exe;     /* the session manager's executable's name */
        const char *name;
        const char *service, *path, *interface, *method;
        enum logout_args args;
        bool inhibitors;     /* it offers gnome-session's GetInhibitors */
};

/* Each desktop's own "Log out", as its session manager offers it on the
 * session bus.  Plasma 5.25 and later answer org.kde.Shutdown; older ones
 * only ksmserver's interface, tried second. */
static const struct desktop_kind kinds[] = {
        { "xfce4-session", "Xfce", "org.xfce.SessionManager", "/org/xfce/SessionManager", "org.xfce.Session.Manager",
          "Logout", ARGS_XFCE, false },
        { "gnome-session-binary", "GNOME", "org.gnome.SessionManager", "/org/gnome/SessionManager",
          "org.gnome.SessionManager", "Logout", ARGS_GNOME, true },
        { "mate-session", "MATE", "org.gnome.SessionManager", "/org/gnome/SessionManager", "org.gnome.SessionManager",
          "Logout", ARGS_GNOME, true },
        { "cinnamon-session-binary", "Cinnamon", "org.gnome.SessionManager", "/org/gnome/SessionManager",
          "org.gnome.SessionManager", "Logout", ARGS_GNOME, true },
        { "cinnamon-session", "Cinnamon", "org.gnome.SessionManager", "/org/gnome/SessionManager",
          "org.gnome.SessionManager", "Logout", ARGS_GNOME, true },
        { "ksmserver", "KDE Plasma", "org.kde.Shutdown", "/Shutdown", "org.kde.Shutdown", "logout", ARGS_NONE, false },
        { "lxqt-session", "LXQt", "org.lxqt.session", "/LXQtSession", "org.lxqt.session", "logout", ARGS_NONE,
          false },
};

static const struct desktop_kind ksmserver_before_5_25 = {
        "ksmserver", "KDE Plasma", "org.kde.ksmserver", "/KSMServer", "org.kde.KSMServerInterface", "logout",
        ARGS_KSMSERVER, false,
};

/* The executable's name, from /proc/PID/exe: comm is the process's to set. */
static int exe_name(pid_t pid, char *buf, size_t size) {
        char link[64], target[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/%d/exe", (int) pid);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        const char *base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (strlen(base) >= size)
                return -ENAMETOOLONG;
        strcpy(buf, base);
        return 0;
}

static const struct desktop_kind *kind_of(pid_t pid) {
        char name[256];
        if (exe_name(pid, name, sizeof(name)) < 0)
                return NULL;
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                if (streq(name, kinds[i].exe))
                        return &kinds[i];
        return NULL;
}

static const struct desktop_kind *find_manager(const struct proc_info *procs, size_t n, uid_t owner,
                                               const struct proc_info **ret_manager) {
        for (size_t i = 0; i < n; i++) {
                if (procs[i].ruid != owner || procs[i].euid != owner)
                        continue;
                const struct desktop_kind *k = kind_of(procs[i].pid);
                if (k) {
                        *ret_manager = &procs[i];
                        return k;
                }
        }
        return NULL;
}

/* What the child that asks is given. */
struct ask {
        const char *address;
        pid_t manager;
        const struct desktop_kind *kind;
        bool logout; /* false: only read its inhibitors */
};

static void bus_closep(sd_bus **b) {
        const struct libsystemd *lib;
        if (*b && libsystemd_get(&lib) >= 0)
                lib->bus_flush_close_unref(*b);
}

/* The session's bus, as its user (in the child). */
static int bus_connect(const struct libsystemd *lib, const char *address, sd_bus **ret) {
        sd_bus *b = NULL;
        int r = lib->bus_new(&b);
        if (r < 0)
                return r;
        r = lib->bus_set_address(b, address);
        if (r >= 0)
                r = lib->bus_set_bus_client(b, 1);
        if (r >= 0)
                r = lib->bus_start(b);
        if (r >= 0)
                r = lib->bus_set_method_call_timeout(b, CALL_TIMEOUT_USEC);
        if (r < 0) {
                lib->bus_flush_close_unref(b);
                return r;
        }
        *ret = b;
        return 0;
}

static int call_logout(const struct libsystemd *lib, sd_bus *b, const char *owner, const struct desktop_kind *k,
                       sd_bus_error *e) {
        sd_bus_message *reply = NULL;
        int r;
        switch (k->args) {
        case ARGS_XFCE:
                r = lib->bus_call_method(b, owner, k->path, k->interface, k->method, e, &reply, "bb", 0, 1);
                break;
        case ARGS_GNOME:
                r = lib->bus_call_method(b, owner, k->path, k->interface, k->method, e, &reply, "u", 1u);
                break;
        case ARGS_KSMSERVER:
                r = lib->bus_call_method(b, owner, k->path, k->interface, k->method, e, &reply, "iii", 0, 0, 0);
                break;
        case ARGS_NONE:
        default:
                r = lib->bus_call_method(b, owner, k->path, k->interface, k->method, e, &reply, "");
                break;
        }
        if (reply)
                lib->message_unref(reply);
        return r;
}

/* Who owns a name on the bus, and which process that connection is. */
/* A method that answers one string, asked with one string argument or
 * none. */
static int call_for_string(const struct libsystemd *lib, sd_bus *b, const char *dest, const char *path,
                           const char *iface, const char *method, const char *arg, char **ret) {
        sd_bus_error e = { 0 };
        sd_bus_message *reply = NULL;
        const char *v = NULL;
        int r = arg ? lib->bus_call_method(b, dest, path, iface, method, &e, &reply, "s", arg)
                    : lib->bus_call_method(b, dest, path, iface, method, &e, &reply, "");
        if (r >= 0)
                r = lib->message_read(reply, "s", &v);
        if (r >= 0) {
                *ret = strdup(v);
                r = *ret ? 0 : -ENOMEM;
        }
        if (reply)
                lib->message_unref(reply);
        lib->error_free(&e);
        return r < 0 ? r : 0;
}

static int name_owner(const struct libsystemd *lib, sd_bus *b, const char *service, char **ret_owner,
                      uint32_t *ret_pid) {
        int r = call_for_string(lib, b, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "GetNameOwner", service, ret_owner);
        if (r < 0)
                return r;
        sd_bus_error e = { 0 };
        sd_bus_message *reply = NULL;
        r = lib->bus_call_method(b, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                 "GetConnectionUnixProcessID", &e, &reply, "s", *ret_owner);
        if (r >= 0)
                r = lib->message_read(reply, "u", ret_pid);
        if (reply)
                lib->message_unref(reply);
        lib->error_free(&e);
        if (r < 0) {
                free(*ret_owner);
                *ret_owner = NULL;
                return r;
        }
        return 0;
}

/* A string of the session manager's on one line of the answer: its own
 * control characters (a tab or newline would end a field) as spaces, cut
 * short; the parent cleans it again as text from outside. */
static void write_field(int out, const char *s) {
        char buf[256];
        size_t k = 0;
        for (; s && s[k] && k < sizeof(buf) - 1; k++)
                buf[k] = (unsigned char) s[k] < 0x20 || s[k] == 0x7f ? ' ' : s[k];
        buf[k] = '\0';
        dprintf(out, "%s", buf);
}

static int inhibitor_string(const struct libsystemd *lib, sd_bus *b, const char *owner, const char *path,
                            const char *method, char **ret) {
        return call_for_string(lib, b, owner, path, "org.gnome.SessionManager.Inhibitor", method, NULL, ret);
}

/* gnome-session's GetInhibitors, each as "inhibitor FLAGS\tAPP\tREASON";
 * then "inhibitors-more N" for those not read, or "inhibitors-error E". */
static void write_inhibitors(const struct libsystemd *lib, sd_bus *b, const char *owner,
                             const struct desktop_kind *k, int out) {
        sd_bus_error e = { 0 };
        sd_bus_message *reply = NULL;
        int r = lib->bus_call_method(b, owner, k->path, k->interface, "GetInhibitors", &e, &reply, "");
        lib->error_free(&e);
        if (r >= 0)
                r = lib->message_enter_container(reply, 'a', "o");
        unsigned read = 0, more = 0;
        while (r >= 0) {
                const char *path = NULL;
                r = lib->message_read_basic(reply, 'o', &path);
                if (r <= 0)
                        break;
                if (read == DESKTOP_MAX_INHIBITORS) {
                        more++;
                        continue;
                }
                _cleanup_free_ char *app = NULL, *reason = NULL;
                sd_bus_message *flags_reply = NULL;
                uint32_t flags = 0;
                int q = inhibitor_string(lib, b, owner, path, "GetAppId", &app);
                if (q >= 0)
                        q = inhibitor_string(lib, b, owner, path, "GetReason", &reason);
                if (q >= 0)
                        q = lib->bus_call_method(b, owner, path, "org.gnome.SessionManager.Inhibitor", "GetFlags", &e,
                                                 &flags_reply, "");
                if (q >= 0)
                        q = lib->message_read(flags_reply, "u", &flags);
                if (flags_reply)
                        lib->message_unref(flags_reply);
                lib->error_free(&e);
                if (q < 0)
                        continue; /* released meanwhile */
                dprintf(out, "inhibitor %" PRIu32 "\t", flags);
                write_field(out, app);
                dprintf(out, "\t");
                write_field(out, reason);
                dprintf(out, "\n");
                read++;
        }
        if (reply)
                lib->message_unref(reply);
        if (r < 0)
                dprintf(out, "inhibitors-error %d\n", -r);
        else if (more)
                dprintf(out, "inhibitors-more %u\n", more);
}

/* In the child, as the user: connect to the session's bus, make sure the
 * name is served by the session manager found in the session (a per-user
 * bus serves every session of the user), read its inhibitors, and call its
 * Logout on that very connection.  Writes the inhibitors' lines, then "ok",
 * "owner PID", or "error NAME" and the message on the next line. */
static int ask_child(void *userdata, int out) {
        const struct ask *a = userdata;
        const struct libsystemd *lib;
        int r = libsystemd_get(&lib);
        if (r < 0) {
                dprintf(out, "errno %d\n", -r);
                return 1;
        }
        __attribute__((cleanup(bus_closep))) sd_bus *b = NULL;
        r = bus_connect(lib, a->address, &b);
        if (r < 0) {
                dprintf(out, "errno %d\n", -r);
                return 1;
        }
        const struct desktop_kind *k = a->kind;
        _cleanup_free_ char *owner = NULL;
        uint32_t pid = 0;
        r = name_owner(lib, b, k->service, &owner, &pid);
        if (r < 0 && k->args == ARGS_NONE && streq(k->exe, "ksmserver")) {
                k = &ksmserver_before_5_25;
                r = name_owner(lib, b, k->service, &owner, &pid);
        }
        if (r < 0) {
                dprintf(out, "errno %d\n", -r);
                return 1;
        }
        if ((pid_t) pid != a->manager) {
                dprintf(out, "owner %" PRIu32 "\n", pid);
                return 2;
        }
        if (k->inhibitors)
                write_inhibitors(lib, b, owner, k, out);
        if (!a->logout) {
                dprintf(out, "ok\n");
                return 0;
        }
        sd_bus_error e = { 0 };
        r = call_logout(lib, b, owner, k, &e);
        if (r < 0) {
                dprintf(out, "error %s\n%s", e.name ? e.name : "", e.message ? e.message : "");
                lib->error_free(&e);
                return 3;
        }
        dprintf(out, "ok\n");
        return 0;
}

/* Where the session manager's bus is: what its environment says, else
 * where a per-user bus lives. */
static int bus_address_of(pid_t manager, uid_t uid, char **ret) {
        _cleanup_free_ char *addr = NULL;
        int r = proc_getenv(manager, "DBUS_SESSION_BUS_ADDRESS", &addr);
        if (r >= 0 && addr && addr[0]) {
                *ret = TAKE_PTR(addr);
                return 0;
        }
        if (r < 0 && r != -ENOENT)
                return r;
        return asprintf(ret, "unix:path=/run/user/%u/bus", (unsigned) uid) < 0 ? -ENOMEM : 0;
}

/* A child's last answer, as an errno, and a D-Bus error's name and
 * message as clean text. */
static int parse_status(char *answer, char **ret_error_name, char **ret_error_message) {
        if (streq(answer, "ok\n"))
                return 0;
        int err;
        if (sscanf(answer, "errno %d", &err) == 1 && err > 0)
                return -err;
        if (strncmp(answer, "owner ", 6) == 0)
                return -EPERM; /* the name is another session's manager's */
        if (strncmp(answer, "error ", 6) == 0) {
                char *nl = strchr(answer, '\n');
                if (nl)
                        *nl = '\0';
                *ret_error_name = text_clean(answer + 6);
                *ret_error_message = nl ? text_clean(nl + 1) : NULL;
                return -EREMOTEIO;
        }
        return -EPROTO;
}

static int add_inhibitor(struct desktop_report *rep, char *line) {
        uint32_t flags;
        int used = 0;
        if (sscanf(line, "inhibitor %" SCNu32 "\t%n", &flags, &used) != 1 || used == 0)
                return -EPROTO;
        char *app = line + used, *tab = strchr(app, '\t');
        if (!tab)
                return -EPROTO;
        *tab = '\0';
        if (ARRAY_RESERVE(rep->inhibitors, rep->alloc_inhibitors, rep->n_inhibitors, 4) < 0)
                return -ENOMEM;
        struct desktop_inhibitor *in = &rep->inhibitors[rep->n_inhibitors];
        *in = (struct desktop_inhibitor) { .app_id = text_clean(app), .reason = text_clean(tab + 1), .flags = flags };
        if (!in->app_id || !in->reason) {
                free(in->app_id);
                free(in->reason);
                return -ENOMEM;
        }
        rep->n_inhibitors++;
        return 0;
}

int desktop_parse_answer(char *answer, struct desktop_report *rep) {
        char *line = answer;
        while (strncmp(line, "inhibitor", 9) == 0) {
                char *nl = strchr(line, '\n');
                if (!nl)
                        return -EPROTO;
                *nl = '\0';
                unsigned more;
                int err, r = 0;
                if (sscanf(line, "inhibitors-more %u", &more) == 1)
                        rep->inhibitors_not_read = more;
                else if (sscanf(line, "inhibitors-error %d", &err) == 1 && err > 0)
                        rep->inhibitors_error = -err;
                else
                        r = add_inhibitor(rep, line);
                if (r < 0)
                        return r;
                line = nl + 1;
        }
        return parse_status(line, &rep->error_name, &rep->error_message);
}

/* The user's processes left in the session, logoff itself aside, and
 * whether the session manager (its pid and start time) is one of them. */
static int count_left(const struct session *s, const struct proc_info *manager, unsigned *ret,
                      bool *ret_manager_alive) {
        struct proc_info *procs = NULL;
        size_t n = 0;
        int r = membership_scan(&s->member, PROC_SCAN_UIDS, &procs, &n);
        if (r < 0)
                return r;
        *ret = proc_count_alive_of(procs, n, s->uid);
        *ret_manager_alive = false;
        for (size_t i = 0; i < n; i++)
                if (procs[i].pid == manager->pid && procs[i].start_ticks == manager->start_ticks &&
                    proc_is_alive(&procs[i]))
                        *ret_manager_alive = true;
        free(procs);
        return 0;
}

/* Finds the session's manager and asks it, as its user: its inhibitors,
 * and to log out if logout. */
static int ask_manager(const struct session *s, const struct proc_info *procs, size_t n, bool logout,
                       const struct proc_info **ret_manager, struct desktop_report *rep) {
        *rep = (struct desktop_report) { .inhibitors_error = -EOPNOTSUPP };
        const struct proc_info *found;
        const struct desktop_kind *kind = find_manager(procs, n, s->uid, &found);
        if (!kind)
                return -ENOENT;
        pid_t manager = found->pid;
        if (ret_manager)
                *ret_manager = found;
        rep->desktop = kind->name;
        rep->manager = manager;
        if (kind->inhibitors)
                rep->inhibitors_error = 0;
        _cleanup_free_ char *address = NULL;
        int r = bus_address_of(manager, s->uid, &address);
        if (r < 0)
                return rep->error = r;
        rep->bus = text_clean(address);
        if (!rep->bus)
                return rep->error = -ENOMEM;

        struct ask a = { .address = address, .manager = manager, .kind = kind, .logout = logout };
        char answer[(DESKTOP_MAX_INHIBITORS + 2) * 540];
        int status = 0;
        r = spawn_call_as_user(s->uid, NULL, logout ? "session-logout" : "session-inhibitors", ask_child, &a,
                               ASK_TIMEOUT_USEC, answer, sizeof(answer), &status);
        if (r >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 126)
                r = -EPERM; /* could not become the user */
        if (r >= 0)
                r = desktop_parse_answer(answer, rep);
        return r < 0 ? (rep->error = r) : 0;
}

int desktop_inhibitors(const struct session *s, const struct proc_info *procs, size_t n, struct desktop_report *rep) {
        return ask_manager(s, procs, n, false, NULL, rep);
}

int desktop_logout(const struct session *s, const struct proc_info *procs, size_t n, uint64_t wait_usec,
                   struct desktop_report *rep) {
        const struct proc_info *manager;
        int r = ask_manager(s, procs, n, true, &manager, rep);
        if (r < 0)
                return r;

        uint64_t start = now_monotonic_usec();
        for (;;) {
                bool manager_alive;
                r = count_left(s, manager, &rep->left, &manager_alive);
                if (r < 0)
                        return r;
                rep->waited_usec = now_monotonic_usec() - start;
                if (!manager_alive && !rep->manager_exited) {
                        rep->manager_exited = true;
                        rep->manager_exited_usec = rep->waited_usec;
                }
                if (rep->left == 0) {
                        rep->ended = true;
                        return 0;
                }
                if (interrupt_pending())
                        return -ECANCELED;
                if (rep->waited_usec >= wait_usec ||
                    (rep->manager_exited && rep->waited_usec - rep->manager_exited_usec >= DESKTOP_AFTER_MANAGER_USEC))
                        return 0;
                sleep_usec(POLL_USEC);
        }
}

struct notice {
        const char *address;
        const char *summary, *body;
        uint32_t replaces;
};

/* In the child, as the user: a critical notification; writes "id N". */
static int notify_child(void *userdata, int out) {
        const struct notice *n = userdata;
        const struct libsystemd *lib;
        int r = libsystemd_get(&lib);
        __attribute__((cleanup(bus_closep))) sd_bus *b = NULL;
        if (r >= 0)
                r = bus_connect(lib, n->address, &b);
        if (r < 0) {
                dprintf(out, "errno %d\n", -r);
                return 1;
        }
        sd_bus_error e = { 0 };
        sd_bus_message *reply = NULL;
        uint32_t id = 0;
        /* urgency 2 is "critical": it stays until the user closes it. */
        r = lib->bus_call_method(b, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "Notify", &e, &reply, "susssasa{sv}i", "logoff",
                                 n->replaces, "system-log-out", n->summary, n->body, 0, 1, "urgency", "y", 2, -1);
        if (r >= 0)
                r = lib->message_read(reply, "u", &id);
        if (reply)
                lib->message_unref(reply);
        if (r < 0) {
                dprintf(out, "error %s\n%s", e.name ? e.name : "", e.message ? e.message : "");
                lib->error_free(&e);
                return 3;
        }
        dprintf(out, "id %" PRIu32 "\n", id);
        return 0;
}

/* The session's bus: the one its session manager, else any process of the
 * user's in it, was given; else the per-user bus. */
static int session_bus_address(const struct session *s, const struct proc_info *procs, size_t n, char **ret) {
        const struct proc_info *manager;
        if (find_manager(procs, n, s->uid, &manager))
                return bus_address_of(manager->pid, s->uid, ret);
        for (size_t i = 0; i < n; i++) {
                if (procs[i].ruid != s->uid)
                        continue;
                _cleanup_free_ char *addr = NULL;
                if (proc_getenv(procs[i].pid, "DBUS_SESSION_BUS_ADDRESS", &addr) >= 0 && addr && addr[0]) {
                        *ret = TAKE_PTR(addr);
                        return 0;
                }
        }
        return asprintf(ret, "unix:path=/run/user/%u/bus", (unsigned) s->uid) < 0 ? -ENOMEM : 0;
}

int desktop_notify(const struct session *s, const struct proc_info *procs, size_t n, const char *summary,
                   const char *body, uint32_t *id, char **ret_error) {
        *ret_error = NULL;
        _cleanup_free_ char *address = NULL;
        int r = session_bus_address(s, procs, n, &address);
        if (r < 0)
                return r;
        struct notice note = { .address = address, .summary = summary, .body = body, .replaces = *id };
        char answer[1024];
        int status = 0;
        r = spawn_call_as_user(s->uid, NULL, "notify", notify_child, &note, ASK_TIMEOUT_USEC, answer, sizeof(answer),
                               &status);
        if (r >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 126)
                return -EPERM;
        if (r < 0)
                return r;
        uint32_t got;
        if (sscanf(answer, "id %" SCNu32, &got) == 1) {
                *id = got;
                return 0;
        }
        _cleanup_free_ char *name = NULL, *message = NULL;
        r = parse_status(answer, &name, &message);
        if (name)
                *ret_error = message && message[0] ? TAKE_PTR(message) : TAKE_PTR(name);
        return r < 0 ? r : -EPROTO;
}

char *desktop_inhibit_flags_text(uint32_t flags) {
        static const struct {
                uint32_t flag;
                const char *word;
        } words[] = {
                { DESKTOP_INHIBIT_LOGOUT, N_("logout") },       { DESKTOP_INHIBIT_SWITCH_USER, N_("switching user") },
                { DESKTOP_INHIBIT_SUSPEND, N_("suspend") },     { DESKTOP_INHIBIT_IDLE, N_("idle") },
                { DESKTOP_INHIBIT_AUTOMOUNT, N_("automount") },
        };
        char *text = strdup("");
        for (size_t i = 0; text && i < ARRAY_SIZE(words); i++) {
                if (!(flags & words[i].flag))
                        continue;
                char *more = NULL;
                if (asprintf(&more, "%s%s%s", text, text[0] ? ", " : "", _(words[i].word)) < 0)
                        more = NULL;
                free(text);
                text = more;
                flags &= ~words[i].flag;
        }
        if (text && flags) {
                char *more = NULL;
                if (asprintf(&more, "%s%s0x%" PRIx32, text, text[0] ? ", " : "", flags) < 0)
                        more = NULL;
                free(text);
                text = more;
        }
        return text;
}

void desktop_report_done(struct desktop_report *rep) {
        for (size_t i = 0; i < rep->n_inhibitors; i++) {
                free(rep->inhibitors[i].app_id);
                free(rep->inhibitors[i].reason);
        }
        free(rep->inhibitors);
        free(rep->bus);
        free(rep->error_name);
        free(rep->error_message);
        *rep = (struct desktop_report) { 0 };
}

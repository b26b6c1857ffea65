/* SPDX-License-Identifier: MIT */
/* Sessions as systemd-logind or elogind know them, through sd-login and
 * sd-bus (libsystemd or libelogind, loaded with dlopen).  logind decides
 * what a session is (no user managers, no lingering users), who may end it
 * (polkit), and is asked first when one ends. */
#include "backend.h"
#include "backend-logind.h"
#include "cgroup.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "hashmap.h"
#include "libsystemd.h"
#include "procscan.h"
#include "records.h"
#include "text.h"
#include "util.h"

#define LOGIN1 "org.freedesktop.login1"
#define LOGIN1_PATH "/org/freedesktop/login1"
#define LOGIN1_MANAGER "org.freedesktop.login1.Manager"
#define LOGIN1_SESSION "org.freedesktop.login1.Session"
#define DBUS_PROPERTIES "org.freedesktop.DBus.Properties"
#define SYSTEMD1 "org.freedesktop.systemd1"
#define SYSTEMD1_PATH "/org/freedesktop/systemd1"
#define POLKIT1 "org.freedesktop.PolicyKit1"
#define POLKIT1_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT1_AUTHORITY "org.freedesktop.PolicyKit1.Authority"
/* What logind asks polkit before it ends another user's session. */
#define LOGIN1_MANAGE_ACTION "org.freedesktop.login1.manage"

/* A logind that does not answer within this is treated as not running. */
#define PROBE_TIMEOUT_USEC (2u * 1000000u)
#define CALL_TIMEOUT_USEC (10u * 1000000u)
/* How long logind may take to forget a session whose processes are gone. */
#define FORGET_TIMEOUT_USEC (5u * 1000000u)

static const struct libsystemd *lib;
static sd_bus *bus;

static void bus_error_done(sd_bus_error *e) {
        if (lib)
                lib->error_free(e);
}

static void message_unrefp(sd_bus_message **m) {
        if (*m)
                lib->message_unref(*m);
}

#define _cleanup_bus_error_ __attribute__((cleanup(bus_error_done)))
#define _cleanup_message_ __attribute__((cleanup(message_unrefp)))

static bool error_is(const sd_bus_error *e, const char *name) {
        return e->name && streq(e->name, name);
}

/* The bus errors logoff tells apart, as errnos. */
static int errno_of(const sd_bus_error *e, int r) {
        if (error_is(e, "org.freedesktop.DBus.Error.AccessDenied") ||
            error_is(e, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))
                return -EACCES;
        if (error_is(e, "org.freedesktop.login1.NoSuchSession") ||
            error_is(e, "org.freedesktop.systemd1.NoSuchUnit"))
                return -ENOENT;
        if (error_is(e, "org.freedesktop.DBus.Error.ServiceUnknown") ||
            error_is(e, "org.freedesktop.DBus.Error.NameHasNoOwner"))
                return -EHOSTDOWN;
        if (error_is(e, "org.freedesktop.DBus.Error.NoReply") ||
            error_is(e, "org.freedesktop.DBus.Error.Timeout"))
                return -ETIMEDOUT;
        return r < 0 ? r : -EIO;
}

static int bus_open(void) {
        if (bus)
                return 0;
        int r = libsystemd_get(&lib);
        if (r < 0)
                return r;
        r = lib->bus_open_system(&bus);
        if (r < 0) {
                bus = NULL;
                return r;
        }
        return lib->bus_set_method_call_timeout(bus, PROBE_TIMEOUT_USEC);
}

static int logind_probe(void) {
        int r = bus_open();
        if (r < 0)
                return r;
        _cleanup_bus_error_ sd_bus_error e = { 0 };
        _cleanup_message_ sd_bus_message *reply = NULL;
        r = lib->bus_call_method(bus, LOGIN1, LOGIN1_PATH, "org.freedesktop.DBus.Peer", "Ping", &e, &reply, "");
        if (r < 0)
                return errno_of(&e, r);
        return lib->bus_set_method_call_timeout(bus, CALL_TIMEOUT_USEC);
}

/* What logind says of one session. */
struct props {
        char *id, *user, *tty, *display, *remote_host, *service, *scope, *type, *class_, *state, *seat;
        uint32_t uid, vt, leader, audit;
        uint64_t timestamp, idle_since;
        int idle_hint;
};

static void props_done(struct props *p) {
        free(p->id);
        free(p->user);
        free(p->tty);
        free(p->display);
        free(p->remote_host);
        free(p->service);
        free(p->scope);
        free(p->type);
        free(p->class_);
        free(p->state);
        free(p->seat);
        *p = (struct props) { 0 };
}

static int read_string(sd_bus_message *m, char **ret) {
        const char *s = NULL;
        int r = lib->message_read_basic(m, 's', &s);
        if (r < 0)
                return r;
        free(*ret);
        *ret = s && *s ? strdup(s) : NULL;
        return s && *s && !*ret ? -ENOMEM : 0;
}

/* One entry {sv} of a GetAll reply. */
static int read_property(sd_bus_message *m, struct props *p) {
        const char *name = NULL, *contents = NULL;
        char type;
        int r = lib->message_read_basic(m, 's', &name);
        if (r < 0)
                return r;
        r = lib->message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (type != 'v' || !contents)
                return -EBADMSG;

        static const struct {
                const char *name, *sig;
                size_t offset;
        } fields[] = {
                { "Id", "s", offsetof(struct props, id) },
                { "Name", "s", offsetof(struct props, user) },
                { "TTY", "s", offsetof(struct props, tty) },
                { "Display", "s", offsetof(struct props, display) },
                { "RemoteHost", "s", offsetof(struct props, remote_host) },
                { "Service", "s", offsetof(struct props, service) },
                { "Scope", "s", offsetof(struct props, scope) },
                { "Type", "s", offsetof(struct props, type) },
                { "Class", "s", offsetof(struct props, class_) },
                { "State", "s", offsetof(struct props, state) },
                { "VTNr", "u", offsetof(struct props, vt) },
                { "Leader", "u", offsetof(struct props, leader) },
                { "Audit", "u", offsetof(struct props, audit) },
                { "Timestamp", "t", offsetof(struct props, timestamp) },
                { "IdleSinceHint", "t", offsetof(struct props, idle_since) },
                { "IdleHint", "b", offsetof(struct props, idle_hint) },
                { "Seat", "(so)", offsetof(struct props, seat) },
                { "User", "(uo)", offsetof(struct props, uid) },
        };
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                if (!streq(name, fields[i].name) || !streq(contents, fields[i].sig))
                        continue;
                void *slot = (char *) p + fields[i].offset;
                r = lib->message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                switch (contents[0]) {
                case 's':
                        r = read_string(m, slot);
                        break;
                case 'u':
                case 't':
                case 'b':
                        r = lib->message_read_basic(m, contents[0], slot);
                        break;
                case '(': {
                        r = lib->message_enter_container(m, 'r', contents[1] == 's' ? "so" : "uo");
                        if (r < 0)
                                break;
                        if (contents[1] == 's')
                                r = read_string(m, slot);
                        else
                                r = lib->message_read_basic(m, 'u', slot);
                        if (r >= 0)
                                r = lib->message_skip(m, "o");
                        if (r >= 0)
                                r = lib->message_exit_container(m);
                        break;
                }
                }
                if (r < 0)
                        return r;
                return lib->message_exit_container(m);
        }
        return lib->message_skip(m, "v");
}

static int session_props(const char *path, struct props *p) {
        _cleanup_bus_error_ sd_bus_error e = { 0 };
        _cleanup_message_ sd_bus_message *reply = NULL;
        int r = lib->bus_call_method(bus, LOGIN1, path, DBUS_PROPERTIES, "GetAll", &e, &reply, "s", LOGIN1_SESSION);
        if (r < 0)
                return errno_of(&e, r);
        r = lib->message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = lib->message_enter_container(reply, 'e', "sv")) > 0) {
                r = read_property(reply, p);
                if (r < 0)
                        return r;
                r = lib->message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return lib->message_exit_container(reply);
}

/* A session of the list being built, with what the process walk found.
 * The list grows while logind is asked, so sessions are referred to by
 * index until it is complete. */
struct found {
        size_t index;
        const char *id;   /* the session's, once the list is complete */
        uint32_t audit;
        char *scope;
        struct proc_info *procs;
        size_t n_procs, alloc;
        char *hierarchy; /* where sd-login found its cgroup */
        char *cgroup;    /* common ancestor of its processes' cgroups */
};

/* What sd-login said of the processes of one cgroup (the whole text of
 * /proc/PID/cgroup as key): asked once per cgroup, not once per process,
 * as a session of 10,000 processes sits in one. */
struct cg_entry {
        char *text;
        struct found *f; /* NULL: in no session */
};

struct cg_cache {
        struct cg_entry *entries;
        size_t n, alloc;
        struct hashmap by_text; /* hash_text(text) -> index in entries */
};

struct walk {
        struct found *found;
        size_t n, alloc;
        /* The same, sorted for lookups from every process of the host. */
        struct found **by_id, **by_audit;
        struct cg_cache cache;
};

static int cmp_found_id(const void *a, const void *b) {
        return strcmp((*(struct found *const *) a)->id, (*(struct found *const *) b)->id);
}

static int cmp_found_audit(const void *a, const void *b) {
        uint32_t x = (*(struct found *const *) a)->audit, y = (*(struct found *const *) b)->audit;
        return x < y ? -1 : x > y;
}

static int index_found(struct walk *w, const struct session_list *l) {
        w->by_id = calloc(w->n ? w->n : 1, sizeof(*w->by_id));
        w->by_audit = calloc(w->n ? w->n : 1, sizeof(*w->by_audit));
        if (!w->by_id || !w->by_audit)
                return -ENOMEM;
        for (size_t i = 0; i < w->n; i++) {
                const struct session *s = &l->sessions[w->found[i].index];
                w->found[i].id = s->id;
                w->found[i].audit = s->audit_session;
                w->by_id[i] = w->by_audit[i] = &w->found[i];
        }
        if (w->n > 1) {
                qsort(w->by_id, w->n, sizeof(*w->by_id), cmp_found_id);
                qsort(w->by_audit, w->n, sizeof(*w->by_audit), cmp_found_audit);
        }
        return 0;
}

static struct found *found_by_id(struct walk *w, const char *id) {
        struct found key = { .id = id }, *k = &key;
        struct found **f = w->n ? bsearch(&k, w->by_id, w->n, sizeof(*w->by_id), cmp_found_id) : NULL;
        return f ? *f : NULL;
}

static struct found *found_by_audit(struct walk *w, uint32_t audit) {
        if (audit == AUDIT_SESSION_UNSET)
                return NULL;
        struct found key = { .audit = audit }, *k = &key;
        struct found **f = w->n ? bsearch(&k, w->by_audit, w->n, sizeof(*w->by_audit), cmp_found_audit) : NULL;
        return f ? *f : NULL;
}

static int add_proc(struct found *f, const struct proc_info *p) {
        if (ARRAY_RESERVE(f->procs, f->alloc, f->n_procs, 16) < 0)
                return -ENOMEM;
        f->procs[f->n_procs++] = *p;
        return 0;
}

int logind_hierarchy_of(char *text, const char *cgroup, char **ret) {
        _cleanup_free_ char *unified = NULL;
        if (cgroup_path_in(text, "", &unified) == 0 && streq(unified, cgroup)) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        for (char *line = text; line && *line;) {
                char *eol = strchr(line, '\n');
                if (eol)
                        *eol = '\0';
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (c2 && streq(c2 + 1, cgroup) && c2 > c1 + 1) {
                        /* "name=elogind" of "1:name=elogind:/3" */
                        const char *named = strstr(c1 + 1, "name=");
                        if (named && named < c2) {
                                *ret = strndup(named, strcspn(named, ",:"));
                                return *ret ? 0 : -ENOMEM;
                        }
                }
                line = eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

static int hierarchy_of(int procdir_fd, const char *cgroup, char **ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_small_file_at(procdir_fd, "cgroup", &text, NULL);
        return r < 0 ? r : logind_hierarchy_of(text, cgroup, ret);
}

void logind_common_ancestor(char *acc, const char *path) {
        size_t i = 0, last_slash = 0;
        while (acc[i] && acc[i] == path[i]) {
                if (acc[i] == '/')
                        last_slash = i;
                i++;
        }
        if (acc[i] == '\0' && (path[i] == '\0' || path[i] == '/'))
                return;
        acc[last_slash == 0 ? 1 : last_slash] = '\0';
}

static struct cg_entry *cache_find(const struct cg_cache *c, const char *text) {
        size_t i;
        if (!hashmap_get(&c->by_text, hash_text(text), &i) || !streq(c->entries[i].text, text))
                return NULL;
        return &c->entries[i];
}

/* Takes text.  Two texts of one hash: the later one keeps the place, and
 * the earlier is asked about again when it comes back. */
static int cache_put(struct cg_cache *c, char *text, struct found *f) {
        uint64_t key = hash_text(text);
        size_t i;
        if (hashmap_get(&c->by_text, key, &i)) {
                free(c->entries[i].text);
                c->entries[i] = (struct cg_entry) { .text = text, .f = f };
                return 0;
        }
        if (ARRAY_RESERVE(c->entries, c->alloc, c->n, 64) < 0)
                goto nomem;
        if (hashmap_put(&c->by_text, key, c->n) < 0)
                goto nomem;
        c->entries[c->n++] = (struct cg_entry) { .text = text, .f = f };
        return 0;
nomem:
        free(text);
        return -ENOMEM;
}

static void cache_done(struct cg_cache *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->entries[i].text);
        free(c->entries);
        hashmap_done(&c->by_text);
        *c = (struct cg_cache) { 0 };
}

/* Asks sd-login which session the process is in, and notes the session's
 * cgroup.  Returns the session or NULL for none; *ret_error is 0 when that
 * answer holds for the whole cgroup, else a negative errno (the process is
 * gone, or sd-login could not tell). */
static struct found *ask_sd_login(struct walk *w, int procdir_fd, pid_t pid, int *ret_error) {
        _cleanup_free_ char *id = NULL, *cgroup = NULL;
        *ret_error = 0;
        int r = lib->pid_get_session(pid, &id);
        if (r < 0) {
                /* sd-login's answers for "in no session" vary between
                 * versions (ENODATA, ENXIO, EUNATCH...); the process is gone
                 * or in none.  Only "none" holds for the whole cgroup. */
                if (r != -ENODATA && r != -ENXIO)
                        *ret_error = r;
                return NULL;
        }
        struct found *f = found_by_id(w, id);
        if (!f || lib->pid_get_cgroup(pid, &cgroup) < 0)
                return f;
        if (!f->hierarchy) {
                r = hierarchy_of(procdir_fd, cgroup, &f->hierarchy);
                if (r < 0) {
                        *ret_error = r;
                        return f;
                }
        }
        if (!f->cgroup)
                f->cgroup = TAKE_PTR(cgroup);
        else
                logind_common_ancestor(f->cgroup, cgroup);
        return f;
}

static int visit(int procdir_fd, pid_t pid, uint32_t audit_id, void *userdata) {
        struct walk *w = userdata;
        struct proc_info p = { .pid = pid, .session_id = audit_id };
        int r = proc_read_stat_at(procdir_fd, &p);
        if (vanished(r))
                return 0;
        if (r < 0)
                return r;

        char *text = NULL;
        r = read_small_file_at(procdir_fd, "cgroup", &text, NULL);
        if (vanished(r))
                return 0;
        if (r < 0)
                return r;
        struct found *f;
        const struct cg_entry *e = cache_find(&w->cache, text);
        if (e) {
                f = e->f;
                free(text);
        } else {
                int error;
                f = ask_sd_login(w, procdir_fd, pid, &error);
                /* A process sd-login cannot place is in no session: one
                 * odd process must not hide every session of the host. */
                if (error == 0)
                        r = cache_put(&w->cache, text, f);
                else
                        free(text);
                if (r < 0)
                        return r;
        }
        if (!f)
                /* Moved out of the session's cgroup, still in its login. */
                f = found_by_audit(w, audit_id);
        if (!f)
                return 0;
        return add_proc(f, &p);
}

void logind_cut_at_scope(char *cgroup, const char *scope) {
        if (!scope)
                return;
        size_t len = strlen(scope);
        for (char *c = strchr(cgroup, '/'); c; c = strchr(c + 1, '/'))
                if (strncmp(c + 1, scope, len) == 0 && (c[1 + len] == '/' || c[1 + len] == '\0')) {
                        c[1 + len] = '\0';
                        return;
                }
}

bool logind_cgroup_names_session(const char *cgroup, const char *scope, const char *id) {
        const char *base = strrchr(cgroup, '/');
        if (!base || !base[1])
                return false;
        base++;
        return (scope && streq(base, scope)) || streq(base, id);
}

static int cmp_start(const void *a, const void *b) {
        const struct proc_info *x = a, *y = b;
        if (x->start_ticks != y->start_ticks)
                return x->start_ticks < y->start_ticks ? -1 : 1;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int finish_session(struct session *s, struct found *f, const struct utmp_login *logins,
                          size_t n_logins) {
        int r;
        if (f->cgroup && f->hierarchy) {
                logind_cut_at_scope(f->cgroup, f->scope);
                if (logind_cgroup_names_session(f->cgroup, f->scope, s->id)) {
                        s->member.cgroup = TAKE_PTR(f->cgroup);
                        s->member.cgroup_hierarchy = TAKE_PTR(f->hierarchy);
                }
        }
        if (f->n_procs > 1)
                qsort(f->procs, f->n_procs, sizeof(*f->procs), cmp_start);
        for (size_t i = 0; i < f->n_procs; i++)
                if (proc_is_alive(&f->procs[i])) {
                        s->processes++;
                        if (!s->tty && f->procs[i].tty)
                                s->tty = f->procs[i].tty;
                }

        const struct utmp_login *login = utmp_find_login(logins, n_logins, f->procs, f->n_procs);
        if (login) {
                s->utmp_pid = login->pid;
                if ((r = strdup_to(&s->utmp_id, login->id)) < 0 || (r = strdup_to(&s->utmp_line, login->line)) < 0)
                        return r;
                if (!s->remote_host && login->host[0] && login->host[0] != ':' &&
                    (r = strdup_to(&s->remote_host, login->host)) < 0)
                        return r;
                if (!s->name && (r = strdup_to(&s->name, login->line)) < 0)
                        return r;
        }
        /* sshd of Debian 13 opens the PAM session before it has a pty:
         * logind never learns the terminal, its processes still have it. */
        if (!s->name && s->tty) {
                r = tty_name_from_dev(s->tty, &s->name);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        if (s->name && s->name[0] != ':')
                session_idle_from_line(s);
        s->console = s->console || s->tty == makedev(5, 1) || tty_line_is_console(s->name);
        return 0;
}

static int fill_session(struct session *s, struct props *p) {
        s->id = TAKE_PTR(p->id);
        s->user = TAKE_PTR(p->user);
        s->uid = p->uid;
        s->class_ = TAKE_PTR(p->class_);
        s->service = TAKE_PTR(p->service);
        s->seat = TAKE_PTR(p->seat);
        s->remote_host = TAKE_PTR(p->remote_host);
        s->vt = p->vt;
        s->leader = (pid_t) p->leader;
        s->login_usec = p->timestamp;
        s->type = session_type_from_string(p->type);
        /* "closing": the login is over but processes are left. */
        s->state = p->state && streq(p->state, "closing") ? SESSION_DISCONNECTED : SESSION_ACTIVE;
        if (p->audit > 0 && p->audit != AUDIT_SESSION_UNSET)
                s->audit_session = s->member.audit_id = p->audit;
        if (p->tty)
                s->name = strdup(strncmp(p->tty, "/dev/", 5) == 0 ? p->tty + 5 : p->tty);
        else if (p->display)
                s->name = display_name(p->display);
        if ((p->tty || p->display) && !s->name)
                return -ENOMEM;
        if (p->idle_hint && p->idle_since > 0) {
                uint64_t now = now_realtime_usec();
                s->idle_usec = now > p->idle_since ? (int64_t) (now - p->idle_since) : 0;
                s->idle_source = IDLE_LOGIND;
        }
        if (!s->user)
                return user_name(s->uid, &s->user);
        return 0;
}

/* The session of the caller: its own; for a process outside any (a user
 * service, as every shell of a GNOME terminal is), its user's display
 * session as loginctl's "auto" has it, but only a graphical one: logind
 * elects a tty session as "display" too, and a user service belongs to
 * none of several ssh logins. */
static void mark_current(struct session_list *l) {
        _cleanup_free_ char *own = NULL, *display = NULL;
        bool in_session = lib->pid_get_session(0, &own) >= 0;
        if (!in_session && lib->uid_get_display(getuid(), &display) < 0)
                display = NULL;
        for (size_t i = 0; i < l->n; i++) {
                struct session *s = &l->sessions[i];
                if (in_session)
                        s->current = streq(own, s->id);
                else
                        s->current = display && streq(display, s->id) && session_type_is_graphical(s->type);
        }
}

static int list_sessions(struct walk *w, struct session_list *l) {
        _cleanup_bus_error_ sd_bus_error e = { 0 };
        _cleanup_message_ sd_bus_message *reply = NULL;
        int r = lib->bus_call_method(bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER, "ListSessions", &e, &reply, "");
        if (r < 0)
                return errno_of(&e, r);
        r = lib->message_enter_container(reply, 'a', "(susso)");
        if (r < 0)
                return r;
        for (;;) {
                const char *id, *user, *seat, *path;
                uint32_t uid;
                r = lib->message_read(reply, "(susso)", &id, &uid, &user, &seat, &path);
                if (r <= 0)
                        break;
                struct props p = { 0 };
                r = session_props(path, &p);
                if (r >= 0 && !p.id && !(p.id = strdup(id)))
                        r = -ENOMEM;
                if (r == -ENOENT) {
                        props_done(&p); /* ended meanwhile */
                        continue;
                }
                /* systemd 256 makes user managers sessions of class
                 * "manager": they are not logins. */
                if (r >= 0 && p.class_ && strncmp(p.class_, "manager", 7) == 0) {
                        props_done(&p);
                        continue;
                }
                struct session *s = r < 0 ? NULL : session_list_append(l);
                if (r >= 0 && !s)
                        r = -ENOMEM;
                if (r >= 0) {
                        if (ARRAY_RESERVE(w->found, w->alloc, w->n, 16) < 0)
                                r = -ENOMEM;
                        else {
                                w->found[w->n++] = (struct found) { .index = (size_t) (s - l->sessions),
                                                                    .scope = TAKE_PTR(p.scope) };
                                r = fill_session(s, &p);
                        }
                }
                props_done(&p);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : 0;
}

static void found_done(struct walk *w) {
        for (size_t i = 0; i < w->n; i++) {
                free(w->found[i].scope);
                free(w->found[i].procs);
                free(w->found[i].hierarchy);
                free(w->found[i].cgroup);
        }
        free(w->found);
        free(w->by_id);
        free(w->by_audit);
        cache_done(&w->cache);
        *w = (struct walk) { 0 };
}

static int logind_discover(struct session_list *l) {
        struct walk w = { 0 };
        struct utmp_login *logins = NULL;
        size_t n_logins = 0;
        _cleanup_free_ char *seat0_active = NULL;

        int r = list_sessions(&w, l);
        if (r < 0)
                goto out;
        r = index_found(&w, l);
        if (r < 0)
                goto out;
        r = proc_walk_all(visit, &w);
        if (r < 0)
                goto out;
        r = utmp_read_logins(&logins, &n_logins);
        if (r < 0)
                goto out;

        if (lib->seat_get_active("seat0", &seat0_active, NULL) < 0)
                seat0_active = NULL;
        for (size_t i = 0; i < w.n; i++) {
                struct session *s = &l->sessions[w.found[i].index];
                r = finish_session(s, &w.found[i], logins, n_logins);
                if (r < 0)
                        goto out;
                /* The console is the session in front of seat0's screen. */
                if (seat0_active && streq(seat0_active, s->id) && s->vt > 0)
                        s->console = true;
        }
        mark_current(l);
        r = 0;
out:
        found_done(&w);
        utmp_logins_free(logins, n_logins);
        return r;
}

static int session_object(const char *id, char **ret_path) {
        _cleanup_bus_error_ sd_bus_error e = { 0 };
        _cleanup_message_ sd_bus_message *reply = NULL;
        int r = lib->bus_call_method(bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER, "GetSession", &e, &reply, "s", id);
        if (r < 0)
                return errno_of(&e, r);
        const char *path;
        r = lib->message_read(reply, "o", &path);
        if (r < 0)
                return r;
        if (ret_path) {
                *ret_path = strdup(path);
                if (!*ret_path)
                        return -ENOMEM;
        }
        return 0;
}

static int wait_forgotten(const char *id, uint64_t timeout_usec) {
        uint64_t until = now_monotonic_usec() + timeout_usec;
        for (;;) {
                int r = session_object(id, NULL);
                if (r == -ENOENT)
                        return 1;
                if (r < 0)
                        return r;
                if (now_monotonic_usec() >= until)
                        return 0;
                sleep_usec(5000);
        }
}

/* The state systemd keeps of the session's scope: "inactive" once it is
 * gone, "failed" if it timed out. */
static int unit_state(const char *unit, char **ret) {
        _cleanup_bus_error_ sd_bus_error e = { 0 };
        _cleanup_message_ sd_bus_message *reply = NULL, *prop = NULL;
        int r = lib->bus_call_method(bus, SYSTEMD1, SYSTEMD1_PATH, "org.freedesktop.systemd1.Manager", "GetUnit", &e,
                                     &reply, "s", unit);
        if (r < 0) {
                r = errno_of(&e, r);
                if (r == -ENOENT) {
                        *ret = strdup("inactive"); /* unloaded: nothing is left of it */
                        return *ret ? 0 : -ENOMEM;
                }
                return r;
        }
        const char *path, *state;
        r = lib->message_read(reply, "o", &path);
        if (r < 0)
                return r;
        lib->error_free(&e);
        r = lib->bus_call_method(bus, SYSTEMD1, path, DBUS_PROPERTIES, "Get", &e, &prop, "ss",
                                 "org.freedesktop.systemd1.Unit", "ActiveState");
        if (r < 0)
                return errno_of(&e, r);
        r = lib->message_read(prop, "v", "s", &state);
        if (r < 0)
                return r;
        *ret = strdup(state);
        return *ret ? 0 : -ENOMEM;
}

/* Whether polkit lets this caller do what logind's TerminateSession asks
 * it about: org.freedesktop.login1.manage, for the connection logind would
 * see (our own on the system bus), without interaction, as logind asks.
 * 1: yes; 0: no (*rep says why); or a negative errno when it cannot say. */
static int polkit_may_manage(struct host_report *rep) {
        const char *me = NULL;
        int r = lib->bus_get_unique_name(bus, &me);
        if (r < 0)
                return r;
        _cleanup_bus_error_ sd_bus_error e = { 0 };
        _cleanup_message_ sd_bus_message *reply = NULL;
        r = lib->bus_call_method(bus, POLKIT1, POLKIT1_PATH, POLKIT1_AUTHORITY, "CheckAuthorization", &e, &reply,
                                 "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", me, LOGIN1_MANAGE_ACTION, 0,
                                 0u, "");
        if (r < 0) {
                rep->error_name = e.name ? text_clean(e.name) : NULL;
                rep->error_message = e.message ? text_clean(e.message) : NULL;
                return errno_of(&e, r);
        }
        int authorized = 0, challenge = 0;
        r = lib->message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = lib->message_read(reply, "bb", &authorized, &challenge);
        if (r < 0)
                return r;
        if (authorized)
                return 1;
        rep->error_name = strdup(challenge ? "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
                                               : "org.freedesktop.DBus.Error.AccessDenied");
        return 0;
}

static int ask_terminate(const struct session *s, struct host_report *rep) {
        _cleanup_bus_error_ sd_bus_error e = { 0 };
        _cleanup_message_ sd_bus_message *reply = NULL;
        int r = lib->bus_call_method(bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER, "TerminateSession", &e, &reply, "s",
                                     s->id);
        if (r >= 0)
                return 0;
        free(rep->error_name);
        free(rep->error_message);
        rep->error_name = e.name ? text_clean(e.name) : NULL;
        rep->error_message = e.message ? text_clean(e.message) : NULL;
        return errno_of(&e, r);
}

/* A graphical session ends as its server expects (terminate.h: SIGTERM
 * first, SIGHUP only after, root helpers left to clean up), which logind's
 * own stop would undo: it sends SIGTERM and SIGHUP to everything at once,
 * and xrdp-chansrv dies of the SIGHUP before it unmounts its FUSE drive.
 * So logind is asked after the rounds, to finish what is left; where only
 * its yes lets the caller end the session, polkit said yes before
 * (logind_authorize). */
static int end_graphical(const struct session *s, const struct terminate_options *o, struct end_report *end) {
        struct host_report *rep = &end->host;
        rep->asked_after = true;
        int r = session_terminate(&s->member, o, &end->procs);
        if (r < 0)
                return r;
        r = ask_terminate(s, rep);
        /* Forgotten already (its helper closed it once the desktop was
         * gone): the normal end of a graphical session. */
        if (r == -ENOENT) {
                rep->already_forgotten = true;
                free(rep->error_name);
                free(rep->error_message);
                rep->error_name = rep->error_message = NULL;
                r = 0;
        }
        rep->error = r;
        return 0;
}

/* Where only logind's yes lets the caller end the session, and logoff
 * would act before logind says it (a graphical session's rounds, its
 * desktop asked to log out), polkit is asked first what logind would ask
 * it; nothing is done without a yes. */
static int logind_authorize(const struct session *s, struct host_report *rep) {
        (void) s;
        rep->asked = host_logind.name;
        rep->authorizer = "polkit";
        int r = bus_open();
        if (r >= 0)
                r = polkit_may_manage(rep);
        if (r <= 0) {
                rep->error = r < 0 ? r : -EACCES;
                return -EACCES;
        }
        return 0;
}

/* logind forgets the session once its last process is gone; what systemd
 * says of its scope then. */
static void check_forgotten(const struct session *s, struct host_report *rep) {
        /* From inside the session, that last process is logoff itself:
         * there is nothing to wait for. */
        _cleanup_close_ int self = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (self >= 0 && membership_contains_at(&s->member, self) == 1)
                return;
        int k = rep->already_forgotten ? 1 : wait_forgotten(s->id, FORGET_TIMEOUT_USEC);
        rep->forgotten = k < 0 ? -1 : k;
        if (s->member.cgroup) {
                const char *base = strrchr(s->member.cgroup, '/');
                base = base ? base + 1 : s->member.cgroup;
                if (strlen(base) > 6 && streq(base + strlen(base) - 6, ".scope")) {
                        rep->unit = text_clean(base);
                        if (rep->unit && unit_state(base, &rep->unit_state) < 0)
                                rep->unit_state = NULL;
                        (void) text_clean_in_place(&rep->unit_state);
                }
        }
}

static int logind_end(const struct session *s, const struct terminate_options *o, struct end_report *end) {
        struct host_report *rep = &end->host;
        rep->asked = host_logind.name;
        int r = bus_open();
        if (r < 0 && o->host_must_agree) {
                rep->error = r;
                return -EACCES; /* no answer is no yes */
        }
        if (r < 0)
                return r;

        if (o->graphical) {
                r = end_graphical(s, o, end);
                if (r < 0)
                        return r;
                check_forgotten(s, rep);
                return 0;
        }

        /* logind first, so its state, its polkit rules and the session's
         * scope stay consistent: it decides whether the caller may. */
        r = ask_terminate(s, rep);
        if (r < 0) {
                rep->error = r;
                /* Nothing was signalled.  Where only logind's yes lets the
                 * caller end the session, any other answer (interrupted,
                 * timed out, logind gone) is a no too: never go on with
                 * the binary's own CAP_KILL. */
                if (rep->error == -EACCES || o->host_must_agree)
                        return -EACCES;
        }

        /* session_end() counted what the session held before logind ended
         * part of it. */
        r = session_terminate(&s->member, o, &end->procs);
        if (r < 0)
                return r; /* survivors: logind keeps the session, rightly */
        check_forgotten(s, rep);
        return 0;
}

const struct session_host host_logind = {
        .name = "logind",
        .probe = logind_probe,
        .discover = logind_discover,
        .authorize = logind_authorize,
        .end = logind_end,
        .record = record_session_logout,
        .authorizes = true,
        .authorize_action = LOGIN1_MANAGE_ACTION,
        /* elogind forgets a session once its leader is gone, whatever is
         * left of it; the audit session still holds the rest. */
        .interrupted_note = N_("%s: if %s forgets it first, '%s --backend=kernel %u' ends what is left of its audit "
                               "session\n"),
};

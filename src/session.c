/* SPDX-License-Identifier: MIT */
#include "session.h"

#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "procscan.h"
#include "text.h"
#include "util.h"

bool session_type_is_graphical(enum session_type t) {
        return t == SESSION_TYPE_X11 || t == SESSION_TYPE_WAYLAND || t == SESSION_TYPE_MIR || t == SESSION_TYPE_RDP ||
               t == SESSION_TYPE_X2GO;
}

bool session_is_graphical(const struct session *s) { return session_type_is_graphical(s->type); }

const char *session_state_to_string(enum session_state s) {
        return s == SESSION_ACTIVE ? "Active" : "Disc";
}

const char *idle_source_to_string(enum idle_source s) {
        return s == IDLE_LOGIND ? "logind" : s == IDLE_TTY ? "tty" : NULL;
}

void session_idle_from_line(struct session *s) {
        s->idle_usec = idle_of_line(s->name);
        s->idle_source = s->idle_usec >= 0 ? IDLE_TTY : IDLE_UNKNOWN;
}

static const char *const type_names[] = {
        [SESSION_TYPE_UNSPECIFIED] = "unspecified",
        [SESSION_TYPE_TTY] = "tty",
        [SESSION_TYPE_X11] = "x11",
        [SESSION_TYPE_WAYLAND] = "wayland",
        [SESSION_TYPE_MIR] = "mir",
        [SESSION_TYPE_WEB] = "web",
        [SESSION_TYPE_RDP] = "rdp",
        [SESSION_TYPE_X2GO] = "x2go",
};

const char *session_type_to_string(enum session_type t) {
        return (size_t) t < ARRAY_SIZE(type_names) ? type_names[t] : "unspecified";
}

enum session_type session_type_from_string(const char *s) {
        for (size_t i = 0; s && i < ARRAY_SIZE(type_names); i++)
                if (streq(s, type_names[i]))
                        return (enum session_type) i;
        return SESSION_TYPE_UNSPECIFIED;
}

int session_type_parse(const char *s, size_t len, enum session_type *ret) {
        for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
                if (strlen(type_names[i]) == len && strncasecmp(s, type_names[i], len) == 0) {
                        *ret = (enum session_type) i;
                        return 0;
                }
        return -EINVAL;
}

int tty_name_from_dev(dev_t dev, char **ret) {
        unsigned maj = major(dev), min = minor(dev);
        char *s = NULL;
        int k;

        if (maj >= 136 && maj <= 143)
                k = asprintf(&s, "pts/%u", (maj - 136) * 256 + min);
        else if (maj == 4 && min < 64)
                k = asprintf(&s, "tty%u", min);
        else if (maj == 4)
                k = asprintf(&s, "ttyS%u", min - 64);
        else if (maj == 5 && min == 1)
                k = asprintf(&s, "console");
        else {
                char path[64];
                snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/uevent", maj, min);
                _cleanup_free_ char *uevent = NULL;
                int r = read_small_file_at(AT_FDCWD, path, &uevent, NULL);
                if (r < 0)
                        return r;
                const char *p = strstr(uevent, "DEVNAME=");
                if (!p)
                        return -ENOENT;
                p += strlen("DEVNAME=");
                s = strndup(p, strcspn(p, "\n"));
                k = s ? 0 : -1;
        }
        if (k < 0 || !s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* /sys/class/tty/console/active lists the kernel's console devices;
 * "tty0" stands for whichever VT is in the foreground. */
bool tty_line_is_console(const char *line) {
        if (!line)
                return false;
        if (strncmp(line, "/dev/", 5) == 0)
                line += 5;
        if (streq(line, "console"))
                return true;

        _cleanup_free_ char *active = NULL;
        if (read_small_file_at(AT_FDCWD, "/sys/class/tty/console/active", &active, NULL) < 0)
                return false;
        char *save = NULL;
        for (char *dev = strtok_r(active, " \n", &save); dev; dev = strtok_r(NULL, " \n", &save)) {
                if (streq(dev, line))
                        return true;
                if (streq(dev, "tty0")) {
                        _cleanup_free_ char *fg = NULL;
                        if (read_small_file_at(AT_FDCWD, "/sys/class/tty/tty0/active", &fg, NULL) == 0) {
                                fg[strcspn(fg, "\n")] = '\0';
                                if (streq(fg, line))
                                        return true;
                        }
                }
        }
        return false;
}

int session_list_find_member(const struct session_list *l, pid_t pid, size_t *ret) {
        _cleanup_close_ int fd = proc_open_dir(pid);
        if (fd < 0)
                return fd;
        for (size_t i = 0; i < l->n; i++) {
                int r = membership_contains_at(&l->sessions[i].member, fd);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = i;
                        return 0;
                }
        }
        return -ENOENT;
}

int session_show_display(struct session *s, unsigned display, enum session_type type, bool connected) {
        char *name;
        if (asprintf(&name, ":%u", display) < 0)
                return -ENOMEM;
        free(s->name);
        s->name = name;
        s->type = type;
        s->state = connected ? SESSION_ACTIVE : SESSION_DISCONNECTED;
        return 0;
}

int session_clean_text(struct session *s) {
        char **fields[] = { &s->id, &s->name, &s->user, &s->class_, &s->service, &s->seat, &s->remote_host };
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                int r = text_clean_in_place(fields[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

void session_done(struct session *s) {
        free(s->id);
        membership_done(&s->member);
        free(s->name);
        free(s->user);
        free(s->class_);
        free(s->service);
        free(s->seat);
        free(s->remote_host);
        free(s->utmp_id);
        free(s->utmp_line);
        free(s->desktop_id);
        *s = (struct session) { 0 };
}

void session_list_done(struct session_list *l) {
        for (size_t i = 0; i < l->n; i++)
                session_done(&l->sessions[i]);
        free(l->sessions);
        *l = (struct session_list) { 0 };
}

struct session *session_list_append(struct session_list *l) {
        if (ARRAY_RESERVE(l->sessions, l->alloc, l->n, 16) < 0)
                return NULL;
        struct session *s = &l->sessions[l->n++];
        *s = (struct session) {
                .audit_session = AUDIT_SESSION_UNSET,
                .member = { .audit_id = AUDIT_SESSION_UNSET },
                .host = l->host,
                .idle_usec = -1,
        };
        return s;
}

void session_list_remove(struct session_list *l, size_t i) {
        if (i >= l->n)
                return;
        session_done(&l->sessions[i]);
        memmove(&l->sessions[i], &l->sessions[i + 1], (l->n - i - 1) * sizeof(*l->sessions));
        l->n--;
}

void session_list_drop_last(struct session_list *l) {
        if (l->n > 0)
                session_done(&l->sessions[--l->n]);
}

static int cmp_session_id(const void *a, const void *b) {
        const struct session *x = a, *y = b;
        uint32_t nx, ny;
        bool num_x = parse_u32(x->id, &nx) == 0, num_y = parse_u32(y->id, &ny) == 0;
        if (num_x && num_y)
                return nx < ny ? -1 : nx > ny;
        if (num_x != num_y)
                return num_x ? -1 : 1;
        /* "c2" before "c10" */
        size_t lx = strlen(x->id), ly = strlen(y->id);
        if (lx != ly)
                return lx < ly ? -1 : 1;
        return strcmp(x->id, y->id);
}

void session_list_sort(struct session_list *l) {
        if (l->n > 1)
                qsort(l->sessions, l->n, sizeof(*l->sessions), cmp_session_id);
}


/* uid's passwd entry, with a buffer grown until it fits: 0 with *found set
 * when there is one (*found false: none), or a negative errno.  take copies
 * out what it needs while the entry is valid. */
static int with_passwd(uid_t uid, int (*take)(const struct passwd *pw, char **ret), char **ret) {
        long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = bufsize > 0 ? (size_t) bufsize : 4096;
        for (;;) {
                _cleanup_free_ char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                struct passwd pw, *res = NULL;
                int r = getpwuid_r(uid, &pw, buf, size, &res);
                if (r == ERANGE && size < 1024 * 1024) {
                        size *= 2;
                        continue;
                }
                if (r != 0)
                        return -r;
                return take(res, ret);
        }
}

static int take_name(const struct passwd *pw, char **ret) {
        *ret = pw ? strdup(pw->pw_name) : NULL;
        return pw && !*ret ? -ENOMEM : 0;
}

static int take_home(const struct passwd *pw, char **ret) {
        *ret = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? strdup(pw->pw_dir) : NULL;
        return pw && pw->pw_dir && pw->pw_dir[0] == '/' && !*ret ? -ENOMEM : 0;
}

int user_name(uid_t uid, char **ret) {
        char *s = NULL;
        int r = with_passwd(uid, take_name, &s);
        if (r == -ENOMEM)
                return r;
        /* No entry, or none to be read: the number stands for it. */
        if (!s && asprintf(&s, "%u", (unsigned) uid) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int user_home(uid_t uid, char **ret) {
        *ret = NULL;
        return with_passwd(uid, take_home, ret);
}

/* The length of ":N" in ":N" or ":N.S"; 0 when s is no local display. */
static size_t display_length(const char *s) {
        if (s[0] != ':')
                return 0;
        size_t n = 1 + strspn(s + 1, "0123456789");
        if (n == 1)
                return 0;
        if (s[n] == '\0')
                return n;
        if (s[n] == '.' && s[n + 1] && strspn(s + n + 1, "0123456789") == strlen(s + n + 1))
                return n;
        return 0;
}

char *display_name(const char *s) {
        size_t n = display_length(s);
        return n ? strndup(s, n) : strdup(s);
}

bool session_name_matches(const char *session_name, const char *typed) {
        if (!session_name)
                return false;
        if (strncasecmp(typed, "/dev/", 5) == 0)
                typed += 5;
        size_t n = display_length(typed);
        if (n)
                return strlen(session_name) == n && strncmp(session_name, typed, n) == 0;
        return strcaseeq(session_name, typed);
}

int strdup_to(char **dst, const char *src) {
        if (!src || !*src)
                return 0;
        char *s = strdup(src);
        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

int64_t idle_of_line(const char *line) {
        if (!line || line[0] == ':')
                return -1;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "/dev/%s", line) < 0)
                return -1;
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
                return -1;
        uint64_t atime = (uint64_t) st.st_atim.tv_sec * 1000000u + (uint64_t) st.st_atim.tv_nsec / 1000u;
        uint64_t now = now_realtime_usec();
        return now > atime ? (int64_t) (now - atime) : 0;
}

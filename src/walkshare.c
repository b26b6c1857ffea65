/* SPDX-License-Identifier: MIT */
#include "walkshare.h"

#include <poll.h>
#include <sys/socket.h>

#include "cgroup.h"
#include "procscan.h"
#include "util.h"

/* What a child asks: its session's audit IDs, then the hierarchy and the
 * cgroup, their lengths in the header (NO_CGROUP: none). */
struct request_header {
        uint32_t audit_id;
        uint32_t audit_id_also;
        uint32_t hierarchy_len;
        uint32_t cgroup_len;
};

#define NO_CGROUP UINT32_MAX
#define MAX_REQUEST_STRING 65536u

static int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;
        while (len > 0) {
                ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

/* -EPIPE when the other side closed before all of it came. */
static int read_all(int fd, void *buf, size_t len) {
        char *p = buf;
        while (len > 0) {
                ssize_t k = read(fd, p, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EPIPE;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int walk_share_ask(int fd, uint32_t audit_id, uint32_t audit_id_also, const char *hierarchy, const char *cgroup,
                   pid_t **ret, size_t *ret_n) {
        if (!hierarchy)
                hierarchy = "";
        size_t hl = strlen(hierarchy), cl = cgroup ? strlen(cgroup) : 0;
        if (hl > MAX_REQUEST_STRING || cl > MAX_REQUEST_STRING)
                return -E2BIG;
        struct request_header h = {
                .audit_id = audit_id, .audit_id_also = audit_id_also, .hierarchy_len = (uint32_t) hl,
                .cgroup_len = cgroup ? (uint32_t) cl : NO_CGROUP,
        };
        _cleanup_free_ char *msg = malloc(sizeof(h) + hl + cl);
        if (!msg)
                return -ENOMEM;
        memcpy(msg, &h, sizeof(h));
        memcpy(msg + sizeof(h), hierarchy, hl);
        if (cl)
                memcpy(msg + sizeof(h) + hl, cgroup, cl);
        int r = write_all(fd, msg, sizeof(h) + hl + cl);
        if (r < 0)
                return r;
        uint32_t n;
        r = read_all(fd, &n, sizeof(n));
        if (r < 0)
                return r;
        pid_t *pids = calloc(n ? n : 1, sizeof(*pids));
        if (!pids)
                return -ENOMEM;
        r = read_all(fd, pids, (size_t) n * sizeof(*pids));
        if (r < 0) {
                free(pids);
                return r;
        }
        *ret = pids;
        *ret_n = n;
        return 0;
}

struct client {
        int fd;                 /* -1: removed */
        bool asked;
        uint32_t audit_id, audit_id_also;
        char *hierarchy, *cgroup;
        pid_t *pids;
        size_t n, alloc;
};

struct walk_share {
        struct client *clients;
        size_t n, alloc;
        unsigned walks, requests;
};

int walk_share_new(struct walk_share **ret) {
        *ret = calloc(1, sizeof(**ret));
        return *ret ? 0 : -ENOMEM;
}

static void client_clear_request(struct client *c) {
        free(c->hierarchy);
        free(c->cgroup);
        c->hierarchy = c->cgroup = NULL;
        c->asked = false;
        c->n = 0;
}

void walk_share_remove(struct walk_share *w, size_t index) {
        if (index >= w->n)
                return;
        struct client *c = &w->clients[index];
        client_clear_request(c);
        free(c->pids);
        c->pids = NULL;
        c->alloc = 0;
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}

void walk_share_free(struct walk_share *w) {
        if (!w)
                return;
        for (size_t i = 0; i < w->n; i++)
                walk_share_remove(w, i);
        free(w->clients);
        free(w);
}

int walk_share_add(struct walk_share *w, int *ret_child_fd, size_t *ret_index) {
        if (ARRAY_RESERVE(w->clients, w->alloc, w->n, 16) < 0)
                return -ENOMEM;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        w->clients[w->n] = (struct client) { .fd = sv[0] };
        *ret_index = w->n++;
        *ret_child_fd = sv[1];
        return 0;
}

int walk_share_fd(const struct walk_share *w, size_t index) {
        return index < w->n ? w->clients[index].fd : -1;
}

void walk_share_stats(const struct walk_share *w, unsigned *ret_walks, unsigned *ret_requests) {
        *ret_walks = w->walks;
        *ret_requests = w->requests;
}

static int read_string(int fd, uint32_t len, char **ret) {
        if (len > MAX_REQUEST_STRING)
                return -EBADMSG;
        char *s = malloc((size_t) len + 1);
        if (!s)
                return -ENOMEM;
        int r = read_all(fd, s, len);
        if (r < 0) {
                free(s);
                return r;
        }
        s[len] = '\0';
        *ret = s;
        return 0;
}

/* A request whose first bytes are readable; the child wrote it whole. */
static void read_request(struct walk_share *w, size_t i) {
        struct client *c = &w->clients[i];
        struct request_header h;
        int r = read_all(c->fd, &h, sizeof(h));
        if (r >= 0)
                r = read_string(c->fd, h.hierarchy_len, &c->hierarchy);
        if (r >= 0 && h.cgroup_len != NO_CGROUP)
                r = read_string(c->fd, h.cgroup_len, &c->cgroup);
        if (r < 0) {
                /* Its end closed: the child is done, or gone. */
                walk_share_remove(w, i);
                return;
        }
        /* The root holds every process: never a session's own. */
        if (c->cgroup && (!c->cgroup[0] || streq(c->cgroup, "/"))) {
                free(c->cgroup);
                c->cgroup = NULL;
        }
        c->audit_id = h.audit_id;
        c->audit_id_also = h.audit_id_also;
        c->asked = true;
        w->requests++;
}

static bool audit_matches(const struct client *c, uint32_t audit_id) {
        if (audit_id == AUDIT_SESSION_UNSET)
                return false;
        return audit_id == c->audit_id || audit_id == c->audit_id_also;
}

/* The process's path in each hierarchy asked for, read once per process. */
struct walk_state {
        struct walk_share *w;
        char *text;
        const char *path_hierarchy;
        char *path;
};

static int path_in(struct walk_state *st, int procdir_fd, const char *hierarchy, const char **ret) {
        if (!st->text) {
                int r = read_small_file_at(procdir_fd, "cgroup", &st->text, NULL);
                if (r < 0)
                        return r;
        }
        if (!st->path_hierarchy || !streq(st->path_hierarchy, hierarchy)) {
                free(st->path);
                st->path = NULL;
                st->path_hierarchy = hierarchy;
                int r = cgroup_path_in(st->text, hierarchy, &st->path);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        *ret = st->path;
        return 0;
}

static int visit(int procdir_fd, pid_t pid, uint32_t audit_id, void *userdata) {
        struct walk_state *st = userdata;
        struct walk_share *w = st->w;
        int r = 0;
        for (size_t i = 0; i < w->n && r >= 0; i++) {
                struct client *c = &w->clients[i];
                if (!c->asked)
                        continue;
                bool match = audit_matches(c, audit_id);
                if (!match && c->cgroup) {
                        const char *path = NULL;
                        r = path_in(st, procdir_fd, c->hierarchy, &path);
                        if (r < 0)
                                break;
                        match = path && cgroup_path_under(path, c->cgroup);
                }
                if (match) {
                        if (ARRAY_RESERVE(c->pids, c->alloc, c->n, 64) < 0)
                                r = -ENOMEM;
                        else
                                c->pids[c->n++] = pid;
                }
        }
        free(st->text);
        free(st->path);
        st->text = st->path = NULL;
        st->path_hierarchy = NULL;
        /* A process that is gone by the time its cgroup is read was in no
         * session's way. */
        return vanished(r) ? 0 : r;
}

/* Until every client still there has asked, or the time is up. */
static void gather(struct walk_share *w, uint64_t gather_usec) {
        uint64_t until = now_monotonic_usec() + gather_usec;
        _cleanup_free_ struct pollfd *fds = calloc(w->n ? w->n : 1, sizeof(*fds));
        _cleanup_free_ size_t *who = calloc(w->n ? w->n : 1, sizeof(*who));
        if (!fds || !who)
                return;
        for (;;) {
                size_t k = 0;
                for (size_t i = 0; i < w->n; i++)
                        if (w->clients[i].fd >= 0 && !w->clients[i].asked) {
                                fds[k] = (struct pollfd) { .fd = w->clients[i].fd, .events = POLLIN };
                                who[k++] = i;
                        }
                uint64_t now = now_monotonic_usec();
                if (k == 0 || now >= until)
                        return;
                int n = poll(fds, k, (int) ((until - now + 999) / 1000));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                for (size_t j = 0; j < k; j++)
                        if (fds[j].revents)
                                read_request(w, who[j]);
        }
}

int walk_share_serve(struct walk_share *w, const bool *ready, uint64_t gather_usec) {
        bool any = false;
        for (size_t i = 0; i < w->n; i++)
                if (ready[i] && w->clients[i].fd >= 0 && !w->clients[i].asked)
                        read_request(w, i);
        gather(w, gather_usec);
        for (size_t i = 0; i < w->n; i++)
                any = any || w->clients[i].asked;
        if (!any)
                return 0;

        struct walk_state st = { .w = w };
        int r = proc_walk_all(visit, &st);
        w->walks++;
        for (size_t i = 0; i < w->n; i++) {
                struct client *c = &w->clients[i];
                if (!c->asked)
                        continue;
                /* A failed walk answers nothing: the child walks by itself
                 * when its answer does not come. */
                uint32_t n = (uint32_t) c->n;
                int k = r < 0 ? -EIO : write_all(c->fd, &n, sizeof(n));
                if (k >= 0)
                        k = write_all(c->fd, c->pids, c->n * sizeof(*c->pids));
                client_clear_request(c);
                if (k < 0)
                        walk_share_remove(w, i);
        }
        return r;
}

/* SPDX-License-Identifier: MIT */
/* Sockets as the kernel lists them: the TCP tables of a network namespace
 * (/proc/PID/net/tcp, tcp6), the sockets a process holds (/proc/PID/fd),
 * and a unix socket's peer (sock_diag).  What a remote desktop server's
 * connections say about its sessions is read from them. */
#include "sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>

#include "util.h"

/* "0100007F:170C" (IPv4) or 32 hex digits (IPv6), each 32-bit word as the
 * kernel holds it in memory. */
static int parse_addr(const char *text, bool v6, char *out, unsigned *port) {
        const char *colon = strchr(text, ':');
        if (!colon || (size_t) (colon - text) != (v6 ? 32u : 8u))
                return -EINVAL;
        uint32_t words[4] = { 0 };
        for (size_t w = 0; w < (v6 ? 4u : 1u); w++) {
                char buf[9];
                memcpy(buf, text + w * 8, 8);
                buf[8] = '\0';
                char *end;
                unsigned long v = strtoul(buf, &end, 16);
                if (*end)
                        return -EINVAL;
                words[w] = (uint32_t) v;
        }
        char *end;
        unsigned long p = strtoul(colon + 1, &end, 16);
        if (end == colon + 1 || *end || p > 65535)
                return -EINVAL;
        *port = (unsigned) p;
        if (!inet_ntop(v6 ? AF_INET6 : AF_INET, words, out, INET6_ADDRSTRLEN))
                return -errno;
        /* An IPv4 client of a dual-stack listener: show it as IPv4. */
        if (v6 && strncmp(out, "::ffff:", 7) == 0 && strchr(out + 7, '.'))
                memmove(out, out + 7, strlen(out + 7) + 1);
        return 0;
}

int tcp_parse_line(const char *line, bool v6, struct tcp_entry *e) {
        /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
        char local[64], remote[64], ignored[INET6_ADDRSTRLEN];
        unsigned st;
        unsigned long long inode;
        if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %llu", local, remote, &st, &inode) != 4)
                return -EINVAL;
        int r = parse_addr(local, v6, ignored, &e->local_port);
        if (r < 0)
                return r;
        r = parse_addr(remote, v6, e->remote, &e->remote_port);
        if (r < 0)
                return r;
        e->state = st;
        e->inode = inode;
        return 0;
}

void tcp_table_done(struct tcp_table *t) {
        free(t->entries);
        free(t->by_inode);
        free(t->listening);
        *t = (struct tcp_table) { 0 };
}

static int cmp_entry_inode(const void *a, const void *b, void *entries) {
        const struct tcp_entry *e = entries;
        uint64_t x = e[*(const size_t *) a].inode, y = e[*(const size_t *) b].inode;
        return x < y ? -1 : x > y;
}

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

int tcp_table_index(struct tcp_table *t) {
        free(t->by_inode);
        free(t->listening);
        t->by_inode = NULL;
        t->listening = NULL;
        t->n_by_inode = t->n_listening = 0;
        if (t->n == 0)
                return 0;
        t->by_inode = calloc(t->n, sizeof(*t->by_inode));
        t->listening = calloc(t->n, sizeof(*t->listening));
        if (!t->by_inode || !t->listening) {
                tcp_table_done(t);
                return -ENOMEM;
        }
        for (size_t i = 0; i < t->n; i++) {
                /* Inode 0 is a socket no process holds (TIME_WAIT, an
                 * orphan): nothing looks it up. */
                if (t->entries[i].inode)
                        t->by_inode[t->n_by_inode++] = i;
                if (t->entries[i].state == TCP_LISTEN_STATE)
                        t->listening[t->n_listening++] = t->entries[i].local_port;
        }
        qsort_r(t->by_inode, t->n_by_inode, sizeof(*t->by_inode), cmp_entry_inode, t->entries);
        qsort(t->listening, t->n_listening, sizeof(*t->listening), cmp_unsigned);
        size_t u = 0;
        for (size_t i = 0; i < t->n_listening; i++)
                if (u == 0 || t->listening[u - 1] != t->listening[i])
                        t->listening[u++] = t->listening[i];
        t->n_listening = u;
        return 0;
}

const struct tcp_entry *tcp_table_find_inode(const struct tcp_table *t, uint64_t inode) {
        size_t lo = 0, hi = t->n_by_inode;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                uint64_t v = t->entries[t->by_inode[mid]].inode;
                if (v == inode)
                        return &t->entries[t->by_inode[mid]];
                if (v < inode)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

int tcp_table_read(pid_t pid, struct tcp_table *t) {
        static const char *const files[] = { "tcp", "tcp6" };
        size_t alloc = 0;
        *t = (struct tcp_table) { 0 };
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/net/%s", (int) pid, files[i]);
                _cleanup_fclose_ FILE *f = fopen(path, "re");
                if (!f) {
                        if (errno == ENOENT && i == 1)
                                continue; /* a kernel without IPv6 */
                        int r = errno == ENOENT ? -ESRCH : -errno;
                        tcp_table_done(t);
                        return r;
                }
                _cleanup_free_ char *line = NULL;
                size_t cap = 0;
                for (bool header = true; getline(&line, &cap, f) >= 0; header = false) {
                        struct tcp_entry e;
                        if (header || tcp_parse_line(line, i == 1, &e) < 0)
                                continue;
                        if (ARRAY_RESERVE(t->entries, alloc, t->n, 64) < 0) {
                                tcp_table_done(t);
                                return -ENOMEM;
                        }
                        t->entries[t->n++] = e;
                }
        }
        return tcp_table_index(t);
}

bool tcp_is_listening_port(const struct tcp_table *t, unsigned port) {
        return t->n_listening && bsearch(&port, t->listening, t->n_listening, sizeof(*t->listening), cmp_unsigned);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

int socket_inodes(pid_t pid, uint64_t **ret, size_t *ret_n) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        DIR *d = opendir(path);
        if (!d)
                return errno == ENOENT ? -ESRCH : -errno;
        uint64_t *list = NULL;
        size_t n = 0, alloc = 0;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                char target[64];
                ssize_t len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (len < 0)
                        continue;
                target[len] = '\0';
                unsigned long long inode;
                if (sscanf(target, "socket:[%llu]", &inode) != 1)
                        continue;
                if (ARRAY_RESERVE(list, alloc, n, 16) < 0) {
                        r = -ENOMEM;
                        break;
                }
                list[n++] = inode;
        }
        closedir(d);
        if (r < 0) {
                free(list);
                return r;
        }
        if (n > 1)
                qsort(list, n, sizeof(*list), cmp_u64);
        *ret = list;
        *ret_n = n;
        return 0;
}

bool socket_inodes_hold(const uint64_t *inodes, size_t n, uint64_t inode) {
        return n && bsearch(&inode, inodes, n, sizeof(*inodes), cmp_u64);
}

int unix_peer_of(const char *suffix, uint64_t *ret_peer) {
        *ret_peer = 0;
        _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (fd < 0)
                return -errno;
        struct {
                struct nlmsghdr nlh;
                struct unix_diag_req req;
        } msg = {
                .nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                         .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
                .req = { .sdiag_family = AF_UNIX, .udiag_states = 1u << TCP_ESTABLISHED_STATE,
                         .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER },
        };
        if (send(fd, &msg, sizeof(msg), 0) < 0)
                return -errno;
        size_t slen = strlen(suffix);
        _Alignas(struct nlmsghdr) char buf[16384];
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EPROTO;
                size_t left = (size_t) n;
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
                        if (h->nlmsg_type == NLMSG_DONE)
                                return 0;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                return e->error < 0 ? e->error : -EPROTO;
                        }
                        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
                                continue;
                        const struct unix_diag_msg *d = NLMSG_DATA(h);
                        unsigned attr_len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*d));
                        const char *name = NULL;
                        size_t name_len = 0;
                        uint32_t peer = 0;
                        for (const struct rtattr *a = (const struct rtattr *) (d + 1); RTA_OK(a, attr_len);
                             a = RTA_NEXT(a, attr_len)) {
                                if (a->rta_type == UNIX_DIAG_NAME) {
                                        name = RTA_DATA(a);
                                        name_len = RTA_PAYLOAD(a);
                                } else if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(peer))
                                        memcpy(&peer, RTA_DATA(a), sizeof(peer));
                        }
                        /* A path's name may come with its NUL (its length is
                         * what bind() was given). */
                        while (name && name_len > 0 && name[name_len - 1] == '\0')
                                name_len--;
                        /* The accepted end carries the listener's name. */
                        if (name && name_len >= slen && peer &&
                            memcmp(name + name_len - slen, suffix, slen) == 0) {
                                *ret_peer = peer;
                                return 0;
                        }
                }
        }
}


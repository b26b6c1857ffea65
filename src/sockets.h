/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TCP_ESTABLISHED_STATE 0x01
#define TCP_LISTEN_STATE 0x0A

struct tcp_entry {
        char remote[INET6_ADDRSTRLEN]; /* the peer's address, IPv4-mapped shown as IPv4 */
        unsigned local_port, remote_port;
        unsigned state;                /* TCP_ESTABLISHED_STATE ... */
        uint64_t inode;
};

struct tcp_table {
        struct tcp_entry *entries; /* in the kernel's order */
        size_t n;
        /* Indexes made once when the table is read, so that each lookup is
         * a binary search: a host may have hundreds of thousands of
         * sockets, and a local user decides how many. */
        size_t *by_inode;          /* entries with an inode, sorted by it */
        size_t n_by_inode;
        unsigned *listening;       /* ports in TCP_LISTEN_STATE, sorted, unique */
        size_t n_listening;
};

/* The TCP sockets of pid's network namespace, IPv4 and IPv6, indexed. */
int tcp_table_read(pid_t pid, struct tcp_table *t);
void tcp_table_done(struct tcp_table *t);
bool tcp_is_listening_port(const struct tcp_table *t, unsigned port);
/* The entry of the socket with that inode; NULL when the table has none. */
const struct tcp_entry *tcp_table_find_inode(const struct tcp_table *t, uint64_t inode);

/* The parser of one line of /proc/net/tcp or tcp6, and the indexing
 * tcp_table_read does, for tests and tables made elsewhere. */
int tcp_parse_line(const char *line, bool v6, struct tcp_entry *e);
int tcp_table_index(struct tcp_table *t);

/* The socket inodes process pid holds, sorted (-ESRCH: it is gone). */
int socket_inodes(pid_t pid, uint64_t **ret, size_t *ret_n);
bool socket_inodes_hold(const uint64_t *inodes, size_t n, uint64_t inode);

/* The inode of the peer of the connected unix socket whose name ends in
 * suffix, asked of the kernel's sock_diag; 0 when there is none. */
int unix_peer_of(const char *suffix, uint64_t *ret_peer);

/* SPDX-License-Identifier: MIT */
/* The TCP table and its index, on this process's own loopback sockets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "sockets.h"
#include "tap.h"
#include "util.h"

static void test_parse(void) {
        struct tcp_entry e;
        CHECK(tcp_parse_line("   0: 0100007F:170C 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 "
                             "0000000000000000 20 4 30 10 -1",
                             false, &e) == 0 &&
                      e.local_port == 0x170c && e.remote_port == 0xd431 && e.state == TCP_ESTABLISHED_STATE &&
                      e.inode == 4242 && streq(e.remote, "127.0.0.1"),
              "an IPv4 line");
        CHECK(tcp_parse_line("   1: 00000000000000000000000000000000:0016 0000000000000000FFFF00000100007F:9C40 01 "
                             "00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 20 4 30 10 -1",
                             true, &e) == 0 &&
                      e.local_port == 22 && e.remote_port == 0x9c40 && streq(e.remote, "127.0.0.1") && e.inode == 77,
              "an IPv6 line from an IPv4 client shows the client as IPv4");
        CHECK(tcp_parse_line("  sl  local_address rem_address   st tx_queue rx_queue", false, &e) < 0,
              "the header is no entry");
        CHECK(tcp_parse_line("   0: 0100007F:170C", false, &e) < 0, "a cut line is no entry");
}

static void test_index(void) {
        struct tcp_entry entries[] = {
                { .local_port = 22, .state = TCP_LISTEN_STATE, .inode = 30 },
                { .local_port = 5000, .remote_port = 22, .state = TCP_ESTABLISHED_STATE, .inode = 10 },
                { .local_port = 22, .state = TCP_LISTEN_STATE, .inode = 20 }, /* IPv6's listener, same port */
                { .local_port = 6000, .remote_port = 80, .state = 0x06, .inode = 0 }, /* TIME_WAIT */
                { .local_port = 80, .state = TCP_LISTEN_STATE, .inode = 40 },
        };
        struct tcp_table t = { .n = ARRAY_SIZE(entries) };
        t.entries = malloc(sizeof(entries));
        if (!t.entries)
                abort();
        memcpy(t.entries, entries, sizeof(entries));
        CHECK(tcp_table_index(&t) == 0, "indexed");
        CHECK(t.n_by_inode == 4, "sockets without an inode are not indexed");
        CHECK(t.n_listening == 2, "each listening port once");
        const struct tcp_entry *e = tcp_table_find_inode(&t, 10);
        CHECK(e && e->local_port == 5000, "found by inode");
        CHECK(tcp_table_find_inode(&t, 40) == &t.entries[4], "the entry itself, the table left in its order");
        CHECK(!tcp_table_find_inode(&t, 0), "inode 0 is no socket");
        CHECK(!tcp_table_find_inode(&t, 11), "an inode the table does not have");
        CHECK(tcp_is_listening_port(&t, 22) && tcp_is_listening_port(&t, 80), "listening ports");
        CHECK(!tcp_is_listening_port(&t, 5000) && !tcp_is_listening_port(&t, 6000), "ports that do not listen");
        tcp_table_done(&t);

        struct tcp_table empty = { 0 };
        CHECK(tcp_table_index(&empty) == 0 && !tcp_table_find_inode(&empty, 1) && !tcp_is_listening_port(&empty, 22),
              "an empty table");
        tcp_table_done(&empty);
}

static uint64_t inode_of(int fd) {
        struct stat st;
        return fstat(fd, &st) == 0 ? (uint64_t) st.st_ino : 0;
}

static unsigned port_of(int fd) {
        struct sockaddr_in a;
        socklen_t len = sizeof(a);
        return getsockname(fd, (struct sockaddr *) &a, &len) == 0 ? ntohs(a.sin_port) : 0;
}

/* Real connections on loopback, as many as the test's limit allows up to
 * n: each one's ends are found by their inodes in the table read once. */
static void test_live(size_t n) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * n + 64) {
                rl.rlim_cur = rl.rlim_max < 2 * n + 64 ? rl.rlim_max : 2 * n + 64;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * n + 64)
                n = (rl.rlim_cur - 64) / 2;

        int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *) &a, sizeof(a)) == 0 && listen(lfd, 4096) == 0, "a listener");
        a.sin_port = htons((uint16_t) port_of(lfd));
        int *client = calloc(n, sizeof(int)), *server = calloc(n, sizeof(int));
        if (!client || !server)
                abort();
        size_t made = 0;
        for (; made < n; made++) {
                client[made] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (client[made] < 0 || connect(client[made], (struct sockaddr *) &a, sizeof(a)) < 0)
                        break;
                server[made] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (server[made] < 0) {
                        close(client[made]);
                        break;
                }
        }
        CHECK(made == n, "%zu connections made", n);

        struct tcp_table t;
        CHECK(tcp_table_read(getpid(), &t) == 0, "the table read");
        CHECK(tcp_is_listening_port(&t, port_of(lfd)), "the listener's port listens");
        const struct tcp_entry *l = tcp_table_find_inode(&t, inode_of(lfd));
        CHECK(l && l->state == TCP_LISTEN_STATE, "the listener found by its inode");
        size_t found = 0;
        for (size_t i = 0; i < made; i++) {
                const struct tcp_entry *c = tcp_table_find_inode(&t, inode_of(client[i]));
                const struct tcp_entry *s = tcp_table_find_inode(&t, inode_of(server[i]));
                found += c && s && c->state == TCP_ESTABLISHED_STATE && s->state == TCP_ESTABLISHED_STATE &&
                         c->remote_port == port_of(lfd) && s->local_port == port_of(lfd) &&
                         s->remote_port == c->local_port && !tcp_is_listening_port(&t, c->local_port);
        }
        CHECK(found == made, "both ends of each of %zu connections found by inode (%zu)", made, found);

        uint64_t *inodes = NULL;
        size_t n_inodes = 0;
        CHECK(socket_inodes(getpid(), &inodes, &n_inodes) == 0 && n_inodes == 2 * made + 1,
              "socket_inodes: this process's %zu sockets (%zu)", 2 * made + 1, n_inodes);
        CHECK(inodes && socket_inodes_hold(inodes, n_inodes, inode_of(lfd)), "the listener among them");
        free(inodes);
        tcp_table_done(&t);

        for (size_t i = 0; i < made; i++) {
                close(client[i]);
                close(server[i]);
        }
        free(client);
        free(server);
        close(lfd);
}

int main(void) {
        test_parse();
        test_index();
        test_live(3);
        test_live(2000);
        return tap_done();
}

/* SPDX-License-Identifier: MIT */
/* Whether an RDP client is attached to an xrdp session, and from where:
 * xrdp talks to the session's X server over TCP port 5900+N (Xvnc) or the
 * unix socket xrdp_display_N (Xorg), and the xrdp process holding the other
 * end of that connection holds the client's RDP connection too. */
#include "xrdp-net.h"

#include "sockets.h"
#include "util.h"

/* The X server's end of the connection from xrdp, and xrdp's end of it. */
static int x_connection(pid_t x_server, bool xorg, unsigned display, const struct tcp_table *tcp,
                        bool *ret_connected, uint64_t *ret_xrdp_end) {
        *ret_connected = false;
        *ret_xrdp_end = 0;
        if (xorg) {
                char suffix[48];
                snprintf(suffix, sizeof(suffix), "/xrdp_display_%u", display);
                int r = unix_peer_of(suffix, ret_xrdp_end);
                if (r < 0)
                        return r;
                *ret_connected = *ret_xrdp_end != 0;
                return 0;
        }
        unsigned port = 5900 + display;
        _cleanup_free_ uint64_t *x_inodes = NULL;
        size_t n_x = 0;
        /* Another user's X server, for a caller that is not root: its
         * sockets cannot be told, its port still can. */
        int r = socket_inodes(x_server, &x_inodes, &n_x);
        bool any_holder = r == -EACCES;
        if (r < 0 && !any_holder)
                return r;
        for (size_t i = 0; i < tcp->n; i++) {
                const struct tcp_entry *e = &tcp->entries[i];
                if (e->state != TCP_ESTABLISHED_STATE)
                        continue;
                if (e->local_port == port && (any_holder || socket_inodes_hold(x_inodes, n_x, e->inode)))
                        *ret_connected = true;
                else if (e->remote_port == port)
                        *ret_xrdp_end = e->inode;
        }
        if (!*ret_connected)
                *ret_xrdp_end = 0;
        return 0;
}

int xrdp_connection(pid_t x_server, bool xorg, unsigned display, const pid_t *xrdp_pids, size_t n_xrdp,
                    bool *ret_connected, char **ret_client) {
        *ret_connected = false;
        *ret_client = NULL;
        struct tcp_table tcp;
        int r = tcp_table_read(x_server, &tcp);
        if (r < 0)
                return r;
        uint64_t xrdp_end;
        r = x_connection(x_server, xorg, display, &tcp, ret_connected, &xrdp_end);
        for (size_t i = 0; r >= 0 && xrdp_end && i < n_xrdp; i++) {
                _cleanup_free_ uint64_t *inodes = NULL;
                size_t n = 0;
                r = socket_inodes(xrdp_pids[i], &inodes, &n);
                if (r == -ESRCH || r == -EACCES) {
                        r = 0;
                        continue;
                }
                if (r < 0 || !socket_inodes_hold(inodes, n, xrdp_end))
                        continue;
                /* That xrdp process's connection accepted on a listening
                 * port (not its own one to the X server or to sesman). */
                for (size_t j = 0; j < tcp.n; j++) {
                        const struct tcp_entry *e = &tcp.entries[j];
                        if (e->state == TCP_ESTABLISHED_STATE && e->inode != xrdp_end && socket_inodes_hold(inodes, n, e->inode) &&
                            tcp_is_listening_port(&tcp, e->local_port)) {
                                *ret_client = strdup(e->remote);
                                if (!*ret_client)
                                        r = -ENOMEM;
                                break;
                        }
                }
                break;
        }
        tcp_table_done(&tcp);
        return r < 0 ? r : 0;
}

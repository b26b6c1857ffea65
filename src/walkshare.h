/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One /proc walk for many sessions ended at once.  Each session is ended
 * by its own child process (many.h), whose rounds would each walk all of
 * /proc: a hundred sessions, a hundred walks per round.  Instead a child
 * asks its parent, which walks /proc once for every child asking at that
 * moment and answers each with the pids that are its session's by audit
 * session or cgroup.  The child still opens each of them and checks it
 * against its membership through its own /proc directory before it
 * signals it: the parent's answer narrows the walk, it proves nothing.
 * A membership by process tree is never shared: it needs the whole walk. */

/* The child's side: the pids of /proc that are in this audit session
 * (either ID; AUDIT_SESSION_UNSET for none) or below this cgroup of that
 * hierarchy (NULL: none).  0, or a negative errno: then the caller walks
 * by itself. */
int walk_share_ask(int fd, uint32_t audit_id, uint32_t audit_id_also, const char *hierarchy, const char *cgroup,
                   pid_t **ret, size_t *ret_n);

/* The parent's side: one client per child, by the socket it reads. */
struct walk_share;

int walk_share_new(struct walk_share **ret);
void walk_share_free(struct walk_share *w);

/* A socket pair for a new client: the parent's end is kept, *ret_child_fd
 * is for the child (close it in the parent once the child has it). */
int walk_share_add(struct walk_share *w, int *ret_child_fd, size_t *ret_index);

/* The client is gone (its child exited): its socket is closed. */
void walk_share_remove(struct walk_share *w, size_t index);

/* The parent's socket of a client, to poll; -1 once removed. */
int walk_share_fd(const struct walk_share *w, size_t index);

/* Reads the requests of the clients whose sockets are readable (ready[i]
 * for client i), waits up to gather_usec for the others still running to
 * ask too, then walks /proc once and answers every one that asked.  A
 * client whose socket fails is removed.  Returns 0 or a negative errno of
 * the walk. */
int walk_share_serve(struct walk_share *w, const bool *ready, uint64_t gather_usec);

/* How many walks it made, and for how many requests. */
void walk_share_stats(const struct walk_share *w, unsigned *ret_walks, unsigned *ret_requests);

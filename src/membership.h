/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "procscan.h"

/* What makes a process part of a session.  Every signal logoff sends is
 * checked against it through the process's own /proc directory, so a
 * session's membership is data, not a global assumption.
 *
 * A process belongs when its audit session is audit_id, or when it sits in
 * cgroup (or below it) of the hierarchy named by cgroup_hierarchy ("" for
 * the unified hierarchy, "name=elogind" for a named v1 one).  logind
 * sessions have both: their scope, and the audit session of their login,
 * which setsid, double forks and moving between cgroups all keep.
 *
 * A session its server knows only by its own processes (xrdp without
 * pam_loginuid: no audit session, no cgroup) is a process tree:
 *  - the server's per-session root process and every descendant of it,
 *    whatever it did to its loginuid (a process whose loginuid is unset may
 *    write one and so get an audit session of its own: that session is not
 *    a login, and its audit ID is taken into the tree, absorbed);
 *  - the owner's processes outside every audit session that carry the
 *    session's environment (env_marker and its DISPLAY; a DISPLAY that
 *    names none of the owner's other sessions is this one's when the owner
 *    has no other session of this server);
 *  - with orphans, the owner's processes outside every audit session
 *    started since, which setsid with a scrubbed environment leaves nothing
 *    else to tell by: never a root process, never one of another PID
 *    namespace, never one whose parents lead to a system service (a parent
 *    that is not the owner's, before init). */
enum tree_orphans {
        TREE_ORPHANS_NONE,      /* the owner has other sessions: theirs could be any one's */
        TREE_ORPHANS_TAKEN,     /* by the rule above */
        TREE_ORPHANS_ANY,       /* the rule without its limits: only to name what it left */
};

struct process_tree {
        pid_t root;             /* 0: none */
        uint64_t root_start;    /* its start time, in clock ticks after boot */
        uid_t owner;
        char *env_marker;       /* "XRDP_SESSION" */
        unsigned display;       /* N of DISPLAY=:N or :N.S, with env_marker */
        /* The displays of the owner's other sessions of the same server:
         * a process whose DISPLAY names one is that session's. */
        unsigned *other_displays;
        size_t n_other_displays, alloc_other_displays;
        /* Audit sessions made inside the tree (see above). */
        uint32_t *absorbed;
        size_t n_absorbed, alloc_absorbed;
        enum tree_orphans orphans;
};

struct membership {
        uint32_t audit_id;      /* AUDIT_SESSION_UNSET: none */
        /* A second login that is part of the same session: the ssh login
         * of an X2Go session's current connection, after a resume. */
        uint32_t audit_id_also;
        char *cgroup;           /* NULL: none; else "/user.slice/.../session-3.scope" */
        char *cgroup_hierarchy; /* with cgroup */
        struct process_tree tree;
};

/* Whether membership rests only on a process tree, which is weaker than an
 * audit session or a cgroup: a process may leave it unseen. */
bool membership_is_tree_only(const struct membership *m);

void membership_done(struct membership *m);

/* How a process stands to a process tree, by the rules above. */
enum tree_relation {
        TREE_NONE,
        TREE_ROOT_OR_DESCENDANT,
        TREE_ENVIRONMENT,
        TREE_ORPHAN,     /* the owner's, outside any audit session, started since the root */
};
/* What the orphans rule took, or, with TREE_ORPHANS_ANY, would have taken
 * without its limits. */
int membership_tree_relation_at(const struct process_tree *t, int procdir_fd, uint32_t audit_id,
                                enum tree_relation *ret);

/* Whether the process behind a /proc/PID directory fd is a member.  Its
 * audit session is tried first, as it is the cheaper file.  Returns 1, 0,
 * or a negative errno (-ESRCH/-ENOENT: the process is gone). */
int membership_contains_at(const struct membership *m, int procdir_fd);

/* The same, for a walk that has read the process's audit session already. */
int membership_contains_known_at(const struct membership *m, int procdir_fd, uint32_t audit_id);

/* The members of m, as procscan.h's scans and walks take them. */
struct proc_filter membership_filter(const struct membership *m);
int membership_scan(const struct membership *m, unsigned flags, struct proc_info **ret, size_t *ret_n);
int membership_walk(const struct membership *m, proc_walk_fn fn, void *userdata);
int membership_walk_except(const struct membership *m, const pid_t *skip, size_t n_skip, proc_walk_fn fn,
                           void *userdata);

/* From now on the walks of a membership that has an audit session or a
 * cgroup ask the walk shared with other sessions through fd (walkshare.h);
 * one whose answer fails walks by itself. */
void membership_share_walks(int fd);

/* Takes an audit session made inside the tree into it. */
int process_tree_absorb(struct process_tree *t, uint32_t audit_id);
int process_tree_add_other_display(struct process_tree *t, unsigned display);


/* SPDX-License-Identifier: MIT */
#include "policy.h"

#include <inttypes.h>
#include <linux/capability.h>
#include <sys/auxv.h>

#include "backend.h"
#include "util.h"

int caller_identify(struct caller *ret) {
        _cleanup_free_ char *status = NULL;
        int r = read_small_file_at(AT_FDCWD, "/proc/self/status", &status, NULL);
        if (r < 0)
                return r;
        const char *l = strstr(status, "\nCapEff:");
        if (!l)
                return -EINVAL;
        uint64_t caps;
        if (sscanf(l + strlen("\nCapEff:"), "%" SCNx64, &caps) != 1)
                return -EINVAL;
        *ret = (struct caller) {
                .ruid = getuid(),
                .euid = geteuid(),
                .cap_kill = caps & (UINT64_C(1) << CAP_KILL),
                .secure = getauxval(AT_SECURE) != 0,
        };
        return 0;
}

enum policy_verdict policy_check(const struct session *s, const struct caller *c) {
        if (s->console)
                return POLICY_DENY_CONSOLE;
        if (s->current)
                return POLICY_ALLOW;
        if (c->cap_kill && (!c->secure || c->ruid == 0))
                return POLICY_ALLOW;
        if (c->cap_kill && s->uid == c->ruid)
                return POLICY_ALLOW; /* the binary's CAP_KILL, for the caller's own sessions */
        if (session_host_authorizes(s))
                return POLICY_ASK_HOST;
        return POLICY_DENY_NOT_ALLOWED;
}

bool policy_may_signal(const struct caller *c, uid_t target_ruid, uid_t target_suid) {
        if (c->cap_kill)
                return true;
        return c->ruid == target_ruid || c->ruid == target_suid || c->euid == target_ruid ||
               c->euid == target_suid;
}

/* SPDX-License-Identifier: MIT */
#include "select.h"

#include "procscan.h"
#include "util.h"

static bool name_matches(const struct session *s, const char *name) {
        if (session_name_matches(s->name, name))
                return true;
        if (strncasecmp(name, "/dev/", 5) == 0)
                name += 5;
        return s->console && strcaseeq(name, "console");
}

size_t sessions_matching_name(const struct session_list *l, const char *name,
                              const struct session **out, size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < l->n; i++)
                if (name_matches(&l->sessions[i], name)) {
                        if (n < max)
                                out[n] = &l->sessions[i];
                        n++;
                }
        return n;
}

/* "12" and "012" name session 12; logind's "c3" is matched as it is. */
static bool id_matches(const struct session *s, const struct options *o) {
        uint32_t v;
        if (o->target_is_id)
                return parse_u32(s->id, &v) == 0 && v == o->target_id;
        return strcaseeq(s->id, o->target);
}

int select_session(const struct session_list *l, const struct options *o, const struct session **ret) {
        if (!o->target) {
                for (size_t i = 0; i < l->n; i++)
                        if (l->sessions[i].current) {
                                *ret = &l->sessions[i];
                                return 0;
                        }
                return -ESRCH;
        }

        for (size_t i = 0; i < l->n; i++)
                if (id_matches(&l->sessions[i], o)) {
                        *ret = &l->sessions[i];
                        return 0;
                }
        if (o->target_is_id)
                return -ENOENT;

        const struct session *found[2];
        size_t n = sessions_matching_name(l, o->target, found, ARRAY_SIZE(found));
        if (n == 0)
                return -ENOENT;
        if (n > 1) {
                /* A terminal line is reused once its login is over: a
                 * disconnected remnant must not shadow the live login. */
                const struct session *active = NULL;
                size_t n_active = 0;
                for (size_t i = 0; i < l->n; i++)
                        if (name_matches(&l->sessions[i], o->target) &&
                            l->sessions[i].state == SESSION_ACTIVE) {
                                active = &l->sessions[i];
                                n_active++;
                        }
                if (n_active != 1)
                        return -ENOTUNIQ;
                *ret = active;
                return 0;
        }
        *ret = found[0];
        return 0;
}

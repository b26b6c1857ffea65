/* SPDX-License-Identifier: MIT */
#include "select.h"

#include <pwd.h>

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

/* What a name of --user's list stands for: a UID (given as a number, or
 * the one passwd has for the name), or a name passwd does not have (a
 * user since deleted) that only the sessions showing it match. */
struct user_key {
        bool by_uid;
        uid_t uid;
        char *name;
};

static int user_key_of(const char *typed, size_t len, struct user_key *ret) {
        *ret = (struct user_key) { 0 };
        ret->name = strndup(typed, len);
        if (!ret->name)
                return -ENOMEM;
        uint32_t uid;
        if (parse_u32(ret->name, &uid) == 0 && uid != UINT32_MAX) {
                ret->by_uid = true;
                ret->uid = (uid_t) uid;
                return 0;
        }
        errno = 0;
        const struct passwd *pw = getpwnam(ret->name);
        if (pw) {
                ret->by_uid = true;
                ret->uid = pw->pw_uid;
                return 0;
        }
        /* "Not found" comes as 0 or as one of these, by the NSS module. */
        if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM)
                return -errno;
        return 0;
}

static bool user_key_matches(const struct user_key *k, const struct session *s) {
        return k->by_uid ? s->uid == k->uid : s->user && streq(s->user, k->name);
}

static void user_keys_free(struct user_key *keys, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(keys[i].name);
        free(keys);
}

/* Every name is looked up before any session is looked at: a typo is
 * an error, never a selection that happens to match nothing. */
static int user_keys_parse(const struct session_list *l, const char *users, struct user_key **ret, size_t *ret_n,
                           struct selected *sel) {
        size_t n = 1;
        for (const char *p = users; *p; p++)
                n += *p == ',';
        struct user_key *keys = calloc(n, sizeof(*keys));
        if (!keys)
                return -ENOMEM;
        size_t k = 0;
        for (const char *p = users;; k++) {
                size_t len = strcspn(p, ",");
                int r = user_key_of(p, len, &keys[k]);
                bool known = r == 0 && keys[k].by_uid;
                for (size_t i = 0; r == 0 && !known && i < l->n; i++)
                        known = user_key_matches(&keys[k], &l->sessions[i]);
                if (r == 0 && !known) {
                        sel->unknown_user = p;
                        sel->unknown_user_len = len;
                        r = -ENXIO;
                }
                if (r < 0) {
                        user_keys_free(keys, k + 1);
                        return r;
                }
                if (!p[len])
                        break;
                p += len + 1;
        }
        *ret = keys;
        *ret_n = k + 1;
        return 0;
}

static bool selection_matches(const struct session *s, const struct selection *sel, const struct user_key *keys,
                              size_t n_keys) {
        if (sel->idle_given && (s->idle_usec < 0 || (uint64_t) s->idle_usec <= sel->idle_usec))
                return false;
        if (sel->state_given && s->state != sel->state)
                return false;
        if (sel->types && !(sel->types & (1u << s->type)))
                return false;
        if (!sel->users)
                return true;
        for (size_t i = 0; i < n_keys; i++)
                if (user_key_matches(&keys[i], s))
                        return true;
        return false;
}

int select_many(const struct session_list *l, const struct selection *sel, struct selected *ret) {
        *ret = (struct selected) { 0 };
        struct user_key *keys = NULL;
        size_t n_keys = 0;
        int r = sel->users ? user_keys_parse(l, sel->users, &keys, &n_keys, ret) : 0;
        if (r < 0)
                return r;
        if (l->n > 0 && !(ret->index = calloc(l->n, sizeof(*ret->index)))) {
                user_keys_free(keys, n_keys);
                return -ENOMEM;
        }
        for (size_t i = 0; i < l->n; i++) {
                const struct session *s = &l->sessions[i];
                if (!selection_matches(s, sel, keys, n_keys))
                        continue;
                if (s->console) {
                        ret->console_matched = true;
                        continue;
                }
                if (sel->all && s->current) {
                        ret->own_left_out = true;
                        continue;
                }
                ret->index[ret->n++] = i;
        }
        user_keys_free(keys, n_keys);
        return 0;
}

void selected_done(struct selected *s) {
        free(s->index);
        *s = (struct selected) { 0 };
}

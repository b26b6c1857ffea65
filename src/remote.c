/* SPDX-License-Identifier: MIT */
#include "remote.h"

#include <inttypes.h>
#include <sys/wait.h>

#include "util.h"

/* ssh hands its arguments to the remote user's shell as one string: every
 * word goes in single quotes, and a quote inside becomes '\''. */
static int append_quoted(char **buf, size_t *len, const char *word) {
        size_t need = 3;
        for (const char *p = word; *p; p++)
                need += *p == '\'' ? 4 : 1;
        char *n = realloc(*buf, *len + need + 1);
        if (!n)
                return -ENOMEM;
        *buf = n;
        char *w = n + *len;
        if (*len > 0)
                *w++ = ' ';
        *w++ = '\'';
        for (const char *p = word; *p; p++) {
                if (*p == '\'') {
                        memcpy(w, "'\\''", 4);
                        w += 4;
                } else
                        *w++ = *p;
        }
        *w++ = '\'';
        *w = '\0';
        *len = (size_t) (w - n);
        return 0;
}

int remote_command_line(const struct options *o, char **ret) {
        /* Not from a caller that the binary's file capabilities (or a
         * setuid bit) do not trust: secure_getenv() says nothing then. */
        const char *program = secure_getenv("LOGOFF_REMOTE_COMMAND");
        if (!program || !*program)
                program = "logoff";

        char timeout[64];
        snprintf(timeout, sizeof(timeout), "--timeout=%" PRIu64 ".%06" PRIu64, o->timeout_usec / 1000000u,
                 o->timeout_usec % 1000000u);

        char backend[32];
        snprintf(backend, sizeof(backend), "--backend=%s", backend_choice_to_string(o->backend));

        _cleanup_free_ char *warn = NULL;
        if (o->warn && asprintf(&warn, "--warn%s%s", o->warn_text ? "=" : "", o->warn_text ? o->warn_text : "") < 0) {
                warn = NULL;
                return -ENOMEM;
        }
        char grace[64];
        snprintf(grace, sizeof(grace), "--grace=%" PRIu64 ".%06" PRIu64, o->grace_usec / 1000000u,
                 o->grace_usec % 1000000u);

        /* The columns by their own names, as parsed: nothing of the
         * command line's text goes over as it was typed. */
        _cleanup_free_ char *output = NULL;
        if (o->columns_given) {
                size_t size = strlen("--output=") + 1;
                for (size_t i = 0; i < o->columns.n; i++)
                        size += strlen(column_get(o->columns.ids[i])->name) + 1;
                output = malloc(size);
                if (!output)
                        return -ENOMEM;
                strcpy(output, "--output=");
                for (size_t i = 0; i < o->columns.n; i++) {
                        if (i)
                                strcat(output, ",");
                        strcat(output, column_get(o->columns.ids[i])->name);
                }
        }

        /* The selection, by the names parsed; user names as given, as they
         * are looked up over there. */
        const struct selection *sel = &o->select;
        _cleanup_free_ char *user = NULL, *types = NULL;
        if (sel->users && asprintf(&user, "--user=%s", sel->users) < 0) {
                user = NULL;
                return -ENOMEM;
        }
        char idle[64];
        snprintf(idle, sizeof(idle), "--idle=%" PRIu64 ".%06" PRIu64, sel->idle_usec / 1000000u,
                 sel->idle_usec % 1000000u);
        if (sel->types) {
                size_t size = strlen("--type=") + 1;
                for (unsigned t = 0; t < 32; t++)
                        if (sel->types & (1u << t))
                                size += strlen(session_type_to_string((enum session_type) t)) + 1;
                types = malloc(size);
                if (!types)
                        return -ENOMEM;
                strcpy(types, "--type=");
                bool first = true;
                for (unsigned t = 0; t < 32; t++)
                        if (sel->types & (1u << t)) {
                                if (!first)
                                        strcat(types, ",");
                                strcat(types, session_type_to_string((enum session_type) t));
                                first = false;
                        }
        }

        const char *words[24];
        size_t n = 0;
        words[n++] = program;
        if (o->action == ACTION_LIST)
                words[n++] = "--list";
        if (o->json)
                words[n++] = "--json";
        if (output)
                words[n++] = output;
        if (o->noheadings)
                words[n++] = "--noheadings";
        if (o->raw)
                words[n++] = "--raw";
        if (o->verbose)
                words[n++] = "--verbose";
        if (o->dry_run)
                words[n++] = "--dry-run";
        if (o->action == ACTION_LOGOFF)
                words[n++] = timeout;
        if (o->backend != BACKEND_AUTO)
                words[n++] = backend;
        if (warn) {
                words[n++] = warn;
                words[n++] = grace;
        }
        if (user)
                words[n++] = user;
        if (sel->idle_given)
                words[n++] = idle;
        if (sel->state_given)
                words[n++] = sel->state == SESSION_ACTIVE ? "--state=active" : "--state=disc";
        if (types)
                words[n++] = types;
        if (sel->all)
                words[n++] = "--all";
        if (o->target) {
                words[n++] = "--";
                words[n++] = o->target;
        }

        _cleanup_free_ char *line = NULL;
        size_t len = 0;
        for (size_t i = 0; i < n; i++) {
                int r = append_quoted(&line, &len, words[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(line);
        return 0;
}

int remote_run(const struct options *o) {
        _cleanup_free_ char *command = NULL;
        int r = remote_command_line(o, &command);
        if (r < 0)
                return r;

        const char *ssh = secure_getenv("LOGOFF_SSH");
        if (!ssh || !*ssh)
                ssh = "ssh";

        /* A close-on-exec pipe tells a failed exec of ssh apart from a
         * remote exit status 127 (logoff not installed over there). */
        int exec_pipe[2];
        if (pipe2(exec_pipe, O_CLOEXEC) < 0)
                return -errno;

        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                close(exec_pipe[0]);
                close(exec_pipe[1]);
                return r;
        }
        if (pid == 0) {
                close(exec_pipe[0]);
                /* "--" keeps the server name from ever being read as an
                 * option, even though parsing already refused a leading '-'. */
                execlp(ssh, ssh, "-q", "--", o->server, command, (char *) NULL);
                int e = errno;
                (void) !write(exec_pipe[1], &e, sizeof(e));
                _exit(127);
        }
        close(exec_pipe[1]);

        int exec_errno = 0;
        ssize_t k;
        while ((k = read(exec_pipe[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
                ;
        close(exec_pipe[0]);

        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (k == (ssize_t) sizeof(exec_errno))
                return -exec_errno;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 255;
}

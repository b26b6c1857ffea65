/* SPDX-License-Identifier: MIT */
#include "report.h"

#include <stdarg.h>
#include <sys/wait.h>
#include <utmpx.h>

#include "desktop.h"
#include "exit-status.h"
#include "interrupt.h"
#include "output.h"
#include "text.h"
#include "warn.h"
#include "util.h"

const char program_name[] = "logoff";
/* A string the host wrote that is kept raw to find what it names (a utmp
 * line): cleaned for showing, into *buf. */
static const char *raw_text_or_dash(const char *s, char **buf) {
        *buf = NULL;
        if (!s || !*s)
                return "-";
        *buf = text_clean(s);
        return *buf ? *buf : "?";
}

void report_verbose(const struct options *o, const char *fmt, ...) {
        if (!o->verbose)
                return;
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        /* Logging off our own session hangs up our terminal: output may
         * fail from then on, and that must not stop the logoff. */
        fflush(stdout);
}

void report_session(const struct options *o, const struct session *s) {
        char idle[32] = "?";
        if (s->idle_usec >= 0)
                format_duration(idle, sizeof(idle), (uint64_t) s->idle_usec);
        report_verbose(o,
                ngettext("Session %s: name %s, user %s, from %s, state %s, type %s, leader %d, %u process, idle %s",
                         "Session %s: name %s, user %s, from %s, state %s, type %s, leader %d, %u processes, idle %s",
                         s->processes),
                or_dash(s->id), or_dash(s->name), or_dash(s->user),
                s->remote_host ? or_dash(s->remote_host) : _("this host"),
                session_state_to_string(s->state), session_type_to_string(s->type), (int) s->leader, s->processes,
                idle);
        if (membership_is_tree_only(&s->member)) {
                report_verbose(o, _("Session %s has no audit session and no cgroup: it is known by its server's "
                                    "processes, their descendants and their environment"),
                               or_dash(s->id));
                if (s->member.tree.orphans == TREE_ORPHANS_TAKEN)
                        report_verbose(o, _("%s has no other session: their processes outside every session, "
                                            "started since this one began, are ended with it (but for "
                                            "another PID namespace's and a service's)"),
                                       or_dash(s->user));
                else if (s->uid == 0)
                        report_verbose(o, _("root's processes outside every session are never taken for this "
                                            "session's: only its descendants and its environment tell"));
                else
                        report_verbose(o, _("%s has other sessions: a process that left this one with a scrubbed "
                                            "environment cannot be told from theirs and is left alone"),
                                       or_dash(s->user));
        }
}

void report_hidden_note(const struct session_list *l) {
        if (l->others_hidden)
                fprintf(stderr,
                        _("%s: note: /proc is mounted with hidepid here: other users' processes, and so their "
                          "sessions, are hidden from you\n"),
                        program_name);
}

void report_listing_notes(const struct options *o, const struct session_list *l, const struct session *only) {
        report_hidden_note(l);
        if (o->json)
                return; /* "membership" says it there */
        for (size_t i = 0; i < l->n; i++) {
                const struct session *s = &l->sessions[i];
                if ((only && s != only) || !membership_is_tree_only(&s->member) || !s->server ||
                    !s->server->tree_only_note)
                        continue;
                fprintf(stderr, _(s->server->tree_only_note), program_name, or_dash(s->id));
        }
}

static void print_procs(FILE *f, const char *what, const struct proc_info *procs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                fprintf(f, _("%s: %s: pid %d (%s), uid %u, state %c\n"), program_name, what, (int) procs[i].pid,
                        or_dash(procs[i].comm), (unsigned) procs[i].ruid, procs[i].state);
        }
}

/* "APP inhibits logout, suspend: "REASON"" (the strings are clean text). */
static char *inhibitor_text(const struct desktop_inhibitor *in) {
        _cleanup_free_ char *what = desktop_inhibit_flags_text(in->flags);
        char *t = NULL;
        if (asprintf(&t, _("%s inhibits %s: \"%s\""), or_dash(in->app_id), what ? what : "?",
                     in->reason) < 0)
                return NULL;
        return t;
}

static bool inhibits_logout(const struct desktop_report *d) {
        for (size_t i = 0; i < d->n_inhibitors; i++)
                if (d->inhibitors[i].flags & DESKTOP_INHIBIT_LOGOUT)
                        return true;
        return false;
}

/* Each of the desktop's inhibitors on a line of its own, then those not
 * read, or why none could be: lines of the dry run's, or of /v. */
static void print_inhibitors(const struct desktop_report *d, bool dry_run) {
        for (size_t i = 0; i < d->n_inhibitors; i++) {
                _cleanup_free_ char *t = inhibitor_text(&d->inhibitors[i]);
                printf(dry_run ? _("  the %s session manager names an inhibitor: %s\n")
                               : _("The %s session manager names an inhibitor: %s\n"),
                       d->desktop, t ? t : "?");
        }
        if (d->inhibitors_not_read)
                printf(dry_run ? ngettext("  and %u more inhibitor, not read\n", "  and %u more inhibitors, not read\n",
                                          d->inhibitors_not_read)
                               : ngettext("And %u more inhibitor, not read\n", "And %u more inhibitors, not read\n",
                                          d->inhibitors_not_read),
                       d->inhibitors_not_read);
        if (d->inhibitors_error < 0 && d->inhibitors_error != -EOPNOTSUPP)
                printf(dry_run ? _("  could not read the %s session manager's inhibitors: %s\n")
                               : _("Could not read the %s session manager's inhibitors: %s\n"),
                       d->desktop, strerror(-d->inhibitors_error));
        fflush(stdout);
}

int report_dry_run(const struct options *o, const struct session *s, const struct proc_info *procs, size_t n,
                   const struct desktop_report *desktop, int desktop_result) {
        printf(_("Would log off session %s (%s) of %s:\n"), or_dash(s->id),
               or_dash(s->name), or_dash(s->user));
        bool graphical = session_is_graphical(s);
        if (o->warn && !s->current) {
                _cleanup_free_ char *grace = warn_format_time_left(o->grace_usec);
                printf(graphical ? _("  would warn its user on its terminals and on its desktop, and wait %s\n")
                                 : _("  would warn its user on its terminals, and wait %s\n"),
                       grace ? grace : "?");
        }
        if (graphical && desktop->desktop) {
                printf(_("  would ask the %s session manager (pid %d) to log out, and give the session %.0f s to "
                         "end by itself\n"),
                       desktop->desktop, (int) desktop->manager, (double) DESKTOP_LOGOUT_WAIT_USEC / 1e6);
                if (desktop_result == 0)
                        print_inhibitors(desktop, true);
                else if (desktop_result != -ENOENT)
                        printf(_("  could not reach it now: %s\n"), strerror(-desktop_result));
        }
        if (session_host_authorizes(s) && !graphical)
                printf(_("  would ask %s to terminate it first\n"), s->host->name);
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
                if (!proc_is_alive(&procs[i]) || procs[i].pid == getpid())
                        continue;
                printf(_("  would end pid %d (%s), uid %u\n"), (int) procs[i].pid, or_dash(procs[i].comm),
                       (unsigned) procs[i].ruid);
                shown++;
        }
        if (graphical)
                printf(ngettext("  %zu process: SIGTERM and SIGCONT, SIGHUP after, then SIGKILL after %.1f s\n",
                                "  %zu processes: SIGTERM and SIGCONT, SIGHUP after, then SIGKILL after %.1f s\n",
                                shown),
                       shown, (double) o->timeout_usec / 1e6);
        else
                printf(ngettext("  %zu process: SIGHUP, SIGTERM and SIGCONT, then SIGKILL after %.1f s\n",
                                "  %zu processes: SIGHUP, SIGTERM and SIGCONT, then SIGKILL after %.1f s\n", shown),
                       shown, (double) o->timeout_usec / 1e6);
        if (session_host_authorizes(s) && graphical)
                printf(_("  would then ask %s to terminate it, to finish what is left\n"), s->host->name);
        if (s->utmp_line) {
                _cleanup_free_ char *b = NULL;
                printf(_("  would mark the utmp entry of %s dead and append a logout record to wtmp\n"),
                       raw_text_or_dash(s->utmp_line, &b));
        }
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_GENERIC;
}

/* What the session host said when asked to end the session, and what it
 * knows of it afterwards. */
static void report_server(const struct options *o, const struct session *s, const struct server_report *rep) {
        _cleanup_free_ char *b1 = NULL;
        if (!rep->tool)
                return;
        const char *id = printable_or_dash(s->desktop_id, &b1), *user = or_dash(s->user);
        if (rep->error < 0)
                report_verbose(o, _("Could not run %s %s as %s: %s; ending its processes anyway"), rep->tool, id,
                               user, strerror(-rep->error));
        else if (WIFEXITED(rep->status) && WEXITSTATUS(rep->status) == 0)
                report_verbose(o, _("Ran %s %s as %s"), rep->tool, id, user);
        else if (WIFEXITED(rep->status))
                report_verbose(o, _("Ran %s %s as %s: exit status %d; ending its processes anyway"), rep->tool, id,
                               user, WEXITSTATUS(rep->status));
        else
                report_verbose(o, _("Ran %s %s as %s: killed by signal %d; ending its processes anyway"),
                               rep->tool, id, user, WTERMSIG(rep->status));
}

int report_warning(const struct options *o, const struct session *s, const struct warn_report *w, int r) {
        const char *id = or_dash(s->id);
        if (w->rounds) {
                _cleanup_free_ char *grace = warn_format_time_left(o->grace_usec);
                report_verbose(o, ngettext("Warned %s %u time that session %s would be logged off in %s",
                                           "Warned %s %u times that session %s would be logged off in %s", w->rounds),
                               or_dash(s->user), w->rounds, id, grace ? grace : "?");
        }
        if (w->terminals)
                report_verbose(o, ngettext("The warning reached %u terminal of the session",
                                           "The warning reached %u terminals of the session", w->terminals),
                               w->terminals);
        if (w->terminals_skipped)
                report_verbose(o, ngettext("%u terminal of the session did not take the warning at once and was "
                                           "skipped",
                                           "%u terminals of the session did not take the warning at once and were "
                                           "skipped",
                                           w->terminals_skipped),
                               w->terminals_skipped);
        if (w->notify_result == 0)
                report_verbose(o, _("Showed it as a desktop notification on the session's bus"));
        else if (w->notify_result != -ENOTCONN)
                fprintf(stderr, _("%s: could not show the warning as a desktop notification: %s\n"), program_name,
                        w->notify_error ? w->notify_error : strerror(-w->notify_result));
        if (r == -ECANCELED) {
                int sig = interrupt_pending();
                const char *name = sig ? sigabbrev_np(sig) : NULL;
                fprintf(stderr,
                        _("%s: interrupted by SIG%s after %.0f s of the grace period: session %s was not logged "
                          "off, and nothing was signalled\n"),
                        program_name, name ? name : "?", (double) w->waited_usec / 1e6, id);
                return EXIT_BY_SIGNAL;
        }
        if (r < 0) {
                fprintf(stderr, _("%s: cannot warn session %s: %s\n"), program_name, id, strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        if (w->ended_by_itself)
                report_verbose(o, _("Its user logged out after %.0f s of the grace period"),
                               (double) w->waited_usec / 1e6);
        else
                report_verbose(o, _("The grace period of %.0f s is over"), (double) w->waited_usec / 1e6);
        return EXIT_OK;
}

/* What the desktop's own "Log out" did. */
static void report_desktop(const struct options *o, const struct end_report *rep) {
        const struct desktop_report *d = &rep->desktop;
        if (rep->desktop_result == -ENOTCONN)
                return;
        if (rep->desktop_result == -ENOENT && !d->desktop) {
                report_verbose(o, _("No session manager logoff knows runs in the session: its desktop was not asked to "
                                    "log out"));
                return;
        }
        if (rep->desktop_result < 0 && rep->desktop_result != -ECANCELED) {
                const char *why = d->error_message && d->error_message[0] ? d->error_message
                                  : d->error_name                         ? d->error_name
                                  : rep->desktop_result == -EPERM
                                          ? _("its bus name is served by another process, or logoff could not "
                                              "become the user")
                                          : strerror(-rep->desktop_result);
                if (o->verbose)
                        print_inhibitors(d, false);
                report_verbose(o, _("Could not ask the %s session manager (pid %d) to log out on %s: %s"), d->desktop,
                               (int) d->manager, or_dash(d->bus), why);
                return;
        }
        if (o->verbose)
                print_inhibitors(d, false);
        report_verbose(o, _("Asked the %s session manager (pid %d) to log out on %s, so that its applications save"),
                       d->desktop, (int) d->manager, or_dash(d->bus));
        if (d->ended)
                report_verbose(o, _("The desktop logged out by itself in %.2f s"), (double) d->waited_usec / 1e6);
        else if (rep->desktop_result == 0 && d->manager_exited)
                report_verbose(o, ngettext("The %s session manager logged out in %.2f s, but %u process of the user's "
                                           "was still running %.2f s later, ended below",
                                           "The %s session manager logged out in %.2f s, but %u processes of the "
                                           "user's were still running %.2f s later, ended below",
                                           d->left),
                               d->desktop, (double) d->manager_exited_usec / 1e6, d->left,
                               (double) (d->waited_usec - d->manager_exited_usec) / 1e6);
        else if (rep->desktop_result == 0) {
                report_verbose(o, ngettext("After %.2f s the desktop had not logged out: %u process of the user's was "
                                           "left, ended below",
                                           "After %.2f s the desktop had not logged out: %u processes of the user's "
                                           "were left, ended below",
                                           d->left),
                               (double) d->waited_usec / 1e6, d->left);
                if (inhibits_logout(d))
                        report_verbose(o, _("An inhibitor of logout named above may have held it off: such a desktop "
                                            "asks its user whether to log out anyway"));
        }
}

/* Who let the caller, when the host's authorizer was asked first. */
static void report_host_authorized(const struct options *o, const struct session *s, const struct host_report *rep) {
        if (rep->authorizer && rep->error == 0)
                report_verbose(o, _("%s authorizes %s for this caller"), rep->authorizer,
                               s->host && s->host->authorize_action ? s->host->authorize_action : "-");
}

/* What the host said when asked first to end the session. */
static void report_host_asked(const struct options *o, const struct session *s, const struct host_report *rep) {
        if (!rep->asked || rep->asked_after)
                return;
        if (rep->error == 0)
                report_verbose(o, _("Asked %s to terminate session %s"), rep->asked, or_dash(s->id));
        else if (rep->error != -EACCES)
                report_verbose(o, _("Asked %s to terminate session %s: %s (%s); ending its processes anyway"), rep->asked,
                        or_dash(s->id), or_dash(rep->error_message),
                        or_dash(rep->error_name));
}

/* A graphical session's host, asked once its processes had their rounds. */
static void report_host_asked_after(const struct options *o, const struct session *s, const struct host_report *rep) {
        if (!rep->asked || !rep->asked_after)
                return;
        const char *id = or_dash(s->id);
        if (rep->already_forgotten)
                report_verbose(o, _("Asked %s to terminate session %s once its processes were gone: it had already "
                                    "closed it"),
                               rep->asked, id);
        else if (rep->error == 0)
                report_verbose(o, _("Asked %s to terminate session %s once its processes were gone"), rep->asked, id);
        else
                fprintf(stderr, _("%s: asked %s to terminate session %s once its processes were gone: %s (%s)\n"),
                        program_name, rep->asked, id, or_dash(rep->error_message),
                        or_dash(rep->error_name));
}

static void report_host_after(const struct options *o, const struct session *s, const struct host_report *rep) {
        if (rep->forgotten == 1)
                report_verbose(o, _("%s no longer knows session %s"), rep->asked, or_dash(s->id));
        else if (rep->forgotten == 0)
                fprintf(stderr, _("%s: %s still lists session %s after its processes ended\n"), program_name, rep->asked,
                        or_dash(s->id));
        if (rep->unit && rep->unit_state) {
                if (streq(rep->unit_state, "failed"))
                        fprintf(stderr, _("%s: unit %s ended in state %s\n"), program_name, or_dash(rep->unit),
                                or_dash(rep->unit_state));
                else
                        report_verbose(o, _("Unit %s is %s"), or_dash(rep->unit),
                                or_dash(rep->unit_state));
        }
}

/* Why nothing was done, when nothing was: the host's no, or no pidfds.
 * An exit status, or -1 when something was done. */
static int report_denial(const struct session *s, const struct host_report *host, int r) {
        const char *id = or_dash(s->id);
        const char *action = s->host && s->host->authorize_action ? s->host->authorize_action : "-";

        if (r == -EACCES && host->error == -EACCES) {
                fprintf(stderr,
                        _("%s: Access is denied: %s refused to end session %s (%s) of %s: %s\n"
                          "%s: ending another user's session needs root, or the polkit action %s\n"),
                        program_name, host->authorizer ? host->authorizer : host->asked, id,
                        or_dash(s->name), or_dash(s->user),
                        or_dash(host->error_message ? host->error_message : host->error_name),
                        program_name, action);
                return EXIT_ACCESS_DENIED;
        }
        if (r == -EACCES && host->asked) {
                const char *why = host->error_message ? host->error_message
                                  : host->error   ? strerror(-host->error)
                                                      : _("no answer");
                fprintf(stderr,
                        _("%s: Access is denied: %s did not authorize ending session %s (%s) of %s (%s); nothing "
                          "was signalled\n"
                          "%s: ending another user's session needs root, or the polkit action %s\n"),
                        program_name, host->authorizer ? host->authorizer : host->asked, id, or_dash(s->name), or_dash(s->user),
                        why, program_name, action);
                return EXIT_ACCESS_DENIED;
        }
        if (r == -ENOSYS) {
                fprintf(stderr,
                        _("%s: this kernel has no pidfds (Linux 5.3 or newer has them): logoff cannot make sure a "
                          "signal reaches the process it means, so it signalled nothing\n"),
                        program_name);
                return EXIT_FAILURE_GENERIC;
        }
        return -1;
}

/* What was done, round by round (/v), and who could not be signalled. */
static void report_phases(const struct options *o, const struct session *s, const struct end_report *end, int r) {
        const struct terminate_report *rep = &end->procs;
        const char *id = or_dash(s->id);
        report_host_authorized(o, s, &end->host);
        report_desktop(o, end);
        report_server(o, s, &end->server);
        report_host_asked(o, s, &end->host);
        if (rep->thawed)
                report_verbose(o, _("Thawed %s, which was frozen, so that its processes get their grace period"),
                               rep->thawed);

        if (rep->graphical)
                report_verbose(o, ngettext("Sent SIGTERM and SIGCONT to %u process; waited %.2f s",
                                           "Sent SIGTERM and SIGCONT to %u processes; waited %.2f s", rep->hangup),
                               rep->hangup, (double) rep->graceful_usec / 1e6);
        else
                report_verbose(o, ngettext("Sent SIGHUP, SIGTERM and SIGCONT to %u process; waited %.2f s",
                                           "Sent SIGHUP, SIGTERM and SIGCONT to %u processes; waited %.2f s",
                                           rep->hangup),
                               rep->hangup, (double) rep->graceful_usec / 1e6);
        if (rep->hangup_late)
                report_verbose(o, ngettext("Sent SIGHUP to %u process that outlived SIGTERM",
                                           "Sent SIGHUP to %u processes that outlived SIGTERM", rep->hangup_late),
                               rep->hangup_late);
        if (rep->helpers)
                report_verbose(o, ngettext("Left %u root helper of the session to exit by itself once the user's "
                                           "processes were gone: %u did",
                                           "Left %u root helpers of the session to exit by themselves once the "
                                           "user's processes were gone: %u did",
                                           rep->helpers),
                               rep->helpers, rep->helpers_exited);
        if (rep->cleanup)
                report_verbose(o, ngettext("Let %u process started after logoff signalled its parent finish its "
                                           "work: %u did",
                                           "Let %u processes started after logoff signalled their parents finish "
                                           "their work: %u did",
                                           rep->cleanup),
                               rep->cleanup, rep->cleanup_finished);
        if (rep->gone_unsignalled)
                report_verbose(o, ngettext("%u process ended before logoff signalled it",
                                    "%u processes ended before logoff signalled them", rep->gone_unsignalled),
                        rep->gone_unsignalled);
        if (rep->forced_first)
                report_verbose(o, ngettext("%u process first met after the grace period (forked since) was ended "
                                           "with the rest",
                                           "%u processes first met after the grace period (forked since) were ended "
                                           "with the rest",
                                           rep->forced_first),
                               rep->forced_first);
        if (rep->cgroup_killed)
                report_verbose(o, ngettext("Wrote cgroup.kill of %s (%s): %u process", "Wrote cgroup.kill of %s (%s): %u processes",
                                    rep->cgroup_members),
                        rep->cgroup,
                        rep->frozen ? _("frozen first") : _("not frozen"), rep->cgroup_members);
        if (rep->stopped && rep->stop_rounds == 1)
                report_verbose(o, ngettext("Sent SIGSTOP to %u process in one round",
                                           "Sent SIGSTOP to %u processes in one round", rep->stopped),
                               rep->stopped);
        else if (rep->stopped)
                report_verbose(o, ngettext("Sent SIGSTOP to %u process in %u rounds",
                                           "Sent SIGSTOP to %u processes in %u rounds", rep->stopped),
                               rep->stopped, rep->stop_rounds);
        if (rep->killed)
                report_verbose(o, ngettext("Sent SIGKILL to %u process", "Sent SIGKILL to %u processes", rep->killed),
                        rep->killed);
        if (rep->forced_usec)
                report_verbose(o, _("Ended what the grace period left in %.3f s"), (double) rep->forced_usec / 1e6);
        if (rep->n_exiting)
                report_verbose(o, ngettext("%zu process was killed and still exiting when logoff stopped waiting "
                                           "(after %.2f s): the kernel is ending it",
                                           "%zu processes were killed and still exiting when logoff stopped waiting "
                                           "(after %.2f s): the kernel is ending them",
                                           rep->n_exiting),
                               rep->n_exiting, (double) rep->kill_wait_usec / 1e6);
        unsigned denied = (unsigned) rep->n_denied_procs;
        if (denied && r == -EBUSY) {
                fprintf(stderr, ngettext("%s: %u process of session %s could not be signalled (not yours):\n",
                                 "%s: %u processes of session %s could not be signalled (not yours):\n", denied),
                        program_name, denied, id);
                print_procs(stderr, _("not signalled"), rep->denied_procs, rep->n_denied_procs);
        } else if (denied)
                /* sshd's root monitor in a user's own session, typically:
                 * it ends by itself once the user's processes are gone. */
                report_verbose(o, ngettext("%u process could not be signalled (not yours) but ended with the session",
                                 "%u processes could not be signalled (not yours) but ended with the session",
                                 denied),
                        denied);
}

/* How it ended: survivors, an interruption, an error, or all gone. */
static int report_outcome(const struct options *o, const struct session *s, const struct end_report *end, int r) {
        const struct terminate_report *rep = &end->procs;
        const struct host_report *host = &end->host;
        const char *id = or_dash(s->id);
        int code = EXIT_OK;
        if (r == -EBUSY) {
                fprintf(stderr, ngettext("%s: session %s: %zu process survived:\n", "%s: session %s: %zu processes survived:\n",
                                 rep->n_left),
                        program_name, id, rep->n_left);
                print_procs(stderr, _("survivor"), rep->left, rep->n_left);
                for (size_t i = 0; i < rep->n_left; i++)
                        if (rep->left[i].state == 'D') {
                                fprintf(stderr, _("%s: processes in state D are in uninterruptible sleep "
                                                  "(usually I/O); they end when it completes\n"),
                                        program_name);
                                break;
                        }
                code = EXIT_SURVIVORS;
        } else if (r == -ECANCELED) {
                int sig = interrupt_pending();
                const char *name = sig ? sigabbrev_np(sig) : NULL;
                fprintf(stderr,
                        ngettext("%s: interrupted by SIG%s during the grace period: session %s was not logged off; "
                                 "%zu process is still running, none is stopped\n",
                                 "%s: interrupted by SIG%s during the grace period: session %s was not logged off; "
                                 "%zu processes are still running, none is stopped\n",
                                 rep->n_left),
                        program_name, name ? name : "?", id, rep->n_left);
                fprintf(stderr, _("%s: run '%s %s' again to end them and record the logout\n"), program_name,
                        program_name, id);
                if (end->desktop_result == 0)
                        fprintf(stderr, _("%s: its desktop was asked to log out before and may go on\n"), program_name);
                if (host->asked && !host->asked_after && host->error == 0) {
                        fprintf(stderr, _("%s: %s was asked to terminate the session before and may go on ending it\n"),
                                program_name, host->asked);
                        if (s->host && s->host->interrupted_note && s->audit_session != AUDIT_SESSION_UNSET)
                                fprintf(stderr, _(s->host->interrupted_note), program_name, host->asked, program_name,
                                        (unsigned) s->audit_session);
                }
                code = EXIT_BY_SIGNAL;
        } else if (r < 0) {
                fprintf(stderr, _("%s: cannot end session %s: %s\n"), program_name, id, strerror(-r));
                code = EXIT_FAILURE_GENERIC;
        } else {
                report_verbose(o, ngettext("The %u process of the session ended", "All %u processes of the session ended",
                                    rep->seen),
                        rep->seen);
                const struct server_report *server = &end->server;
                if (server->n_unclaimed && o->verbose) {
                        report_verbose(o, ngettext("Left %zu process of %s that is in no session and cannot be "
                                                   "told to be this one's (%s has other sessions, or it is "
                                                   "root's, another PID namespace's or a service's child)",
                                                   "Left %zu processes of %s that are in no session and cannot be "
                                                   "told to be this one's (%s has other sessions, or they are "
                                                   "root's, another PID namespace's or a service's children)",
                                                   server->n_unclaimed),
                                       server->n_unclaimed, or_dash(s->user), or_dash(s->user));
                        print_procs(stdout, _("left"), server->unclaimed, server->n_unclaimed);
                }
                report_host_asked_after(o, s, host);
                report_host_after(o, s, host);
        }
        return code;
}

int report_end(const struct options *o, const struct session *s, const struct end_report *end, int r) {
        int code = report_denial(s, &end->host, r);
        if (code >= 0)
                return code;
        report_phases(o, s, end, r);
        return report_outcome(o, s, end, r);
}

int report_denied(const struct session *s, const struct host_report *host, int r) {
        int code = report_denial(s, host, r);
        if (code >= 0)
                return code;
        fprintf(stderr, _("%s: cannot end session %s: %s\n"), program_name, or_dash(s->id), strerror(-r));
        return EXIT_FAILURE_GENERIC;
}

/* What the admin can do about a login record that could not be written. */
static const char *record_error_hint(int r, bool wtmp) {
        switch (r) {
        case -EROFS:
                if (wtmp)
                        return _("its file system is mounted read-only: last(1) will not show this logout; "
                                 "remount it read-write for the next ones");
                return _("its file system is mounted read-only: remount it read-write, then close the entry with "
                         "utmpdump or by logging the line in and out");
        case -EACCES:
        case -EPERM:
                return _("only root may write it: run logoff as root");
        case -ENOSPC:
        case -EDQUOT:
                return _("its file system is full");
        case -ETIMEDOUT:
                return _("another logoff kept the records busy for 10 s; run logoff again");
        default:
                return NULL;
        }
}

static void report_lock(const struct options *o, const char *path, const struct lock_wait *w) {
        if (w->locked)
                return;
        if (w->holder > 0)
                report_verbose(o, _("%s was locked by process %d for %.1f s: wrote without its lock"), path,
                               (int) w->holder, (double) w->waited_usec / 1e6);
        else
                report_verbose(o, _("%s stayed locked for %.1f s: wrote without its lock"), path,
                               (double) w->waited_usec / 1e6);
}

int report_records(const struct options *o, const struct session *s, const struct record_report *rec) {
        _cleanup_free_ char *b = NULL;
        const char *id = or_dash(s->id);
        int code = EXIT_OK;
        if (!s->utmp_line)
                report_verbose(o, _("No utmp entry to record"));
        else if (rec->utmp < 0) {
                const char *path = rec->utmp_write.path ? rec->utmp_write.path : _PATH_UTMPX;
                bool wtmp = streq(path, _PATH_WTMPX);
                if (wtmp)
                        report_verbose(o, _("Marked the utmp entry of %s dead"), raw_text_or_dash(s->utmp_line, &b));
                free(TAKE_PTR(b));
                fprintf(stderr, _("%s: session %s ended, but its logout could not be recorded in %s: %s\n"),
                        program_name, id, path, strerror(-rec->utmp));
                const char *hint = record_error_hint(rec->utmp, wtmp);
                if (hint)
                        fprintf(stderr, "%s: %s\n", program_name, hint);
                code = EXIT_FAILURE_GENERIC;
        } else if (rec->utmp > 0) {
                report_lock(o, _PATH_UTMPX, &rec->utmp_write.utmp_lock);
                report_lock(o, _PATH_WTMPX, &rec->utmp_write.wtmp_lock);
                if (rec->utmp_write.no_wtmp)
                        report_verbose(o, _("Marked the utmp entry of %s dead; this host keeps no %s"),
                                       raw_text_or_dash(s->utmp_line, &b), _PATH_WTMPX);
                else
                        report_verbose(o, _("Marked the utmp entry of %s dead and appended a logout record to %s"),
                                       raw_text_or_dash(s->utmp_line, &b), _PATH_WTMPX);
        }
        else
                report_verbose(o, _("The utmp entry of %s was already closed by its login process"),
                        raw_text_or_dash(s->utmp_line, &b));
        if (rec->wtmpdb < 0) {
                fprintf(stderr, _("%s: session %s ended, but its logout could not be recorded in wtmpdb: %s\n"),
                        program_name, id, strerror(-rec->wtmpdb));
                code = EXIT_FAILURE_GENERIC;
        } else if (rec->wtmpdb > 0)
                report_verbose(o, _("Closed the login record of session %s in wtmpdb"), id);
        return code;
}

void report_logged_off(const struct options *o, const struct session *s, const struct end_report *rep) {
        /* The desktop's own logout is part of it; a warning's grace is not. */
        uint64_t usec = rep->procs.elapsed_usec + (rep->desktop_result == 0 ? rep->desktop.waited_usec : 0);
        report_verbose(o, _("Session %s logged off in %.2f s"), or_dash(s->id), (double) usec / 1e6);
}

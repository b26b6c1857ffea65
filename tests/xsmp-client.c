/* SPDX-License-Identifier: MIT */
/*
 * xsmp-client LOG: a real X session management client (libSM), the way an
 * editor with unsaved text is one, for the tests on the Xfce host.  It
 * registers with the session manager that SESSION_MANAGER names and writes
 * to LOG, one line each, what happens to it:
 *
 *   registered ID
 *   save-yourself type=T shutdown=S interact=I fast=F   (answered: saved)
 *   die                                                (then it exits 0)
 *   signal N                                           (then it exits 1)
 *
 * so a test can tell whether it was asked to save before anything was
 * signalled.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <X11/ICE/ICElib.h>
#include <X11/SM/SMlib.h>

static int log_fd = -1;

static void note(const char *line) {
        size_t len = strlen(line);
        if (write(log_fd, line, len) != (ssize_t) len || write(log_fd, "\n", 1) != 1)
                _exit(3);
}

static void on_signal(int sig) {
        char line[32];
        snprintf(line, sizeof(line), "signal %d", sig);
        note(line);
        _exit(1);
}

static void save_yourself(SmcConn conn, SmPointer data, int type, Bool shutdown, int interact, Bool fast) {
        (void) data;
        char line[128];
        snprintf(line, sizeof(line), "save-yourself type=%d shutdown=%d interact=%d fast=%d", type, shutdown,
                 interact, fast);
        note(line);
        SmcSaveYourselfDone(conn, True);
}

static void die(SmcConn conn, SmPointer data) {
        (void) data;
        note("die");
        SmcCloseConnection(conn, 0, NULL);
        exit(0);
}

static void save_complete(SmcConn conn, SmPointer data) {
        (void) conn;
        (void) data;
        note("save-complete");
}

static void shutdown_cancelled(SmcConn conn, SmPointer data) {
        (void) conn;
        (void) data;
        note("shutdown-cancelled");
}

/* What the protocol asks every client to say of itself; never restarted. */
static void set_properties(SmcConn conn, const char *self) {
        char restart_never = SmRestartNever;
        SmPropValue program = { (int) strlen(self), (SmPointer) self };
        SmPropValue user = { 5, (SmPointer) "tests" };
        SmPropValue hint = { 1, &restart_never };
        SmProp p_program = { (char *) SmProgram, (char *) SmARRAY8, 1, &program };
        SmProp p_restart = { (char *) SmRestartCommand, (char *) SmLISTofARRAY8, 1, &program };
        SmProp p_clone = { (char *) SmCloneCommand, (char *) SmLISTofARRAY8, 1, &program };
        SmProp p_user = { (char *) SmUserID, (char *) SmARRAY8, 1, &user };
        SmProp p_hint = { (char *) SmRestartStyleHint, (char *) SmCARD8, 1, &hint };
        SmProp *props[] = { &p_program, &p_restart, &p_clone, &p_user, &p_hint };
        SmcSetProperties(conn, 5, props);
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: xsmp-client LOG\n");
                return 2;
        }
        log_fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0) {
                perror(argv[1]);
                return 2;
        }
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
        signal(SIGINT, on_signal);

        SmcCallbacks cb = { 0 };
        cb.save_yourself.callback = save_yourself;
        cb.die.callback = die;
        cb.save_complete.callback = save_complete;
        cb.shutdown_cancelled.callback = shutdown_cancelled;
        unsigned long mask = SmcSaveYourselfProcMask | SmcDieProcMask | SmcSaveCompleteProcMask |
                             SmcShutdownCancelledProcMask;
        char err[256] = "", *client_id = NULL;
        SmcConn conn = SmcOpenConnection(NULL, NULL, SmProtoMajor, SmProtoMinor, mask, &cb, NULL, &client_id,
                                         sizeof(err), err);
        if (!conn) {
                fprintf(stderr, "xsmp-client: cannot connect to the session manager: %s\n", err);
                return 1;
        }
        set_properties(conn, argv[0]);
        char line[300];
        snprintf(line, sizeof(line), "registered %s", client_id ? client_id : "?");
        note(line);
        free(client_id);

        IceConn ice = SmcGetIceConnection(conn);
        for (;;) {
                struct pollfd p = { .fd = IceConnectionNumber(ice), .events = POLLIN };
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        return 1;
                if (p.revents && IceProcessMessages(ice, NULL, NULL) == IceProcessMessagesIOError) {
                        note("connection-lost");
                        return 1;
                }
        }
}

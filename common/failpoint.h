/* Test-only failures of chaosdrill's own set-up steps, so that a test can make each step
 * fail in turn and prove that every such failure ends cleanly: exit 3, a sentence, complete
 * reports, nothing left behind (tests/integration/drills/setup_walk.sh). Off unless the
 * environment asks; not a user feature and not documented for users.
 *
 *   CHAOSDRILL_FAILPOINT=NAME[:K]  the K-th time (default 1) the point NAME is reached it
 *                                  fails with its errno, as if the kernel had refused
 *   CHAOSDRILL_FAILPOINT_LOG=FILE  every point reached appends "NAME\n" to FILE (O_APPEND:
 *                                  the harness, lab holders and node children alike), and
 *                                  failpoint_mark() "# WHAT\n"
 *   CHAOSDRILL_FAILPOINT_PAUSE=NAME:MS  failpoint_pause(NAME) sleeps MS milliseconds each
 *                                  time: widens a window a test kills the harness in (the
 *                                  atomic report writes, tests/integration/drills/
 *                                  report_kill.sh); neither counted nor logged
 *
 * Usage:
 *   failpoint_init();                         // once, in main, before any fork
 *   if ((k = failpoint("lab.cgroup", -EACCES)) < 0) return k;
 *
 * The count of reached points lives in a shared page mapped by failpoint_init, so that
 * processes forked later (lab holders, node children before exec) count with the harness.
 * failpoint() is async-signal-safe: it may run in a child between fork and exec. */
#ifndef CHAOSDRILL_COMMON_FAILPOINT_H
#define CHAOSDRILL_COMMON_FAILPOINT_H

/* Reads the environment once; without it every failpoint() returns 0. -errno if the
 * environment names a point badly or the log cannot be opened. */
int failpoint_init(void);
/* 0, or err (a -errno) when this reach of name is the one to fail. */
int failpoint(const char *name, int err);
/* Sleeps while CHAOSDRILL_FAILPOINT_PAUSE names this point; else returns at once. */
void failpoint_pause(const char *name);
/* Appends "# what" to the log: where the drill is (the set-up walk tells the points of
 * set-up, before "# steady", from those of the drill itself). */
void failpoint_mark(const char *what);
/* Drops the shared state (tests). */
void failpoint_reset(void);

#endif

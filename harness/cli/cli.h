/* harness/cli/: the chaosdrill command. main.c dispatches to one file per subcommand
 * (run, validate, list, gc, trend, and node-disk, which the runner starts inside nodes);
 * each parses its options, loads drills through harness/drill/ and, for `run`, hands them
 * to harness/run/ (`trend` reads harness/history/). Only this folder and the runner print;
 * the exit codes are decided here.
 *
 * The chaosdrill command line: one function per subcommand. */
#ifndef CHAOSDRILL_HARNESS_CLI_H
#define CHAOSDRILL_HARNESS_CLI_H

#include "harness/run/run.h" /* the exit codes */

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_junit_merge(int argc, char **argv);
int cmd_trend(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_shrink(int argc, char **argv);
int cmd_node_disk(int argc, char **argv); /* internal: run by the harness in a node */

/* Prints "file:line:col: message" for a located error to stderr. */
struct cd_error;
void cli_print_error(const struct cd_error *err);

#endif

/* Client adapters as processes: a target with `driver: lines` (targets/lines/lines.h) is
 * spoken to through a program of its own, one per workload client, over that program's
 * stdin and stdout (docs/adapters.md). This module only starts and ends those processes;
 * the protocol and what is in flight are the engine's (conn.h, workload.h).
 *
 * The process is born in the caller's network namespace (the harness has joined the
 * lab's), in a process group of its own (killing it kills what it started), with the
 * signals the harness blocks or ignores back to their defaults, SIGKILL if the harness
 * dies, stderr appended to a file, and CHAOSDRILL_NODE=ADDR:PORT in its environment.
 *
 * Usage:
 *   struct adapter_spec s = { .argv = argv, .node = "10.77.0.2:7700",
 *                             .stderr_path = "RUN_DIR/adapters/c0.stderr" };
 *   struct adapter *a;
 *   adapter_start(&s, &a);                         // -errno: could not even exec
 *   conn_adopt(&lines_driver, adapter_take_rfd(a), adapter_take_wfd(a), ...);
 *   conn_submit_ping(...), then requests; adapter_pid(a) for what the timeline says
 *   adapter_stop(a, how, sizeof(how));            // SIGKILL to its group, reaped; how it
 *   adapter_free(a);                               // ended, in words ("exited with 3")
 *   adapter_stderr_tail(path, buf, sizeof(buf));   // for an error message
 */
#ifndef CHAOSDRILL_HARNESS_ADAPTER_H
#define CHAOSDRILL_HARNESS_ADAPTER_H

#include <stddef.h>
#include <sys/types.h>

struct adapter;

struct adapter_spec {
	char *const *argv;	 /* NULL-terminated, argv[0] looked up in PATH; borrowed */
	const char *node;	 /* ADDR:PORT: CHAOSDRILL_NODE */
	const char *stderr_path; /* appended to; NULL: /dev/null */
};

/* Starts the adapter; ignores SIGPIPE in the caller from then on (a write to an adapter
 * that died must fail with EPIPE, not end the harness). -ENOENT, -EACCES...: argv[0] could not be executed (nothing left
 * running). *out: caller frees with adapter_free(). */
int adapter_start(const struct adapter_spec *s, struct adapter **out);
pid_t adapter_pid(const struct adapter *a);
/* Its stdout (replies) and stdin (requests), close-on-exec, handed to the caller once
 * (then -1). */
int adapter_take_rfd(struct adapter *a);
int adapter_take_wfd(struct adapter *a);
/* Ends it if it still runs (SIGKILL to its process group) and reaps it. how (if not NULL)
 * gets how it ended: "exited with status 3", "killed by SIGSEGV", or "killed by the
 * harness" when it was still running. If it has closed its stdout it is given up to
 * grace_ms to exit by itself first, so a crash is told from the harness's kill. */
void adapter_stop(struct adapter *a, int grace_ms, char *how, size_t how_len);
/* adapter_stop without grace if needed, closes what was not taken, frees. Accepts NULL. */
void adapter_free(struct adapter *a);
/* The last bytes (up to len - 1) of an adapter's stderr file, from the first whole line
 * in them, without the trailing newline; "" if there is nothing. Returns buf. */
char *adapter_stderr_tail(const char *path, char *buf, size_t len);

#endif

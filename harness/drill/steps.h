/* Recovery step kinds: their scenario syntax, parsed into plain specs. Running them is
 * the recovery runner's job; this file only knows their shape.
 *
 *   - restart: n1                            start a new incarnation of a node
 *   - restart: {node: n1, params: {force-new-cluster: "true"}}   one incarnation with
 *                                            other params (the next plain restart: the drill's)
 *   - kill: n1                               SIGKILL now; ends when the node is down
 *   - signal: {node: n1, signal: HUP}        a signal to the node's init (its server)
 *   - shutdown: {node: n1, timeout: 10s}     SIGTERM, SIGKILL after the timeout; says how
 *                                            it ended (not the `stop` fault: that freezes)
 *   - wait: {probe: ready, node: n1, timeout: 10s}
 *   - wait: {tcp: 7700, node: n1, timeout: 5s}    a TCP connect to the node
 *   - wait: {command: [argv], node: n1, timeout: 5s}   until the command exits 0
 *   - exec: {node: n1, argv: [...], timeout: 30s, exit: 0}   once; no node = in the lab
 *   - sleep: 500ms
 *   - workload: {node: n2}                   point the workload at another node
 */
#ifndef CHAOSDRILL_HARNESS_STEPS_H
#define CHAOSDRILL_HARNESS_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/error.h"

enum step_kind {
	STEP_RESTART,
	STEP_WAIT,
	STEP_EXEC,
	STEP_SLEEP,
	STEP_WORKLOAD,
	STEP_KILL,
	STEP_SIGNAL,
	STEP_SHUTDOWN,
};
enum step_wait { STEP_WAIT_PROBE, STEP_WAIT_TCP, STEP_WAIT_COMMAND };

struct step_spec {
	enum step_kind kind;
	const char *node; /* NULL: exec in the lab; wait: the workload's node */
	int64_t timeout_ns;
	int64_t duration_ns; /* sleep */
	enum step_wait wait;
	const char *probe; /* wait probe: "ready" */
	uint16_t port;	   /* wait tcp */
	const char **argv; /* exec, wait command: NULL-terminated, owned array of
				  * borrowed strings */
	int exit_code;	   /* exec: expected exit status */
	int signal;	   /* signal: the signal's number */
	/* restart: the params of that one incarnation, a map of scalars (borrowed; NULL:
	 * the drill's). Checked against the target's params by drill_load. */
	const struct cfg_node *params;
};

/* A signal by name (HUP, SIGHUP, hup) or number; -EINVAL if none. */
int step_signal_parse(const char *name);
/* "HUP" for SIGHUP; "?" for one without a name here. */
const char *step_signal_name(int sig);

struct fault_parse_ctx; /* faults/fault.h: the drill's node names */

struct step_kind_def {
	const char *name;
	const char *summary;
	int (*parse)(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		     struct step_spec *out, struct cd_error *err);
};

const struct step_kind_def *step_kind_lookup(const char *name);
const struct step_kind_def *step_kind_at(size_t i);
void step_kind_names(const char **names, size_t max);
void step_spec_release(struct step_spec *s);

#endif

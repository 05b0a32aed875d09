/* The seccomp supervisor: answers the notifications of a node's filter (filter.h). Each
 * trapped call is described (call, path through /proc/PID/fd or the path argument read with
 * process_vm_readv, byte count), decided by the rules (rule.h), and then either let run
 * (CONTINUE), failed with an errno, cut (the supervisor writes the kept bytes itself through
 * pidfd_getfd and answers with that count), delayed, or ended by SIGKILL to the node's init
 * (torn, crash before/after, then: crash). It never logs, exits or forks; it sleeps never:
 * delays are answered later from sys_supervisor_handle.
 *
 * Usage (harness event loop):
 *   struct sys_supervisor *s;
 *   sys_supervisor_new(listener_fd, node_pidfd, rules, seed, "/var/lib/chaosdrill/data", &s);
 *   poll sys_supervisor_fd(s) for POLLIN, with sys_supervisor_timeout_ms(s) as timeout;
 *   on POLLIN or timeout:  r = sys_supervisor_handle(s, &inj);
 *     r == 1: an injection happened, inj says what (sys_injection_format for reports);
 *             inj.killed: the node was SIGKILLed (the caller reaps it as usual)
 *   POLLHUP on the fd: every process of the node is gone.
 *   sys_supervisor_free(s);
 */
#ifndef CHAOSDRILL_FAULTS_SYS_SUPERVISOR_H
#define CHAOSDRILL_FAULTS_SYS_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "faults/sys/rule.h"

struct sys_supervisor;
struct strbuf;

/* What one injection did: enough for the report to say exactly where a tear happened. */
struct sys_injection {
	enum sys_action action;
	size_t rule; /* index in the rules, and where it was written */
	int rule_line, rule_col;
	uint64_t nth;	     /* the rule's count of matching calls, this one included */
	pid_t pid;	     /* the calling thread (the harness's pid namespace) */
	const char *syscall; /* the kernel's name: "pwrite64" (static) */
	enum sys_call call;
	int fd;		    /* in the caller; -1 for path calls */
	char path[512];	    /* relative to the data dir, or absolute outside it */
	char path2[512];    /* rename: the new name */
	int64_t offset;	    /* file offset written at, -1 unknown */
	uint64_t requested; /* bytes the call asked for */
	uint64_t kept;	    /* SHORT/TORN/CRASH_AFTER writes: bytes that reached the file */
	uint64_t zeroed;    /* TORN with rest: zeros: zero bytes written after them */
	int err;	    /* ERRNO: the errno returned */
	int64_t delay_ns;
	bool killed;   /* the node was SIGKILLed */
	int64_t at_ns; /* CLOCK_MONOTONIC */
};

/* listener_fd: taken (closed by free, also on failure). node_pidfd: borrowed, the node's init
 * (SIGKILL target). rules, data_dir: borrowed, must outlive s. data_dir is the node's data dir
 * as the node's processes see it. Time for `from:` rules counts from here. */
int sys_supervisor_new(int listener_fd, int node_pidfd, const struct sys_rules *rules,
		       uint64_t seed, const char *data_dir, struct sys_supervisor **out);
void sys_supervisor_free(struct sys_supervisor *s);
int sys_supervisor_fd(const struct sys_supervisor *s);
/* Milliseconds until a delayed call is due (for poll), -1 if none. */
int sys_supervisor_timeout_ms(const struct sys_supervisor *s);
/* Answers due delayed calls, then at most one pending notification (without blocking).
 * 1: *inj describes an injection; 0: nothing injected; -errno on failure of the supervisor
 * itself (a vanished caller is not a failure). */
int sys_supervisor_handle(struct sys_supervisor *s, struct sys_injection *inj);
/* A supervisor starts armed. Disarmed, it lets every call run and counts none: the filter
 * is installed when the node starts, the rules act only from the fault's time on (and
 * no longer after its heal). Arming again restarts the clock of `from:` rules. */
void sys_supervisor_arm(struct sys_supervisor *s, bool armed);
/* Calls seen and injections made so far. */
void sys_supervisor_stats(const struct sys_supervisor *s, uint64_t *seen, uint64_t *injected);
/* "torn pwrite64 of txn.log (fd 3) at offset 4096: kept 37 of 100 bytes, node killed
 * (rule 1 at line 12, call #5)". */
void sys_injection_format(const struct sys_injection *inj, struct strbuf *sb);

#endif

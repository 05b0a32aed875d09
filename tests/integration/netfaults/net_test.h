/* Shared helpers of the network-fault integration tests: a struct fault_env over the lab
 * API (as harness/run/run_nodes.c makes it), fault args from YAML text, and UDP sockets bound
 * in each node's namespace for one-way probes. */
#ifndef CHAOSDRILL_TESTS_NET_TEST_H
#define CHAOSDRILL_TESTS_NET_TEST_H

#include <stdint.h>

#include "faults/fault.h"
#include "harness/lab/lab.h"

/* The env of a drill over this lab (env.harness = lab); a node's delay attachment runs on a
 * thread of its own, as the runner's event loop would run it. */
struct fault_env t_env(struct lab *lab);
/* Parses yaml as the args of ops over the lab's nodes; fails the test on error. */
void *t_fault_parse(const struct fault_ops *ops, struct lab *lab, const char *yaml);
/* A UDP socket in node's netns bound to its address:port, non-blocking. */
int t_udp_bound(struct lab_node *node, int port);
/* How much wider timing bounds may be: $CHAOSDRILL_TIMING_SLACK (>= 1, default 1), set
 * only when the test runs under a tool that slows every packet's handling (valgrind). */
double t_timing_slack(void);
/* Monotonic microseconds. */
int64_t t_now_us(void);

#endif

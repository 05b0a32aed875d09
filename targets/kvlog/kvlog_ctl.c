/* kvlog-ctl: operator commands for a kvlog node: status (readiness probe), is-primary
 * (the leader probe) and promote.
 *
 *   kvlog-ctl [--timeout DURATION] status ADDR:PORT
 *   kvlog-ctl [--timeout DURATION] is-primary ADDR:PORT     exit 0 on a primary, else 1
 *   kvlog-ctl [--timeout DURATION] promote ADDR:PORT [--replicas A:P,B:Q]
 * Exit status: 0 the node answered (and did it), 1 it did not answer or refused, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "targets/kvlog/kvlog_client.h"

DEFINE_CLEANUP_FUNC(struct kvlog_client, kvlog_client_free)

static int usage(void)
{
	fprintf(stderr, "usage: kvlog-ctl [--timeout DURATION] status ADDR:PORT\n"
			"       kvlog-ctl [--timeout DURATION] is-primary ADDR:PORT\n"
			"       kvlog-ctl [--timeout DURATION] promote ADDR:PORT "
			"[--replicas A:P,...]\n");
	return 2;
}

static int do_status(const char *addr, int timeout_ms, bool primary_only)
{
	_cleanup_(kvlog_client_freep) struct kvlog_client *c = NULL;
	_cleanup_free_ char *text = NULL;
	int r = kvlog_client_open(addr, timeout_ms, &c);

	if (r >= 0)
		r = kvlog_client_status(c, &text);
	if (r < 0) {
		fprintf(stderr, "kvlog-ctl: %s: %s\n", addr, strerror(-r));
		return 1;
	}
	fputs(text, stdout);
	return primary_only && !strstr(text, "role primary\n") ? 1 : 0;
}

static int do_promote(const char *addr, const char *replicas, int timeout_ms)
{
	_cleanup_(kvlog_client_freep) struct kvlog_client *c = NULL;
	int r = kvlog_client_open(addr, timeout_ms, &c);

	if (r >= 0)
		r = kvlog_client_promote(c, replicas);
	if (r < 0) {
		fprintf(stderr, "kvlog-ctl: promote %s: %s%s%s\n", addr, strerror(-r),
			c && *kvlog_client_error(c) ? ": " : "", c ? kvlog_client_error(c) : "");
		return 1;
	}
	printf("%s promoted to primary (replicas \"%s\")\n", addr, replicas);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "timeout", required_argument, NULL, 't' },
					      { "replicas", required_argument, NULL, 'r' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	const char *replicas = "";
	int64_t timeout_ns = 2 * NSEC_PER_SEC;
	int c, timeout_ms;

	while ((c = getopt_long(argc, argv, "t:r:h", opts, NULL)) != -1) {
		if (c == 't' && units_parse_duration(optarg, &timeout_ns) == 0)
			continue;
		if (c == 'r')
			replicas = optarg;
		else
			return usage();
	}
	timeout_ms = (int)(timeout_ns / NSEC_PER_MSEC);
	if (timeout_ms <= 0)
		timeout_ms = 1;
	if (argc - optind == 2 && strcmp(argv[optind], "status") == 0)
		return do_status(argv[optind + 1], timeout_ms, false);
	if (argc - optind == 2 && strcmp(argv[optind], "is-primary") == 0)
		return do_status(argv[optind + 1], timeout_ms, true);
	if (argc - optind == 2 && strcmp(argv[optind], "promote") == 0)
		return do_promote(argv[optind + 1], replicas, timeout_ms);
	return usage();
}

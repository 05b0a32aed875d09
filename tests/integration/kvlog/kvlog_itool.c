/* kvlog-itool: the integration tests' client: free port, load with an acked-keys file,
 * verify a final read against it, single set/get. Prints "name value" figures.
 *
 *   kvlog-itool freeport
 *   kvlog-itool load ADDR:PORT MS CLIENTS PREFIX ACKED_FILE [ADAPTER ARGV...]
 *     (through a client adapter, docs/adapters.md, when one is given; also prints the
 *     acknowledged writes per second)
 *   kvlog-itool verify ADDR:PORT ACKED_FILE
 *   kvlog-itool set ADDR:PORT KEY VALUE      (exit 1 when refused, message on stderr)
 *   kvlog-itool get ADDR:PORT KEY            (exit 1 when absent)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "harness/run/load.h"
#include "targets/kvlog/kvlog_client.h"
#include "targets/kvlog/kvlog_net.h"
#include "targets/kvlog/kvlog_store.h"

DEFINE_CLEANUP_FUNC(struct kvlog_client, kvlog_client_free)
DEFINE_CLEANUP_FUNC(struct kvlog_store, kvlog_store_free)

static int freeport(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return 1;
	printf("%u\n", ntohs(sa.sin_port));
	return 0;
}

static int load(char **argv)
{
	struct load_opts o = { .driver = target_driver_lookup("kvlog"),
			       .window = 8,
			       .value_size = 64,
			       .prefix = argv[4] };
	struct load_result res;
	struct sockaddr_in sa;
	_cleanup_fclose_ FILE *f = fopen(argv[5], "we");
	char host[32];
	int r;

	if (!f || kvlog_net_parse(argv[1], &sa) < 0)
		return 2;
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
	o.host = host;
	o.port = ntohs(sa.sin_port);
	o.duration_ns = strtoll(argv[2], NULL, 10) * NSEC_PER_MSEC;
	o.clients = atoi(argv[3]);
	o.acked = f;
	o.adapter = argv[6] ? &argv[6] : NULL;
	r = load_run(&o, &res);
	printf("acked %" PRIu64 "\nrefused %" PRIu64 "\nunknown %" PRIu64 "\nerror %s\n", res.acked,
	       res.refused, res.unknown, res.error[0] ? res.error : "none");
	printf("per_second %.0f\n",
	       res.elapsed_ns > 0 ? (double)res.acked * 1e9 / (double)res.elapsed_ns : 0.0);
	load_result_free(&res);
	return r < 0 ? 1 : 0;
}

static int keep(void *ud, const char *key, size_t klen, const void *val, size_t vlen)
{
	return kvlog_store_set(ud, key, klen, val, vlen);
}

static int verify(char **argv)
{
	_cleanup_(kvlog_client_freep) struct kvlog_client *c = NULL;
	_cleanup_(kvlog_store_freep) struct kvlog_store *s = kvlog_store_new();
	_cleanup_fclose_ FILE *f = fopen(argv[2], "re");
	uint64_t acked = 0, missing = 0, bad = 0, total = 0;
	char line[256], want[512];

	if (!s || !f || kvlog_client_open(argv[1], 5000, &c) < 0 ||
	    kvlog_client_dump(c, keep, s, &total) < 0) {
		fprintf(stderr, "kvlog-itool: cannot read %s\n", argv[1]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		const void *val;
		size_t vlen, wlen;

		line[strcspn(line, "\n")] = '\0';
		acked++;
		if (kvlog_store_get(s, line, strlen(line), &val, &vlen) < 0) {
			missing++;
			continue;
		}
		wlen = load_value(line, 64, want, sizeof(want));
		if (vlen != wlen || memcmp(val, want, wlen) != 0)
			bad++;
	}
	printf("keys %" PRIu64 "\nacked %" PRIu64 "\nmissing %" PRIu64 "\ncorrupt %" PRIu64 "\n",
	       total, acked, missing, bad);
	return 0;
}

static int set_get(char **argv, bool set)
{
	_cleanup_(kvlog_client_freep) struct kvlog_client *c = NULL;
	_cleanup_free_ void *val = NULL;
	size_t vlen;
	int r = kvlog_client_open(argv[1], 2000, &c);

	if (r >= 0 && set)
		r = kvlog_client_set(c, argv[2], strlen(argv[2]), argv[3], strlen(argv[3]), NULL);
	else if (r >= 0)
		r = kvlog_client_get(c, argv[2], strlen(argv[2]), &val, &vlen);
	if (r < 0) {
		fprintf(stderr, "kvlog-itool: %s: %s %s\n", argv[1], strerror(-r),
			c ? kvlog_client_error(c) : "");
		return 1;
	}
	if (!set)
		printf("%.*s\n", (int)vlen, (const char *)val);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "freeport") == 0)
		return freeport();
	if (strcmp(cmd, "load") == 0 && argc >= 7)
		return load(argv + 1);
	if (strcmp(cmd, "verify") == 0 && argc == 4)
		return verify(argv + 1);
	if (strcmp(cmd, "set") == 0 && argc == 5)
		return set_get(argv + 1, true);
	if (strcmp(cmd, "get") == 0 && argc == 4)
		return set_get(argv + 1, false);
	fprintf(stderr, "usage: see the top of kvlog_itool.c\n");
	return 2;
}

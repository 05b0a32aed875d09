/* Shared by the benches that load a kvlog-server (see bench_kvlog.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/common/bench_kvlog.h"
#include "common/cleanup.h"
#include "targets/kvlog/kvlog_client.h"

uint16_t bench_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return 0;
	return ntohs(sa.sin_port);
}

pid_t bench_kvlog_start(const char *server, const char *data, uint16_t port, const char *sync)
{
	char listen[32];
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(null, STDERR_FILENO);
		execl(server, "kvlog-server", "--data", data, "--listen", listen, "--sync", sync,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 200; i++) {
		struct kvlog_client *c = NULL;

		if (kvlog_client_open(listen, 100, &c) == 0) {
			kvlog_client_free(c);
			return pid;
		}
		usleep(20000);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

int bench_kvlog_stop(pid_t pid, const char *data)
{
	char cmd[600];

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data);
	return system(cmd) == 0 ? 0 : -EIO;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int bench_load_figure(struct load_result *res, struct bench_figure *fig)
{
	if (!res->nlat || res->elapsed_ns <= 0)
		return -ENODATA;
	qsort(res->lat_ns, res->nlat, sizeof(*res->lat_ns), cmp_u64);
	fig->rate = (double)res->acked / ((double)res->elapsed_ns / 1e9);
	fig->p50_us = (double)res->lat_ns[res->nlat / 2] / 1e3;
	fig->p99_us = (double)res->lat_ns[res->nlat * 99 / 100] / 1e3;
	return 0;
}

/* The loop bench_sysfaults measures, run as its own program so that a preload shim, a seccomp
 * filter or strace can be put around it: `sysfaults_worker pwrite|fsync FILE N` makes N
 * 4 KiB pwrites (cycling over the first MiB of FILE), or N write + fdatasync pairs appended
 * to FILE, after a short warm-up, and prints the nanoseconds per op (a pwrite, or a
 * write + fdatasync pair) on stdout. Plain libc calls, no sanitizer: the shim wraps them. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int op(int fd, int sync, const char *buf, long i)
{
	if (!sync)
		return pwrite(fd, buf, BLOCK, (off_t)(i % 256) * BLOCK) == BLOCK ? 0 : -1;
	if (write(fd, buf, BLOCK) != BLOCK)
		return -1;
	return fdatasync(fd);
}

int main(int argc, char **argv)
{
	static char buf[BLOCK];
	long n, warm;
	long long t0;
	int fd, sync;

	if (argc != 4 || (strcmp(argv[1], "pwrite") && strcmp(argv[1], "fsync")))
		return 2;
	sync = !strcmp(argv[1], "fsync");
	n = atol(argv[3]);
	warm = n / 10 + 1;
	memset(buf, 'x', sizeof(buf));
	fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || n <= 0)
		return 3;
	for (long i = 0; i < warm; i++)
		if (op(fd, sync, buf, i) < 0)
			return 4;
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (op(fd, sync, buf, i) < 0)
			return 4;
	printf("%.1f\n", (double)(now_ns() - t0) / (double)n);
	close(fd);
	return 0;
}

/* A small storage program to inject syscall faults into: writes N records of SIZE bytes
 * to FILE (write, -p pwrite or -v writev of two halves), fsync after each, and with -r writes
 * FILE.tmp and renames it to FILE at the end; -f goes on when fsync fails. -u only calls
 * io_uring_setup; -e exits 40 if $CHAOSDRILL_SHIM_CTL is set. Exit codes say
 * what failed: 20 a write failed, 21 a write was short, 22 fsync failed, 23 rename failed,
 * 24 open failed, 30 io_uring_setup gave ENOSYS, 31 it gave another error. Record i is
 * SIZE bytes of 'a' + i % 26. Built dynamically and, where libc.a exists, statically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int put(int fd, char mode, const char *buf, size_t size, off_t off)
{
	struct iovec iov[2] = { { (void *)buf, size / 2 },
				{ (void *)(buf + size / 2), size - size / 2 } };
	ssize_t n;

	if (mode == 'p')
		n = pwrite(fd, buf, size, off);
	else if (mode == 'v')
		n = writev(fd, iov, 2);
	else
		n = write(fd, buf, size);
	if (n < 0) {
		printf("write failed: %s\n", strerror(errno));
		return 20;
	}
	if ((size_t)n != size) {
		printf("short write: %zd of %zu\n", n, size);
		return 21;
	}
	return 0;
}

static int uring(void)
{
	char params[120] = { 0 };
	long r = syscall(__NR_io_uring_setup, 1, params);

	if (r >= 0) {
		close((int)r);
		return 0;
	}
	return errno == ENOSYS ? 30 : 31;
}

int main(int argc, char **argv)
{
	char mode = 'w', tmp[4096], buf[65536];
	int opt, fd, r, rename_at_end = 0, fsync_may_fail = 0;
	long n, size;

	while ((opt = getopt(argc, argv, "pvwruef")) != -1) {
		if (opt == 'u')
			return uring();
		if (opt == 'e') /* the preload shim must have removed its variable */
			return getenv("CHAOSDRILL_SHIM_CTL") ? 40 : 0;
		if (opt == 'r')
			rename_at_end = 1;
		else if (opt == 'f')
			fsync_may_fail = 1;
		else
			mode = (char)opt;
	}
	if (argc - optind != 3)
		return 2;
	n = atol(argv[optind + 1]);
	size = atol(argv[optind + 2]);
	if (size <= 0 || size > (long)sizeof(buf))
		return 2;
	snprintf(tmp, sizeof(tmp), "%s%s", argv[optind], rename_at_end ? ".tmp" : "");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 24;
	for (long i = 0; i < n; i++) {
		memset(buf, 'a' + (int)(i % 26), (size_t)size);
		if ((r = put(fd, mode, buf, (size_t)size, i * size)) != 0)
			return r;
		if (fsync(fd) < 0 && !fsync_may_fail) {
			printf("fsync failed: %s\n", strerror(errno));
			return 22;
		}
	}
	close(fd);
	if (rename_at_end && rename(tmp, argv[optind]) < 0)
		return 23;
	printf("ok\n");
	return 0;
}

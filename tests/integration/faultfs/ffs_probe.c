/* The probe program of the faultfs integration tests: one file-system step per run, with
 * the errno of a failure printed by name, so the shell tests can script write, fsync,
 * rename and directory fsync sequences and check what survives a power cut.
 *
 *   ffs-probe write FILE OFF TEXT [none|fsync|fdatasync]   (creates FILE)
 *   ffs-probe fill FILE NSECTORS CHAR [none|fsync]          (NSECTORS*512 bytes from 0)
 *   ffs-probe read FILE OFF LEN        raw bytes to stdout
 *   ffs-probe sectors FILE             the first byte of every 512-byte sector
 *   ffs-probe fsync FILE | fsyncdir DIR | rename A B
 *   ffs-probe bitdiff A B              number of differing bits
 *   ffs-probe session FILE             one fd (O_RDWR | O_CREAT) held open while commands
 *                                      from stdin run on it, one reply line each:
 *     read OFF LEN -> "ok N HASH" (FNV-1a of the bytes); show OFF LEN -> "ok TEXT";
 *     write OFF TEXT | fill OFF LEN CHAR | fsync | size -> "ok [N]"; close (its error).
 * Exit 0 ok, 1 with "error ENAME" on stdout, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/errname.h"
#include "common/fsutil.h"
#include "faults/faultfs/ffs_proto.h"

static int fail(int err)
{
	const char *n = errname_str(err);

	printf("error %s\n", n ? n : strerror(err));
	return 1;
}

static int sync_mode(int fd, const char *mode)
{
	if (!mode || strcmp(mode, "none") == 0)
		return 0;
	if (strcmp(mode, "fsync") == 0)
		return fsync(fd) < 0 ? fail(errno) : 0;
	if (strcmp(mode, "fdatasync") == 0)
		return fdatasync(fd) < 0 ? fail(errno) : 0;
	return 2;
}

static int do_write(const char *path, const char *off, const char *text, const char *mode)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return fail(errno);
	n = pwrite(fd, text, strlen(text), strtoll(off, NULL, 0));
	if (n != (ssize_t)strlen(text))
		return fail(n < 0 ? errno : EIO);
	return sync_mode(fd, mode);
}

static int do_fill(const char *path, const char *nsect, const char *ch, const char *mode)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	size_t len = (size_t)strtoul(nsect, NULL, 0) * 512;
	_cleanup_free_ char *buf = malloc(len ? len : 1);

	if (fd < 0 || !buf)
		return fail(fd < 0 ? errno : ENOMEM);
	memset(buf, ch[0], len);
	if (fs_write_full(fd, buf, len) < 0)
		return fail(errno);
	return sync_mode(fd, mode);
}

static int do_read(const char *path, const char *off, const char *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = (size_t)strtoul(len, NULL, 0);
	_cleanup_free_ char *buf = malloc(n ? n : 1);
	ssize_t got;

	if (fd < 0 || !buf)
		return fail(fd < 0 ? errno : ENOMEM);
	got = pread(fd, buf, n, strtoll(off, NULL, 0));
	if (got < 0)
		return fail(errno);
	fwrite(buf, 1, (size_t)got, stdout);
	return 0;
}

static int do_sectors(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[512];
	ssize_t n;

	if (fd < 0)
		return fail(errno);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		putchar(buf[0]);
	putchar('\n');
	return n < 0 ? fail(errno) : 0;
}

static int do_fsync(const char *path, int flags)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | flags);

	if (fd < 0 || fsync(fd) < 0)
		return fail(errno);
	printf("ok\n");
	return 0;
}

static int do_bitdiff(const char *a, const char *b)
{
	_cleanup_free_ char *x = NULL, *y = NULL;
	size_t lx, ly;
	long bits = 0;

	if (fs_read_all(a, 1 << 26, &x, &lx) < 0 || fs_read_all(b, 1 << 26, &y, &ly) < 0)
		return fail(errno ? errno : EIO);
	for (size_t i = 0; i < (lx < ly ? lx : ly); i++)
		bits += __builtin_popcount((unsigned char)(x[i] ^ y[i]));
	printf("%ld\n", bits + 8 * (long)(lx > ly ? lx - ly : ly - lx));
	return 0;
}

/* One session command on fd; prints its reply line. */
static void session_cmd(int fd, char *line)
{
	char *cmd = strtok(line, " \n"), *a = strtok(NULL, " \n"), *b = strtok(NULL, " \n"),
	     *c = strtok(NULL, " \n");
	_cleanup_free_ char *buf = NULL;
	size_t len = b ? (size_t)strtoul(b, NULL, 0) : 0;
	off_t off = a ? strtoll(a, NULL, 0) : 0;
	uint64_t h = 0xcbf29ce484222325ull;
	struct stat st;
	ssize_t n = 0;

	if (!cmd)
		return;
	if ((!strcmp(cmd, "read") || !strcmp(cmd, "show") || !strcmp(cmd, "fill")) &&
	    !(buf = malloc(len ? len : 1)))
		n = -1, errno = ENOMEM;
	else if ((!strcmp(cmd, "read") || !strcmp(cmd, "show")) && b)
		n = pread(fd, buf, len, off);
	else if (!strcmp(cmd, "fill") && c)
		n = pwrite(fd, memset(buf, c[0], len), len, off);
	else if (!strcmp(cmd, "write") && b)
		n = pwrite(fd, b, strlen(b), off);
	else if (!strcmp(cmd, "fsync"))
		n = fsync(fd);
	else if (!strcmp(cmd, "size"))
		n = fstat(fd, &st) < 0 ? -1 : st.st_size;
	else if (!strcmp(cmd, "close"))
		n = close(fd);
	else
		n = -1, errno = EINVAL;
	if (n < 0)
		fail(errno);
	else if (!strcmp(cmd, "read")) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ (unsigned char)buf[i]) * 0x100000001b3ull;
		printf("ok %zd %016" PRIx64 "\n", n, h);
	} else if (!strcmp(cmd, "show"))
		printf("ok %.*s\n", (int)n, buf);
	else if (!strcmp(cmd, "size"))
		printf("ok %zd\n", n);
	else
		printf("ok\n");
	fflush(stdout);
}

static int do_session(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	char line[8192];

	if (fd < 0)
		return fail(errno);
	printf("ok\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		bool closing = strncmp(line, "close", 5) == 0;

		session_cmd(fd, line);
		if (closing)
			return 0;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	if (strcmp(c, "write") == 0 && (argc == 5 || argc == 6))
		return do_write(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	if (strcmp(c, "fill") == 0 && (argc == 5 || argc == 6))
		return do_fill(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	if (strcmp(c, "read") == 0 && argc == 5)
		return do_read(argv[2], argv[3], argv[4]);
	if (strcmp(c, "sectors") == 0 && argc == 3)
		return do_sectors(argv[2]);
	if (strcmp(c, "fsync") == 0 && argc == 3)
		return do_fsync(argv[2], 0);
	if (strcmp(c, "fsyncdir") == 0 && argc == 3)
		return do_fsync(argv[2], O_DIRECTORY);
	if (strcmp(c, "rename") == 0 && argc == 4)
		return rename(argv[2], argv[3]) < 0 ? fail(errno) : 0;
	if (strcmp(c, "bitdiff") == 0 && argc == 4)
		return do_bitdiff(argv[2], argv[3]);
	if (strcmp(c, "session") == 0 && argc == 3)
		return do_session(argv[2]);
	fprintf(stderr, "usage: see the top of ffs_probe.c\n");
	return 2;
}

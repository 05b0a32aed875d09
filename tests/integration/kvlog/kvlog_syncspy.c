/* kvlog-syncspy.so: an LD_PRELOAD library for kvlog's integration tests that emulates a
 * power cut. It wraps fdatasync(2): it notes the fd's file offset before the call (where
 * kvlog's next write(2) goes: the end of what it wrote, before any zeroed tail; for an
 * O_APPEND fd the file's size) and, once the call has returned success, appends
 * "INODE OFFSET" to $KVLOG_SYNCSPY_FILE: at least that much of the file would survive a
 * power cut from then on, and nothing else is promised.
 * A test kills the server, cuts the log to the recorded size and checks that every write
 * the server acknowledged is still there. $KVLOG_SYNCSPY_DELAY_US slows each fdatasync,
 * widening the window in which a server that acknowledges early would be caught.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*real_fdatasync)(int);
static int spy_fd = -1;
static useconds_t delay_us;

__attribute__((constructor)) static void spy_init(void)
{
	const char *file = getenv("KVLOG_SYNCSPY_FILE");
	const char *delay = getenv("KVLOG_SYNCSPY_DELAY_US");

	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	if (file)
		spy_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (delay)
		delay_us = (useconds_t)strtoul(delay, NULL, 10);
	/* Not for grandchildren. */
	unsetenv("LD_PRELOAD");
}

__attribute__((visibility("default"))) int fdatasync(int fd)
{
	struct stat sb;
	char line[64];
	off_t pos;
	int r, n, saved;

	/* Not st_size: kvlog zero-fills the file ahead of its records. */
	pos = lseek(fd, 0, SEEK_CUR);
	if (fstat(fd, &sb) < 0 || pos < 0)
		return -1;
	if (delay_us)
		usleep(delay_us);
	r = real_fdatasync(fd);
	saved = errno;
	if (r == 0 && spy_fd >= 0 && S_ISREG(sb.st_mode)) {
		n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", (uint64_t)sb.st_ino,
			     (uint64_t)pos);
		(void)!write(spy_fd, line, (size_t)n); /* one O_APPEND write: one whole line */
	}
	errno = saved;
	return r;
}

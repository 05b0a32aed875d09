/* Test-only failures of set-up steps: see failpoint.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/failpoint.h"

static struct {
	bool on;
	char name[64];
	unsigned long nth;
	atomic_ulong *hits; /* shared with forked children */
	int log_fd;
	char pause_name[64]; /* CHAOSDRILL_FAILPOINT_PAUSE: this point sleeps pause_ms */
	unsigned long pause_ms;
} fp = { .log_fd = -1 };

void failpoint_reset(void)
{
	if (fp.hits)
		munmap(fp.hits, sizeof(*fp.hits));
	if (fp.log_fd >= 0)
		close(fp.log_fd);
	memset(&fp, 0, sizeof(fp));
	fp.log_fd = -1;
}

/* NAME:MS, both required. */
static int parse_pause(const char *spec)
{
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : 0;
	char *end;

	if (len == 0 || len >= sizeof(fp.pause_name))
		return -EINVAL;
	errno = 0;
	fp.pause_ms = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || fp.pause_ms > 60000)
		return -EINVAL;
	memcpy(fp.pause_name, spec, len);
	fp.pause_name[len] = '\0';
	return 0;
}

int failpoint_init(void)
{
	const char *spec = getenv("CHAOSDRILL_FAILPOINT"),
		   *log = getenv("CHAOSDRILL_FAILPOINT_LOG"),
		   *pause = getenv("CHAOSDRILL_FAILPOINT_PAUSE");
	const char *colon;
	size_t len;

	failpoint_reset();
	if (pause && *pause && parse_pause(pause) < 0)
		return -EINVAL;
	if ((!spec || !*spec) && (!log || !*log))
		return 0;
	if (spec && *spec) {
		colon = strchr(spec, ':');
		len = colon ? (size_t)(colon - spec) : strlen(spec);
		if (len == 0 || len >= sizeof(fp.name))
			return -EINVAL;
		memcpy(fp.name, spec, len);
		fp.nth = 1;
		if (colon) {
			char *end;

			errno = 0;
			fp.nth = strtoul(colon + 1, &end, 10);
			if (errno || *end || fp.nth == 0)
				return -EINVAL;
		}
	}
	fp.hits = mmap(NULL, sizeof(*fp.hits), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (fp.hits == MAP_FAILED) {
		fp.hits = NULL;
		return -errno;
	}
	if (log && *log &&
	    (fp.log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return -errno;
	fp.on = true;
	return 0;
}

/* One line, in one write(2): lines of several processes never interleave. */
static void log_line(const char *prefix, const char *name)
{
	char line[80];
	size_t lp = strlen(prefix), len = strlen(name);

	if (fp.log_fd < 0 || lp + len + 1 > sizeof(line))
		return;
	memcpy(line, prefix, lp);
	memcpy(line + lp, name, len);
	line[lp + len] = '\n';
	if (write(fp.log_fd, line, lp + len + 1) < 0) { /* a test tool: nothing to do about it */
	}
}

void failpoint_mark(const char *what)
{
	if (fp.on)
		log_line("# ", what);
}

void failpoint_pause(const char *name)
{
	struct timespec ts;

	if (!fp.pause_name[0] || strcmp(name, fp.pause_name) != 0)
		return;
	ts.tv_sec = (time_t)(fp.pause_ms / 1000);
	ts.tv_nsec = (long)(fp.pause_ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int failpoint(const char *name, int err)
{
	if (!fp.on)
		return 0;
	log_line("", name);
	if (!fp.name[0] || strcmp(name, fp.name) != 0)
		return 0;
	return atomic_fetch_add(fp.hits, 1) + 1 == fp.nth ? (err < 0 ? err : -EIO) : 0;
}

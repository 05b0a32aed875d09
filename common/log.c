/* Logging to stderr: see log.h. One write(2) per line so lines of forked children
 * do not interleave mid-line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "common/log.h"

static enum log_level current = LOG_LEVEL_INFO;
static const char *prog = "chaosdrill";
static void (*before_line)(void);

void log_set_level(enum log_level level)
{
	current = level;
}

void log_set_prog(const char *p)
{
	prog = p;
}

void log_set_before_line(void (*fn)(void))
{
	before_line = fn;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char buf[2048];
	int saved = errno, n;
	va_list ap;

	if (level > current)
		return;
	n = snprintf(buf, sizeof(buf), "%s: %s%s", prog,
		     level == LOG_LEVEL_INFO ? "" : names[level],
		     level == LOG_LEVEL_INFO ? "" : ": ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (before_line)
		before_line();
	(void)!write(STDERR_FILENO, buf, (size_t)n);
	errno = saved;
}

/* A located error: file, line, column and a message, carried up to the one place that
 * prints it ("file:line:col: message"). Filled by parsers and validators; never printed
 * by them. */
#ifndef CHAOSDRILL_COMMON_ERROR_H
#define CHAOSDRILL_COMMON_ERROR_H

#include <stdarg.h>

struct cd_error {
	char file[512];
	int line; /* 1-based; 0 when the error has no position (e.g. unreadable file) */
	int col;  /* 1-based */
	char msg[768];
};

/* Sets err (which may be NULL) and returns -errnum (a negative errno) for `return`. */
int cd_error_set(struct cd_error *err, int errnum, const char *file, int line, int col,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Formats "file:line:col: msg" (or "file: msg" without a position) into buf. */
void cd_error_format(const struct cd_error *err, char *buf, size_t len);

#endif

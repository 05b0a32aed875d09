/* Located errors: see error.h. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"

int cd_error_set(struct cd_error *err, int errnum, const char *file, int line, int col,
		 const char *fmt, ...)
{
	if (err) {
		va_list ap;

		snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
		err->line = line;
		err->col = col;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return errnum > 0 ? -errnum : errnum;
}

void cd_error_format(const struct cd_error *err, char *buf, size_t len)
{
	if (err->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line, err->col, err->msg);
	else if (err->file[0])
		snprintf(buf, len, "%s: %s", err->file, err->msg);
	else
		snprintf(buf, len, "%s", err->msg);
}

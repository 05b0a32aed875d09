/* The errno name table (see errname.h). */
#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/errname.h"

static const struct {
	const char *name;
	int err;
} names[] = {
	{ "ENOSPC", ENOSPC },	{ "EIO", EIO },
	{ "EDQUOT", EDQUOT },	{ "EROFS", EROFS },
	{ "EFBIG", EFBIG },	{ "EINTR", EINTR },
	{ "EAGAIN", EAGAIN },	{ "EBADF", EBADF },
	{ "EACCES", EACCES },	{ "EPERM", EPERM },
	{ "ENOENT", ENOENT },	{ "EEXIST", EEXIST },
	{ "EMFILE", EMFILE },	{ "ENFILE", ENFILE },
	{ "ENOMEM", ENOMEM },	{ "EINVAL", EINVAL },
	{ "EXDEV", EXDEV },	{ "ESTALE", ESTALE },
	{ "ENOSYS", ENOSYS },	{ "EOPNOTSUPP", EOPNOTSUPP },
	{ "ENOTSUP", ENOTSUP }, { "ENODEV", ENODEV },
	{ "ENXIO", ENXIO },	{ "ETIMEDOUT", ETIMEDOUT },
	{ "EBUSY", EBUSY },
};

const char *errname_str(int err)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return NULL;
}

int errname_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(names[i].name, name) == 0)
			return names[i].err;
	return -EINVAL;
}

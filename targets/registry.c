/* The static registry of target drivers (no dlsym discovery). */
#include <string.h>

#include "targets/driver.h"

extern const struct target_driver kvlog_driver;
extern const struct target_driver lines_driver;
extern const struct target_driver redis_driver;

static const struct target_driver *const drivers[] = {
	&kvlog_driver,
	&lines_driver,
	&redis_driver,
};

const struct target_driver *target_driver_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

/* Units of scenario files: see units.h. Locale-free: no strtod on user input. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"

struct suffix {
	const char *name;
	uint64_t mult;
};

/* Parses "<digits>[.<digits>]" then a suffix from table; result = value * mult, exact
 * for the integer part, truncated toward zero for the fraction. */
static int parse_scaled(const char *s, const struct suffix *tab, size_t n, int need_suffix,
			uint64_t *out)
{
	uint64_t ip = 0, frac = 0, fdiv = 1;
	const char *p = s;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (ip > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		ip = ip * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (fdiv < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
		}
	}
	while (*p == ' ')
		p++;
	if (!*p) {
		if (need_suffix && !(ip == 0 && frac == 0))
			return -EINVAL;
		*out = ip;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(p, tab[i].name) == 0) {
			uint64_t m = tab[i].mult;

			if (ip && m > UINT64_MAX / ip)
				return -ERANGE;
			*out = ip * m + (frac * m) / fdiv;
			return 0;
		}
	}
	return -EINVAL;
}

int units_parse_duration(const char *s, int64_t *ns)
{
	static const struct suffix tab[] = {
		{ "ns", 1 },
		{ "us", 1000ULL },
		{ "ms", 1000000ULL },
		{ "s", 1000000000ULL },
		{ "m", 60ULL * 1000000000ULL },
		{ "h", 3600ULL * 1000000000ULL },
	};
	uint64_t v;
	int r = parse_scaled(s, tab, sizeof(tab) / sizeof(tab[0]), 1, &v);

	if (r < 0)
		return r;
	if (v > INT64_MAX)
		return -ERANGE;
	*ns = (int64_t)v;
	return 0;
}

int units_parse_size(const char *s, uint64_t *bytes)
{
	static const struct suffix tab[] = {
		{ "B", 1 },
		{ "k", 1024ULL },
		{ "K", 1024ULL },
		{ "KiB", 1024ULL },
		{ "M", 1024ULL * 1024 },
		{ "MiB", 1024ULL * 1024 },
		{ "G", 1024ULL * 1024 * 1024 },
		{ "GiB", 1024ULL * 1024 * 1024 },
		{ "KB", 1000ULL },
		{ "MB", 1000ULL * 1000 },
		{ "GB", 1000ULL * 1000 * 1000 },
	};

	return parse_scaled(s, tab, sizeof(tab) / sizeof(tab[0]), 0, bytes);
}

int units_parse_rate(const char *s, double *per_sec)
{
	const char *slash;
	char num[32];
	uint64_t v;
	size_t len;
	int r;

	if (!s || !(slash = strchr(s, '/')))
		return -EINVAL;
	len = (size_t)(slash - s);
	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len);
	num[len] = '\0';
	r = parse_scaled(num, NULL, 0, 0, &v);
	if (r < 0)
		return r;
	if (strchr(num, '.'))
		return -EINVAL; /* whole operations per unit */
	if (strcmp(slash, "/s") == 0)
		*per_sec = (double)v;
	else if (strcmp(slash, "/m") == 0 || strcmp(slash, "/min") == 0)
		*per_sec = (double)v / 60.0;
	else if (strcmp(slash, "/ms") == 0)
		*per_sec = (double)v * 1000.0;
	else
		return -EINVAL;
	return 0;
}

void units_format_duration(int64_t ns, char *buf, size_t len)
{
	int64_t ms = ns / NSEC_PER_MSEC;
	const char *sign = "";

	if (ms < 0) {
		sign = "-";
		ms = -ms;
	}
	if (ms < 1000)
		snprintf(buf, len, "%s%" PRId64 "ms", sign, ms);
	else
		snprintf(buf, len, "%s%" PRId64 ".%03" PRId64 "s", sign, ms / 1000, ms % 1000);
}

void units_format_seconds_ms(int64_t ns, char *buf, size_t len)
{
	int64_t ms = ns / NSEC_PER_MSEC;

	if (ms < 0)
		ms = 0;
	snprintf(buf, len, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
}

void units_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (u + 1 < sizeof(unit) / sizeof(unit[0]) && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%s", bytes, unit[u]);
}

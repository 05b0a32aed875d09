/* Parsing and formatting of the units scenario files use: durations ("500ms", "2s", "5m",
 * "1h", "250us"), byte sizes ("512", "64KiB", "1MiB", "4k") and rates ("2000/s", "100/m").
 * Pure functions; each returns 0 or -EINVAL (bad syntax) / -ERANGE (overflow). */
#ifndef CHAOSDRILL_COMMON_UNITS_H
#define CHAOSDRILL_COMMON_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define NSEC_PER_USEC 1000LL
#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL

/* A bare number is rejected: a duration needs its unit. "0" alone is accepted. */
int units_parse_duration(const char *s, int64_t *ns);
int units_parse_size(const char *s, uint64_t *bytes);
/* Operations per second, as a double (a rate of "1/m" is 1/60 per second). */
int units_parse_rate(const char *s, double *per_sec);

/* "1.250s", "42ms", "0ms": the shortest human form of a duration (millisecond precision). */
void units_format_duration(int64_t ns, char *buf, size_t len);
/* "64MiB", "1GiB", "1500B": the largest binary unit that divides the size exactly. */
void units_format_size(uint64_t bytes, char *buf, size_t len);
/* Integer milliseconds as a decimal with three places of seconds: "1.250". Locale-free. */
void units_format_seconds_ms(int64_t ns, char *buf, size_t len);

#endif

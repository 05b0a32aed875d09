/* Clock helpers: monotonic nanoseconds (the timeline's clock) and wall-clock. */
#ifndef CHAOSDRILL_COMMON_TIMEUTIL_H
#define CHAOSDRILL_COMMON_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

static inline int64_t time_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int64_t time_mono_ns(void)
{
	return time_now_ns(CLOCK_MONOTONIC);
}

static inline int64_t time_real_ns(void)
{
	return time_now_ns(CLOCK_REALTIME);
}

static inline struct timespec time_ns_to_timespec(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };

	return ts;
}

#endif

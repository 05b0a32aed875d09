/* Helpers shared by the JUnit and result.json writers: see report_internal.h. */
#include <errno.h>
#include <time.h>

#include "common/units.h"
#include "reports/report_internal.h"

const char *report_kind_name(enum report_case_kind kind)
{
	switch (kind) {
	case REPORT_CASE_FAULT:
		return "fault";
	case REPORT_CASE_STEP:
		return "recovery";
	case REPORT_CASE_EXPECT:
		return "expect";
	case REPORT_CASE_ACTION:
		return "action";
	}
	return "unknown";
}

const char *report_status_name(enum report_status status)
{
	switch (status) {
	case REPORT_PASS:
		return "pass";
	case REPORT_FAIL:
		return "fail";
	case REPORT_ERROR:
		return "error";
	case REPORT_SKIP:
		return "skip";
	}
	return "unknown";
}

int report_format_utc(int64_t real_ns, char buf[static REPORT_UTC_LEN])
{
	time_t sec = (time_t)(real_ns / NSEC_PER_SEC);
	struct tm tm;

	buf[0] = '\0';
	if (real_ns <= 0 || !gmtime_r(&sec, &tm))
		return -EINVAL;
	/* Numeric conversions only: strftime's output does not depend on the locale here. */
	if (strftime(buf, REPORT_UTC_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		buf[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

void report_tally_suite(const struct report_suite *suite, struct report_tally *t)
{
	*t = (struct report_tally){ .tests = suite->n_cases };
	for (size_t i = 0; i < suite->n_cases; i++) {
		switch (suite->cases[i].status) {
		case REPORT_PASS:
			break;
		case REPORT_FAIL:
			t->failures++;
			break;
		case REPORT_ERROR:
			t->errors++;
			break;
		case REPORT_SKIP:
			t->skipped++;
			break;
		}
	}
	if (suite->error) {
		t->tests++;
		t->errors++;
	}
}

/* Representative drills for the report writers' golden tests: each name below has
 * golden/junit_NAME.xml and golden/result_NAME.json. */
#ifndef CHAOSDRILL_TESTS_REPORTS_FIXTURES_H
#define CHAOSDRILL_TESTS_REPORTS_FIXTURES_H

#include "reports/report.h"

extern const struct report_suite fixture_pass;	   /* every expectation met */
extern const struct report_suite fixture_rto_miss; /* RTO over target, with its figures */
extern const struct report_suite fixture_rpo_miss; /* lost acknowledged writes, named */
extern const struct report_suite fixture_aborted;  /* a step crashed, drill aborted (exit 3) */
extern const struct report_suite fixture_nasty;	   /* ANSI, "]]>", <&"'>, bad UTF-8, controls */
extern const struct report_suite fixture_empty;	   /* every string NULL, no cases */
/* --repeat: two iterations of one drill in one JUnit file. */
extern const struct report_suite fixture_repeat[2];

#endif

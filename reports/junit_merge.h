/* Merging JUnit XML documents into one: the shards of a CI pipeline (`chaosdrill
 * junit-merge`), the drills of `run -j`. Pure: bytes in, bytes out.
 *
 * Usage:
 *   const char *docs[] = { a, b }; size_t lens[] = { a_len, b_len };
 *   char err[256];
 *   struct strbuf out = STRBUF_INIT;
 *   if (junit_merge(docs, lens, 2, &out, err, sizeof(err)) < 0) puts(err);
 *
 * Each document's root is a <testsuites> (as chaosdrill writes it, with tests=, failures=,
 * errors= and time= on it) or a single <testsuite> (which has them by the schema). Every
 * <testsuite> of every document is copied as it is, in order, under one <testsuites name=
 * "chaosdrill"> whose tests, failures, errors and time are the sums: valid against
 * shared/schemas/junit-10.xsd when the inputs are. No document at all gives an empty
 * <testsuites>. */
#ifndef CHAOSDRILL_REPORTS_JUNIT_MERGE_H
#define CHAOSDRILL_REPORTS_JUNIT_MERGE_H

#include <stddef.h>

#include "common/strbuf.h"

/* Appends the merged document to out. -EINVAL when a document is not one of those above
 * (err says which, 0-based, and why), -ENOMEM. */
int junit_merge(const char *const *docs, const size_t *lens, size_t n, struct strbuf *out,
		char *err, size_t errlen);

#endif

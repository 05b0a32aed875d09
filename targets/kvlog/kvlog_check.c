/* kvlog-check: validate a kvlog data directory, inspect it, or cut it to the last valid
 * record (the runbook's "validate, truncate" steps).
 *
 *   kvlog-check [--no-crc] [--inspect] DIR     validate (and summarize records, keys)
 *   kvlog-check --truncate DIR                 cut at the first invalid record
 * Output: "name value" lines; last_valid_offset is the byte of the last segment (txn.log)
 * where its last valid record ends: where the log is cut, and where a zeroed tail (free
 * space, see kvlog_log.h) begins. Exit status: 0 valid (or truncated), 1 invalid records
 * found, 2 usage or I/O error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "targets/kvlog/kvlog_log.h"
#include "targets/kvlog/kvlog_store.h"

DEFINE_CLEANUP_FUNC(struct kvlog_store, kvlog_store_free)

struct inspect {
	struct kvlog_store *keys; /* borrowed: distinct keys, empty values */
	uint64_t first_seq;
	int64_t first_ts;
};

static int note_key(void *ud, const struct kvlog_rec *rec)
{
	struct inspect *in = ud;

	if (!in->first_seq) {
		in->first_seq = rec->seq;
		in->first_ts = rec->ts_ns;
	}
	return kvlog_store_set(in->keys, rec->key, rec->klen, "", 0);
}

static void print_time(const char *name, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000LL);
	struct tm tm;
	char buf[64];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s %s.%03dZ\n", name, buf, (int)((ns / 1000000) % 1000));
}

static void print_scan(const struct kvlog_replay *st)
{
	printf("valid_records %" PRIu64 "\nvalid_bytes %" PRIu64 "\nlast_valid_offset %" PRIu64
	       "\nsegments %u\nlast_seq %" PRIu64 "\n",
	       st->records, st->bytes, st->end_offset, st->segments, st->last_seq);
	printf("invalid_records %" PRIu64 "\ninvalid_bytes %" PRIu64 "\ntorn_tail %s\n"
	       "corrupt_mid_log %s\n",
	       st->dropped_records + st->skipped_records, st->dropped_bytes + st->skipped_bytes,
	       st->dropped_bytes ? "yes" : "no", st->corrupt ? "yes" : "no");
	if (st->dropped_bytes || st->corrupt)
		printf("first_invalid %s:%" PRIu64 " (%s)\n", st->first_bad_file,
		       st->first_bad_offset, kvlog_bad_name(st->first_bad_reason));
	if (st->msg[0])
		fprintf(stderr, "kvlog-check: %s\n", st->msg);
}

static int validate(const char *dir, bool no_crc, bool inspect)
{
	_cleanup_(kvlog_store_freep) struct kvlog_store *keys = kvlog_store_new();
	struct inspect in = { .keys = keys };
	struct kvlog_replay st;
	int r;

	if (!keys)
		return 2;
	r = kvlog_validate(dir, no_crc, inspect ? note_key : NULL, &in, &st);
	if (r < 0) {
		fprintf(stderr, "kvlog-check: %s: %s\n", dir, strerror(-r));
		return 2;
	}
	print_scan(&st);
	if (inspect) {
		printf("keys %zu\nfirst_seq %" PRIu64 "\n", kvlog_store_count(keys), in.first_seq);
		if (st.records) {
			print_time("first_timestamp", in.first_ts);
			print_time("last_timestamp", st.last_ts_ns);
		}
	}
	return st.dropped_bytes || st.corrupt ? 1 : 0;
}

static int truncate_dir(const char *dir)
{
	struct kvlog_replay st;
	int r = kvlog_truncate(dir, &st);

	if (r < 0) {
		fprintf(stderr, "kvlog-check: truncate %s: %s\n", dir, strerror(-r));
		return 2;
	}
	print_scan(&st);
	if (st.dropped_bytes)
		printf("truncated %s at byte %" PRIu64 ": dropped %" PRIu64 " bytes\n",
		       st.first_bad_file, st.first_bad_offset, st.dropped_bytes);
	else
		printf("nothing to truncate\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "inspect", no_argument, NULL, 'i' },
					      { "truncate", no_argument, NULL, 't' },
					      { "no-crc", no_argument, NULL, 'n' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	bool inspect = false, trunc = false, no_crc = false;
	int c;

	while ((c = getopt_long(argc, argv, "itnh", opts, NULL)) != -1) {
		if (c == 'i')
			inspect = true;
		else if (c == 't')
			trunc = true;
		else if (c == 'n')
			no_crc = true;
		else
			goto usage;
	}
	if (argc - optind != 1)
		goto usage;
	return trunc ? truncate_dir(argv[optind]) : validate(argv[optind], no_crc, inspect);
usage:
	fprintf(stderr, "usage: kvlog-check [--inspect] [--no-crc] DIR\n"
			"       kvlog-check --truncate DIR\n");
	return 2;
}

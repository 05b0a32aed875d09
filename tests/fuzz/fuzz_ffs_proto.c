/* Fuzzes the control protocol of chaosdrill-faultfs (faults/faultfs/ffs_proto.c): one
 * command line as the file system's control socket reads it (at most FFS_LINE_MAX bytes,
 * NUL-terminated), and a reply line as the harness reads it. A command that decodes must
 * encode, and its encoding must decode to a command with the same encoding. */
#include <stdlib.h>
#include <string.h>

#include "faults/faultfs/ffs_proto.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[FFS_LINE_MAX + 1], enc[FFS_LINE_MAX + 1], enc2[FFS_LINE_MAX + 1], msg[128];
	struct ffs_cmd cmd, cmd2;
	int n, n2;

	if (size > FFS_LINE_MAX)
		size = FFS_LINE_MAX;
	memcpy(line, data, size);
	line[size] = 0;
	ffs_reply_status(line);
	msg[0] = 0;
	if (ffs_cmd_decode(line, &cmd, msg, sizeof(msg)) < 0) {
		if (!msg[0])
			fuzz_fail("a refused command without a message");
		return 0;
	}
	if (!ffs_cmd_name(cmd.kind))
		fuzz_fail("decoded kind %d has no name", cmd.kind);
	n = ffs_cmd_encode(&cmd, enc, sizeof(enc));
	if (n < 0)
		return 0; /* -ENOSPC: fine for a line near FFS_LINE_MAX once escaped */
	if ((size_t)n != strlen(enc) || n == 0 || enc[n - 1] != '\n')
		fuzz_fail("encode returned %d for \"%s\"", n, enc);
	if (ffs_cmd_decode(enc, &cmd2, msg, sizeof(msg)) < 0)
		fuzz_fail("\"%.*s\" (from \"%s\") does not decode: %s", n - 1, enc, line, msg);
	n2 = ffs_cmd_encode(&cmd2, enc2, sizeof(enc2));
	if (n2 != n || strcmp(enc, enc2) != 0)
		fuzz_fail("\"%.*s\" encodes back as \"%s\"", n - 1, enc, enc2);
	return 0;
}

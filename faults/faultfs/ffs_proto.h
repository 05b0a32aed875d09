/* The control protocol of chaosdrill-faultfs: one command per line over a unix stream
 * socket, one reply line each. A command is a name and key=value words; values are
 * percent-encoded (%20 for a space), sizes take units (4KiB), delays durations (5ms):
 *
 *   arm-bad-range path=GLOB off=N len=N [gran=512|4096] [ops=read|write|rw] [err=EIO]
 *   arm-bad-range path=FILE sectors=random(N) [span=BYTES] [seed=S] [gran=..] [ops=..]
 *   bitrot path=GLOB off=N len=N [bits=N] [seed=S] [mode=read|rest]
 *   power-cut [keep=none|random-sectors] [seed=S]
 *   delay path=GLOB ops=read|write|fsync|... delay=DURATION
 *   fsync-errno path=GLOB [err=EIO] [count=1]
 *   status | stats | clear
 *
 * Replies: "ok[ key=value...]" or "error ENAME message". Pure encode/decode.
 *
 * Usage:
 *   struct ffs_cmd cmd;  char msg[128];
 *   r = ffs_cmd_decode("power-cut keep=random-sectors seed=7", &cmd, msg, sizeof(msg));
 *   n = ffs_cmd_encode(&cmd, buf, sizeof(buf));
 */
#ifndef CHAOSDRILL_FAULTFS_PROTO_H
#define CHAOSDRILL_FAULTFS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "faults/faultfs/ffs_cache.h"
#include "faults/faultfs/ffs_rules.h"

#define FFS_LINE_MAX 4096

enum ffs_cmd_kind {
	FFS_CMD_ARM_BAD_RANGE,
	FFS_CMD_BITROT,
	FFS_CMD_POWER_CUT,
	FFS_CMD_DELAY,
	FFS_CMD_FSYNC_ERRNO,
	FFS_CMD_STATUS,
	FFS_CMD_STATS,
	FFS_CMD_CLEAR,
	FFS_CMD_COUNT
};

enum ffs_rot_mode { FFS_ROT_READ, FFS_ROT_REST };

/* Keys, as bits of ffs_cmd.has. */
enum ffs_key_bit {
	FFS_K_PATH = 1u << 0,
	FFS_K_OFF = 1u << 1,
	FFS_K_LEN = 1u << 2,
	FFS_K_GRAN = 1u << 3,
	FFS_K_OPS = 1u << 4,
	FFS_K_ERR = 1u << 5,
	FFS_K_SECTORS = 1u << 6,
	FFS_K_SPAN = 1u << 7,
	FFS_K_SEED = 1u << 8,
	FFS_K_BITS = 1u << 9,
	FFS_K_MODE = 1u << 10,
	FFS_K_KEEP = 1u << 11,
	FFS_K_DELAY = 1u << 12,
	FFS_K_COUNT = 1u << 13,
};

struct ffs_cmd {
	enum ffs_cmd_kind kind;
	unsigned has; /* FFS_K_* given */
	char path[FFS_GLOB_MAX];
	uint64_t off, len, span, seed;
	uint32_t gran, random_n, bits, count;
	unsigned ops; /* FFS_OP_* */
	int err;      /* positive errno */
	int64_t delay_ns;
	enum ffs_keep keep;
	enum ffs_rot_mode mode;
};

/* Parses one line (without or with its newline) into *cmd, defaults filled in. On
 * -EINVAL, msg says what was wrong. */
int ffs_cmd_decode(const char *line, struct ffs_cmd *cmd, char *msg, size_t msglen);
/* Writes cmd as one line with its newline (only the keys in has). Returns the length or
 * -ENOSPC. */
int ffs_cmd_encode(const struct ffs_cmd *cmd, char *buf, size_t len);
const char *ffs_cmd_name(enum ffs_cmd_kind kind);

/* A reply line: 0 for "ok ...", -errno for "error ENAME ...", -EBADMSG otherwise. */
int ffs_reply_status(const char *line);

#endif

/* The control protocol: command and key tables, decode and encode (see ffs_proto.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/errname.h"
#include "common/units.h"
#include "faults/faultfs/ffs_proto.h"

struct cmd_desc {
	const char *name;
	unsigned allowed, required;
};

static const struct cmd_desc cmds[FFS_CMD_COUNT] = {
	[FFS_CMD_ARM_BAD_RANGE] = { "arm-bad-range",
				    FFS_K_PATH | FFS_K_OFF | FFS_K_LEN | FFS_K_GRAN | FFS_K_OPS |
					    FFS_K_ERR | FFS_K_SECTORS | FFS_K_SPAN | FFS_K_SEED,
				    FFS_K_PATH },
	[FFS_CMD_BITROT] = { "bitrot",
			     FFS_K_PATH | FFS_K_OFF | FFS_K_LEN | FFS_K_BITS | FFS_K_SEED |
				     FFS_K_MODE,
			     FFS_K_PATH | FFS_K_LEN },
	[FFS_CMD_POWER_CUT] = { "power-cut", FFS_K_KEEP | FFS_K_SEED, 0 },
	[FFS_CMD_DELAY] = { "delay", FFS_K_PATH | FFS_K_OPS | FFS_K_DELAY,
			    FFS_K_PATH | FFS_K_OPS | FFS_K_DELAY },
	[FFS_CMD_FSYNC_ERRNO] = { "fsync-errno", FFS_K_PATH | FFS_K_ERR | FFS_K_COUNT, FFS_K_PATH },
	[FFS_CMD_STATUS] = { "status", 0, 0 },
	[FFS_CMD_STATS] = { "stats", 0, 0 },
	[FFS_CMD_CLEAR] = { "clear", 0, 0 },
};

enum vtype { V_STR, V_SIZE, V_U64, V_U32, V_GRAN, V_OPS, V_ERR, V_RANDOM, V_MODE, V_KEEP, V_DUR };

struct key_desc {
	const char *name;
	unsigned bit;
	enum vtype type;
	size_t off;
};

#define K(n, b, t, f)                                \
	{                                            \
		n, b, t, offsetof(struct ffs_cmd, f) \
	}
static const struct key_desc keys[] = {
	K("path", FFS_K_PATH, V_STR, path),
	K("off", FFS_K_OFF, V_SIZE, off),
	K("len", FFS_K_LEN, V_SIZE, len),
	K("gran", FFS_K_GRAN, V_GRAN, gran),
	K("ops", FFS_K_OPS, V_OPS, ops),
	K("err", FFS_K_ERR, V_ERR, err),
	K("sectors", FFS_K_SECTORS, V_RANDOM, random_n),
	K("span", FFS_K_SPAN, V_SIZE, span),
	K("seed", FFS_K_SEED, V_U64, seed),
	K("bits", FFS_K_BITS, V_U32, bits),
	K("mode", FFS_K_MODE, V_MODE, mode),
	K("keep", FFS_K_KEEP, V_KEEP, keep),
	K("delay", FFS_K_DELAY, V_DUR, delay_ns),
	K("count", FFS_K_COUNT, V_U32, count),
};
#undef K

static const char *const op_names[] = { "read", "write", "fsync" }; /* bit i = 1 << i */
static const char *const mode_names[] = { [FFS_ROT_READ] = "read", [FFS_ROT_REST] = "rest" };
static const char *const keep_names[] = {
	[FFS_KEEP_NONE] = "none", [FFS_KEEP_RANDOM_SECTORS] = "random-sectors"
};

const char *ffs_cmd_name(enum ffs_cmd_kind kind)
{
	return kind < FFS_CMD_COUNT ? cmds[kind].name : "?";
}

static int fail(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* "read", "rw", "read,write,fsync" (',' or '|'). */
static int parse_ops(const char *s, unsigned *ops)
{
	char buf[64], *save = NULL;

	if (strcmp(s, "rw") == 0) {
		*ops = FFS_OP_READ | FFS_OP_WRITE;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	*ops = 0;
	for (char *t = strtok_r(buf, ",|", &save); t; t = strtok_r(NULL, ",|", &save)) {
		int i = name_index(op_names, ARRAY_SIZE(op_names), t);

		if (i < 0)
			return -EINVAL;
		*ops |= 1u << i;
	}
	return *ops ? 0 : -EINVAL;
}

static int parse_random(const char *s, uint32_t *n)
{
	uint64_t v;
	char buf[32];
	size_t len = strlen(s);

	if (len < 9 || len >= sizeof(buf) || strncmp(s, "random(", 7) != 0 || s[len - 1] != ')')
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%.*s", (int)(len - 8), s + 7);
	if (parse_u64(buf, &v) < 0 || v == 0 || v > 65536)
		return -EINVAL;
	*n = (uint32_t)v;
	return 0;
}

static int parse_value(const struct key_desc *k, const char *v, struct ffs_cmd *cmd)
{
	void *p = (char *)cmd + k->off;
	uint64_t u;
	int i;

	switch (k->type) {
	case V_STR:
		if (!*v || strlen(v) >= FFS_GLOB_MAX)
			return -EINVAL;
		memcpy(p, v, strlen(v) + 1);
		return 0;
	case V_SIZE:
		return units_parse_size(v, p);
	case V_U64:
		return parse_u64(v, p);
	case V_U32:
	case V_GRAN:
		if (parse_u64(v, &u) < 0 || u > UINT32_MAX ||
		    (k->type == V_GRAN && u != 512 && u != 4096))
			return -EINVAL;
		*(uint32_t *)p = (uint32_t)u;
		return 0;
	case V_OPS:
		return parse_ops(v, p);
	case V_ERR:
		i = errname_parse(v);
		return i < 0 ? i : (*(int *)p = i, 0);
	case V_RANDOM:
		return parse_random(v, p);
	case V_MODE:
		i = name_index(mode_names, ARRAY_SIZE(mode_names), v);
		return i < 0 ? -EINVAL : (*(enum ffs_rot_mode *)p = (enum ffs_rot_mode)i, 0);
	case V_KEEP:
		i = name_index(keep_names, ARRAY_SIZE(keep_names), v);
		return i < 0 ? -EINVAL : (*(enum ffs_keep *)p = (enum ffs_keep)i, 0);
	case V_DUR:
		return units_parse_duration(v, p);
	}
	return -EINVAL;
}

static int unpercent(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			unsigned x;

			if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]) ||
			    sscanf(s + 1, "%2x", &x) != 1 || x == 0)
				return -EINVAL;
			*w++ = (char)x;
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

static void cmd_defaults(struct ffs_cmd *cmd, enum ffs_cmd_kind kind)
{
	*cmd = (struct ffs_cmd){ .kind = kind,
				 .gran = 512,
				 .err = EIO,
				 .bits = 1,
				 .count = 1,
				 .ops = FFS_OP_READ,
				 .keep = FFS_KEEP_NONE,
				 .mode = FFS_ROT_READ };
}

static int decode_word(char *word, struct ffs_cmd *cmd, char *msg, size_t msglen)
{
	char *eq = strchr(word, '=');
	const struct key_desc *k = NULL;

	if (!eq)
		return fail(msg, msglen, "expected key=value, got '%s'", word);
	*eq = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(keys) && !k; i++)
		if (strcmp(keys[i].name, word) == 0)
			k = &keys[i];
	if (!k || !(cmds[cmd->kind].allowed & k->bit))
		return fail(msg, msglen, "unknown key '%s' for %s", word, cmds[cmd->kind].name);
	if (cmd->has & k->bit)
		return fail(msg, msglen, "key '%s' given twice", word);
	if (unpercent(eq + 1) < 0 || parse_value(k, eq + 1, cmd) < 0)
		return fail(msg, msglen, "bad value for %s: '%s'", word, eq + 1);
	cmd->has |= k->bit;
	return 0;
}

static int check_cmd(const struct ffs_cmd *cmd, char *msg, size_t msglen)
{
	unsigned missing = cmds[cmd->kind].required & ~cmd->has;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (missing & keys[i].bit)
			return fail(msg, msglen, "%s needs %s=", cmds[cmd->kind].name,
				    keys[i].name);
	if (cmd->kind == FFS_CMD_ARM_BAD_RANGE) {
		bool len = cmd->has & FFS_K_LEN, rnd = cmd->has & FFS_K_SECTORS;

		if (len == rnd)
			return fail(msg, msglen,
				    "arm-bad-range needs either len= or sectors=random(N)");
		if (!rnd && (cmd->has & (FFS_K_SPAN | FFS_K_SEED)))
			return fail(msg, msglen, "span= and seed= go with sectors=random(N)");
	}
	if ((cmd->has & FFS_K_LEN) && cmd->len == 0)
		return fail(msg, msglen, "len= must not be 0");
	return 0;
}

int ffs_cmd_decode(const char *line, struct ffs_cmd *cmd, char *msg, size_t msglen)
{
	char buf[FFS_LINE_MAX], *save = NULL, *word;
	size_t len = strlen(line);
	int kind;

	snprintf(msg, msglen, "ok");
	if (len >= sizeof(buf))
		return fail(msg, msglen, "line too long");
	memcpy(buf, line, len + 1);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	word = strtok_r(buf, " \t", &save);
	if (!word)
		return fail(msg, msglen, "empty command");
	for (kind = 0; kind < FFS_CMD_COUNT && strcmp(cmds[kind].name, word); kind++)
		;
	if (kind == FFS_CMD_COUNT)
		return fail(msg, msglen, "unknown command '%s'", word);
	cmd_defaults(cmd, (enum ffs_cmd_kind)kind);
	while ((word = strtok_r(NULL, " \t", &save))) {
		int r = decode_word(word, cmd, msg, msglen);

		if (r < 0)
			return r;
	}
	return check_cmd(cmd, msg, msglen);
}

struct out {
	char *buf;
	size_t len, at;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->at, o->len - o->at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->at)
		o->full = true;
	else
		o->at += (size_t)n;
}

static void put_escaped(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("._/*?[]-,!^+:~@", c))
			put(o, "%c", c);
		else
			put(o, "%%%02X", c);
	}
}

static void put_ops(struct out *o, unsigned ops)
{
	const char *sep = "";

	for (size_t i = 0; i < ARRAY_SIZE(op_names); i++) {
		if (ops & (1u << i)) {
			put(o, "%s%s", sep, op_names[i]);
			sep = ",";
		}
	}
}

static void put_value(struct out *o, const struct key_desc *k, const struct ffs_cmd *cmd)
{
	const void *p = (const char *)cmd + k->off;

	switch (k->type) {
	case V_STR:
		put_escaped(o, p);
		break;
	case V_SIZE:
	case V_U64:
		put(o, "%" PRIu64, *(const uint64_t *)p);
		break;
	case V_U32:
	case V_GRAN:
		put(o, "%" PRIu32, *(const uint32_t *)p);
		break;
	case V_OPS:
		put_ops(o, *(const unsigned *)p);
		break;
	case V_ERR:
		put(o, "%s", errname_str(*(const int *)p) ? errname_str(*(const int *)p) : "EIO");
		break;
	case V_RANDOM:
		put(o, "random(%" PRIu32 ")", *(const uint32_t *)p);
		break;
	case V_MODE:
		put(o, "%s", mode_names[*(const enum ffs_rot_mode *)p]);
		break;
	case V_KEEP:
		put(o, "%s", keep_names[*(const enum ffs_keep *)p]);
		break;
	case V_DUR:
		/* Microseconds: the finest unit durations take. */
		put(o, "%" PRId64 "us", (int64_t)(*(const int64_t *)p / NSEC_PER_USEC));
		break;
	}
}

int ffs_cmd_encode(const struct ffs_cmd *cmd, char *buf, size_t len)
{
	struct out o = { buf, len, 0, len == 0 };

	if (cmd->kind >= FFS_CMD_COUNT)
		return -EINVAL;
	put(&o, "%s", cmds[cmd->kind].name);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!(cmd->has & keys[i].bit))
			continue;
		put(&o, " %s=", keys[i].name);
		put_value(&o, &keys[i], cmd);
	}
	put(&o, "\n");
	return o.full ? -ENOSPC : (int)o.at;
}

int ffs_reply_status(const char *line)
{
	char name[32];
	int e;

	if (strncmp(line, "ok", 2) == 0 && (line[2] == '\0' || line[2] == ' ' || line[2] == '\n'))
		return 0;
	if (sscanf(line, "error %31s", name) != 1)
		return -EBADMSG;
	e = errname_parse(name);
	return e < 0 ? -EBADMSG : -e;
}

/* The pure half of the syscall rule language: names, glob matching, the seeded draws
 * (common/rng.h) and the decision for one call. No allocation, no I/O, no dependency beyond
 * libc and header-only common/: the preload shim links this file too. */
#include <fnmatch.h>
#include <string.h>

#include "common/rng.h"
#include "faults/sys/rule.h"
#include "faults/sys/shimctl.h"

static const char *const call_names[SYS_CALL_N] = {
	[SYS_CALL_WRITE] = "write",
	[SYS_CALL_PWRITE] = "pwrite",
	[SYS_CALL_WRITEV] = "writev",
	[SYS_CALL_PWRITEV] = "pwritev",
	[SYS_CALL_FSYNC] = "fsync",
	[SYS_CALL_FDATASYNC] = "fdatasync",
	[SYS_CALL_SYNC_FILE_RANGE] = "sync_file_range",
	[SYS_CALL_RENAME] = "rename",
	[SYS_CALL_OPENAT] = "openat",
	[SYS_CALL_FTRUNCATE] = "ftruncate",
	[SYS_CALL_FALLOCATE] = "fallocate",
	[SYS_CALL_READ] = "read",
	[SYS_CALL_PREAD] = "pread",
	[SYS_CALL_READV] = "readv",
	[SYS_CALL_PREADV] = "preadv",
	[SYS_CALL_UNLINK] = "unlink",
};

static const char *const action_names[] = {
	[SYS_ACT_NONE] = "none",
	[SYS_ACT_ERRNO] = "errno",
	[SYS_ACT_SHORT] = "short",
	[SYS_ACT_TORN] = "torn",
	[SYS_ACT_CRASH_BEFORE] = "crash-before",
	[SYS_ACT_CRASH_AFTER] = "crash-after",
	[SYS_ACT_DELAY] = "delay",
};

const char *sys_call_name(enum sys_call c)
{
	return (unsigned)c < SYS_CALL_N ? call_names[c] : NULL;
}

int sys_call_from_name(const char *name)
{
	for (int i = 0; i < SYS_CALL_N; i++)
		if (strcmp(call_names[i], name) == 0)
			return i;
	return -1;
}

const char *sys_action_name(enum sys_action a)
{
	return (unsigned)a <= SYS_ACT_DELAY ? action_names[a] : NULL;
}

/* Keyed by folding each key into the mix, as it was before rng_draw existed: the syscall
 * rules' draws are pinned (tests/unit/sysfaults), and changing the keying would move every
 * recorded drill's tear. */
uint64_t sys_rand(uint64_t seed, uint64_t rule, uint64_t nth, uint64_t salt)
{
	return rng_mix(rng_mix(rng_mix(rng_mix(seed) ^ rule) ^ nth) ^ salt);
}

enum { SALT_PROB = 1, SALT_KEEP = 2 };

uint64_t sys_keep_bytes(const struct sys_rule *r, size_t rule, uint64_t nth, uint64_t seed,
			uint64_t len)
{
	switch (r->keep) {
	case SYS_KEEP_BYTES:
		return r->keep_bytes < len ? r->keep_bytes : len;
	case SYS_KEEP_HALF:
		return len / 2;
	case SYS_KEEP_RANDOM:
		if (len < 2)
			return 0;
		return 1 + sys_rand(seed, rule, nth, SALT_KEEP) % (len - 1);
	}
	return 0;
}

static bool glob_matches(const char *glob, const char *path)
{
	if (!path)
		return false;
	/* Relative globs see only files under the data dir (relative paths). */
	if ((glob[0] == '/') != (path[0] == '/'))
		return false;
	return fnmatch(glob, path, 0) == 0;
}

bool sys_rule_matches(const struct sys_rule *r, const struct sys_call_info *c)
{
	if ((unsigned)c->call >= SYS_CALL_N || !(r->calls & (1u << c->call)))
		return false;
	return glob_matches(r->glob, c->path) || glob_matches(r->glob, c->path2);
}

static bool fires(const struct sys_rule *r, size_t i, uint64_t nth, uint64_t seed, int64_t now_ns)
{
	switch (r->when) {
	case SYS_WHEN_EVERY:
		return true;
	case SYS_WHEN_NTH:
		return nth == r->n;
	case SYS_WHEN_AFTER:
		return nth > r->n;
	case SYS_WHEN_PROB:
		/* 53 random bits as a double in [0, 1). */
		return (double)(sys_rand(seed, i, nth, SALT_PROB) >> 11) * 0x1p-53 < r->p;
	case SYS_WHEN_FROM:
		return now_ns >= r->from_ns;
	}
	return false;
}

static void fill(const struct sys_rule *r, size_t i, uint64_t nth, uint64_t seed,
		 const struct sys_call_info *c, struct sys_decision *d)
{
	*d = (struct sys_decision){ .action = r->action, .rule = i, .nth = nth };
	switch (r->action) {
	case SYS_ACT_ERRNO:
		d->err = r->err;
		break;
	case SYS_ACT_SHORT:
	case SYS_ACT_TORN:
		d->keep = sys_keep_bytes(r, i, nth, seed, c->len);
		d->zero_rest = r->zero_rest;
		d->crash = r->then_crash || r->action == SYS_ACT_TORN;
		break;
	case SYS_ACT_CRASH_BEFORE:
	case SYS_ACT_CRASH_AFTER:
		d->crash = true;
		break;
	case SYS_ACT_DELAY:
		d->delay_ns = r->delay_ns;
		break;
	case SYS_ACT_NONE:
		break;
	}
}

bool sys_decide(const struct sys_rule *v, size_t n, uint64_t *counts, uint64_t seed,
		const struct sys_call_info *c, struct sys_decision *d)
{
	bool fired = false;

	for (size_t i = 0; i < n; i++) {
		uint64_t nth;

		if (!sys_rule_matches(&v[i], c))
			continue;
		nth = __atomic_add_fetch(&counts[i], 1, __ATOMIC_RELAXED);
		if (!fired && fires(&v[i], i, nth, seed, c->now_ns)) {
			fill(&v[i], i, nth, seed, c, d);
			fired = true;
		}
	}
	return fired;
}

void sys_path_normalize(char *path)
{
	char *out = path, *p = path;

	while (*p) {
		char *end = strchrnul(p + (*p == '/'), '/');
		size_t n = (size_t)(end - p);

		if (n == 1 || (n == 2 && p[1] == '.')) { /* "/" or "/." */
		} else if (n == 3 && p[1] == '.' && p[2] == '.') {
			while (out > path && *--out != '/')
				;
		} else {
			memmove(out, p, n);
			out += n;
		}
		p = end;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

const char *sys_path_for_rules(const char *data_dir, const char *full)
{
	size_t n = strlen(data_dir);

	if (full[0] != '/')
		return NULL; /* "socket:[123]", "pipe:[4]", "anon_inode:..." */
	if (strncmp(full, data_dir, n) == 0 && (full[n] == '/' || !full[n]))
		return full[n] ? full + n + 1 : ".";
	return full;
}

/* A bool of the block as the byte it is: loading a bool that holds neither 0 nor 1 is
 * undefined, and the block's bytes are whatever the node's processes left there. */
static bool bool_byte_ok(const bool *b)
{
	unsigned char c;

	memcpy(&c, b, 1);
	return c <= 1;
}

/* A rule as sys_shimctl_arm copies it: its enums in range, its bools 0 or 1, its glob ended. */
static bool rule_usable(const struct sys_rule *r)
{
	return (unsigned)r->when <= SYS_WHEN_FROM && (unsigned)r->action <= SYS_ACT_DELAY &&
	       (unsigned)r->keep <= SYS_KEEP_RANDOM && bool_byte_ok(&r->zero_rest) &&
	       bool_byte_ok(&r->then_crash) && memchr(r->glob, 0, sizeof(r->glob));
}

bool sys_shim_block_usable(const struct sys_shim_block *b, uint32_t *n_rules)
{
	uint32_t n = __atomic_load_n(&b->n_rules, __ATOMIC_RELAXED);

	if (n > SYS_SHIM_MAX_RULES || !memchr(b->data_dir, 0, sizeof(b->data_dir)))
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!rule_usable(&b->rules[i]))
			return false;
	*n_rules = n;
	return true;
}

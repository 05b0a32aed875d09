/* The clock attachment: see attach.h. It checks before the drill starts that the skew can
 * be made here (libfaketime installed and the node's program dynamically linked; time
 * namespaces in the kernel and a node that starts as root, since entering one needs
 * CAP_SYS_ADMIN), and skews every incarnation started while a clock fault is armed. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/failpoint.h"
#include "common/units.h"
#include "faults/clock/attach.h"
#include "faults/sys/shimctl.h" /* sys_shim_fit: can a preloaded library reach the program */

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define FAKETIME_SO "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1" /* if glob finds none */

struct clock_attach {
	struct attach_host host;
	struct clock_skew skew; /* the union of what its faults ask */
	size_t fault;
	bool armed;
	unsigned skewed; /* incarnations started skewed */
	int64_t first_ns;
	bool starting_skewed; /* this start is skewed (before_start to after_start) */
	char offsets[128];    /* for /proc/self/timens_offsets, made before the fork */
	char faketime[32];    /* FAKETIME's value */
};

static struct clock_attach *of(struct node_attach *a)
{
	return (struct clock_attach *)a;
}

const char *clock_faketime_library(void)
{
	static char found[PATH_MAX];
	const char *e = getenv("CHAOSDRILL_FAKETIME");
	glob_t g;

	if (e && *e)
		return e;
	if (!found[0]) { /* Debian's, in the machine's multiarch folder */
		snprintf(found, sizeof(found), "%s", FAKETIME_SO);
		if (glob("/usr/lib/*/faketime/libfaketime.so.1", 0, NULL, &g) == 0 && g.gl_pathc)
			snprintf(found, sizeof(found), "%s", g.gl_pathv[0]);
		globfree(&g);
	}
	return found;
}

static int attach_new(const struct attach_host *host, struct node_attach **out)
{
	struct clock_attach *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->host = *host;
	c->first_ns = -1;
	*out = (struct node_attach *)c;
	return 0;
}

static int want(struct node_attach *a, const void *fault_state, size_t fault)
{
	struct clock_attach *c = of(a);
	const struct clock_skew *s = fault_state;

	if (c->skew.realtime || c->skew.monotonic) {
		char why[120];

		snprintf(why, sizeof(why),
			 "node %s has two clock faults; give it one with both offsets",
			 c->host.node);
		c->host.ops->cannot(c->host.h, why);
		return -EINVAL;
	}
	c->skew = *s;
	c->fault = fault;
	return 0;
}

static void seconds(char *buf, size_t len, int64_t ns)
{
	int64_t a = ns < 0 ? -ns : ns;

	snprintf(buf, len, "%s%" PRId64 ".%09" PRId64, ns < 0 ? "-" : "+", a / 1000000000,
		 a % 1000000000);
}

static int cannot(struct clock_attach *c, int err, const char *what)
{
	char why[600];

	snprintf(why, sizeof(why), "clock fault on %s: %s", c->host.node, what);
	c->host.ops->cannot(c->host.h, why);
	return err;
}

static int prepare(struct node_attach *a)
{
	struct clock_attach *c = of(a);
	enum sys_shim_fit fit;
	char what[600];
	int64_t m = c->skew.monotonic_ns;

	if (c->skew.realtime) {
		const char *so = clock_faketime_library();

		if (access(so, R_OK) < 0) {
			snprintf(
				what, sizeof(what),
				"offset: needs libfaketime, and %s is missing (%s): install the Debian package libfaketime",
				so, strerror(errno));
			return cannot(c, -ENOENT, what);
		}
		if (!c->host.program || sys_shim_fit(so, c->host.program, &fit) < 0 ||
		    fit != SYS_SHIM_FITS) {
			snprintf(
				what, sizeof(what),
				"offset: libfaketime cannot reach %s: it is %s (a realtime skew needs a dynamically linked program)",
				c->host.program ? c->host.program : c->host.argv[0],
				c->host.program ? sys_shim_fit_name(fit) : "not found");
			return cannot(c, -ENOEXEC, what);
		}
		seconds(c->faketime, sizeof(c->faketime), c->skew.realtime_ns);
	}
	if (c->skew.monotonic) {
		if (access("/proc/self/ns/time", F_OK) < 0)
			return cannot(
				c, -EOPNOTSUPP,
				"monotonic: this kernel has no time namespaces (Linux 5.6, CONFIG_TIME_NS)");
		if (c->host.user)
			return cannot(
				c, -EPERM,
				"monotonic: the node's time namespace is made as it starts, which needs root; its target runs it as another user");
		snprintf(c->offsets, sizeof(c->offsets),
			 "monotonic %" PRId64 " %" PRId64 "\nboottime %" PRId64 " %" PRId64 "\n",
			 m / 1000000000, m % 1000000000, m / 1000000000, m % 1000000000);
	}
	return 0;
}

/* In the node's child, right before exec (which enters the new time namespace). */
static int enter_timens(void *ud)
{
	const struct clock_attach *c = ud;
	size_t len = strlen(c->offsets);
	int fd, k = failpoint("clock.timens", -EPERM);

	if (k < 0)
		return k;
	if (unshare(CLONE_NEWTIME) < 0)
		return -errno;
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, c->offsets, len) != (ssize_t)len)
		k = -errno;
	close(fd);
	return k;
}

static int before_start(struct node_attach *a, struct attach_start *s)
{
	struct clock_attach *c = of(a);
	int k = 0;

	c->starting_skewed = c->armed;
	if (!c->armed)
		return 0;
	/* A target built with AddressSanitizer refuses to start with a library preloaded before
	 * its runtime; libfaketime wraps no allocator function, so that check does not apply. */
	if (c->skew.realtime &&
	    ((k = attach_start_setenv(s, "LD_PRELOAD", clock_faketime_library(), ':')) < 0 ||
	     (k = attach_start_setenv(s, "FAKETIME", c->faketime, 0)) < 0 ||
	     (k = attach_start_setenv(s, "FAKETIME_DONT_FAKE_MONOTONIC", "1", 0)) < 0 ||
	     (k = attach_start_setenv(s, "ASAN_OPTIONS", "verify_asan_link_order=0", 0)) < 0))
		return k;
	if (c->skew.monotonic)
		k = attach_start_pre_exec(s, enter_timens, c);
	return k;
}

/* "30s ahead", "2m behind" */
static void skew_text(char *buf, size_t len, int64_t ns)
{
	char d[32];

	units_format_duration(ns < 0 ? -ns : ns, d, sizeof(d));
	snprintf(buf, len, "%s %s", d, ns < 0 ? "behind" : "ahead");
}

static int after_start(struct node_attach *a, int spawn_result, int pidfd)
{
	struct clock_attach *c = of(a);
	char line[200], rt[48] = "", mono[48] = "";

	if (spawn_result < 0 || !c->starting_skewed)
		return 0;
	if (!c->skewed++)
		c->first_ns = c->host.ops->now(c->host.h);
	if (c->skew.realtime)
		skew_text(rt, sizeof(rt), c->skew.realtime_ns);
	if (c->skew.monotonic)
		skew_text(mono, sizeof(mono), c->skew.monotonic_ns);
	snprintf(line, sizeof(line), "clock fault: %s started with its clocks skewed:%s%s%s%s%s",
		 c->host.node, rt[0] ? " realtime " : "", rt, rt[0] && mono[0] ? "," : "",
		 mono[0] ? " monotonic and boottime " : "", mono);
	c->host.ops->note(c->host.h, c->host.ops->now(c->host.h), (int)c->fault, line, line);
	return 0;
}

int clock_attach_arm(struct node_attach *a, bool armed)
{
	if (!a)
		return -ENODEV;
	of(a)->armed = armed;
	return 0;
}

void clock_attach_effects(const struct node_attach *a, struct fault_effects *out)
{
	const struct clock_attach *c = (const struct clock_attach *)a;

	*out = (struct fault_effects){
		.first_ns = -1,
		.details = "",
		.none = "no incarnation of the node started while it was in",
		.hint = " (a clock fault acts from the node's next start: restart it while the fault is in)"
	};
	if (!c)
		return;
	out->count = c->skewed;
	out->first_ns = c->first_ns;
}

static void attach_free(struct node_attach *a)
{
	free(a);
}

const struct attach_ops clock_attach_ops = {
	.name = "clock",
	.order = 50,
	.new = attach_new,
	.want = want,
	.prepare = prepare,
	.before_start = before_start,
	.after_start = after_start,
	.free = attach_free,
};

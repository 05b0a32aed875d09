/* chaosdrill-faultfs: the fault file system's command line. Mounts a passthrough of a
 * backing directory with bad sectors, bit rot and power loss at a mount point, controlled
 * over a unix socket; or, as `ctl`, sends one command to a running one. Exit codes as the
 * harness's: 0 ok, 1 failed, 2 usage, 3 the machine cannot run it (no /dev/fuse). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "faults/faultfs/faultfs.h"

static const char usage[] =
	"usage: chaosdrill-faultfs [OPTIONS] MOUNTPOINT\n"
	"       chaosdrill-faultfs ctl SOCKET COMMAND [KEY=VALUE...]\n"
	"\n"
	"  --backing DIR        the directory served (default: MOUNTPOINT itself, opened\n"
	"                       before the mount covers it)\n"
	"  --cache MODE         volatile (writes reach DIR only on fsync; power-cut works)\n"
	"                       or passthrough (default)\n"
	"  --control SOCKET     unix socket for commands (arm-bad-range, bitrot, power-cut,\n"
	"                       delay, fsync-errno, status, stats, clear)\n"
	"  --events FILE        JSON lines of what it did (default: stdout; '-' stdout)\n"
	"  --ready-fd N         write \"ready\\n\" to fd N once mounted, then close it\n"
	"  --direct-io          every read and write reaches the file system (no page cache;\n"
	"                       512-byte bad sectors exact; shared mmap fails)\n"
	"  --on-exit MODE       flush (default: a clean stop syncs everything) or drop\n"
	"  --writeback-cache    the kernel buffers writes and sends them in large batches\n"
	"                       (4 KiB writes several times faster). Faults on reads stay\n"
	"                       exact (cached pages go when they are armed or cleared), but\n"
	"                       a partial write to a page not cached reads it first, as any\n"
	"                       page cache over a disk does: a bad read range there fails\n"
	"                       that write(2), and bits rotted there are written back. Write\n"
	"                       faults and write delays hit at writeback: write(2) succeeds\n"
	"                       and the error shows at the next fsync or close, as on a real\n"
	"                       disk. A power cut takes the kernel's file sizes back too,\n"
	"                       except a file's still open at the cut (the harness kills the\n"
	"                       node first)\n"
	"Runs until SIGINT, SIGTERM or SIGHUP, then unmounts.\n";

struct args {
	struct faultfs_opts opts;
	const char *mountpoint, *control, *events;
	int ready_fd;
};

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "backing", required_argument, NULL, 'b' },
		{ "cache", required_argument, NULL, 'c' },
		{ "control", required_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'e' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "direct-io", no_argument, NULL, 'd' },
		{ "writeback-cache", no_argument, NULL, 'w' },
		{ "on-exit", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			a->opts.backing = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "volatile") && strcmp(optarg, "passthrough"))
				return -EINVAL;
			a->opts.volatile_cache = strcmp(optarg, "volatile") == 0;
			break;
		case 's':
			a->control = optarg;
			break;
		case 'e':
			a->events = optarg;
			break;
		case 'r':
			a->ready_fd = (int)strtol(optarg, &end, 10);
			if (*end || a->ready_fd < 0)
				return -EINVAL;
			break;
		case 'd':
			a->opts.direct_io = true;
			break;
		case 'w':
			a->opts.writeback = true;
			break;
		case 'x':
			if (strcmp(optarg, "flush") && strcmp(optarg, "drop"))
				return -EINVAL;
			a->opts.drop_on_exit = strcmp(optarg, "drop") == 0;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc - 1)
		return -EINVAL;
	a->mountpoint = argv[optind];
	if (!a->opts.backing)
		a->opts.backing = a->mountpoint;
	return 0;
}

static int ctl_main(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	if (argc < 4) {
		fputs(usage, stderr);
		return 2;
	}
	for (int i = 3; i < argc; i++)
		strbuf_appendf(&sb, "%s%s", i > 3 ? " " : "", argv[i]);
	r = strbuf_failed(&sb) ? -ENOMEM : faultfs_ctl_send(argv[2], sb.buf);
	strbuf_release(&sb);
	if (r == -ENOENT || r == -ECONNREFUSED || r == -EPIPE)
		fprintf(stderr, "chaosdrill-faultfs: %s: %s\n", argv[2], strerror(-r));
	return r < 0 ? 1 : 0;
}

static int serve(struct args *a)
{
	struct faultfs *fs = NULL;
	int r = faultfs_new(&a->opts, &fs);

	if (r < 0) {
		fprintf(stderr, "chaosdrill-faultfs: backing directory %s: %s\n", a->opts.backing,
			strerror(-r));
		return 1;
	}
	if (a->control && (r = faultfs_ctl_start(fs, a->control)) < 0) {
		fprintf(stderr, "chaosdrill-faultfs: control socket %s: %s\n", a->control,
			strerror(-r));
		faultfs_ctl_stop(fs);
		faultfs_free(fs);
		return 1;
	}
	r = faultfs_fuse_run(fs, a->mountpoint, a->ready_fd);
	faultfs_ctl_stop(fs);
	if (r == -ENODEV)
		fprintf(stderr, "chaosdrill-faultfs: /dev/fuse is missing or not usable: load the "
				"fuse module (modprobe fuse) or give this container /dev/fuse\n");
	else if (r < 0)
		fprintf(stderr, "chaosdrill-faultfs: mount at %s: %s\n", a->mountpoint,
			strerror(-r));
	if (faultfs_shutdown(fs) < 0 && r == 0)
		r = -EIO;
	if (a->control)
		unlink(a->control);
	faultfs_free(fs);
	return r == -ENODEV ? 3 : r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct args a = { .ready_fd = -1 };
	FILE *ev = NULL;
	int r;

	signal(SIGPIPE, SIG_IGN); /* a control client that went away is not our end */
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc, argv);
	if (parse(argc, argv, &a) < 0) {
		fputs(usage, stderr);
		return 2;
	}
	if (a.events && strcmp(a.events, "-")) {
		ev = fopen(a.events, "ae");
		if (!ev) {
			fprintf(stderr, "chaosdrill-faultfs: %s: %s\n", a.events, strerror(errno));
			return 1;
		}
	}
	a.opts.events = ev ? ev : stdout;
	r = serve(&a);
	if (ev)
		fclose(ev);
	return r;
}

/* lab_gc: a process holding a lab is SIGKILLed (with a stray process that escaped its
 * parent-death signal in a node's cgroup); lab_gc removes what it left, leaves the lab of a
 * live harness alone, and the machine is as clean as before. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/timeutil.h"
#include "tests/integration/lab/lab_test.h"

struct held {
	char name[32];
	char cgroup[4096]; /* the lab's cgroup (parent of the node's), "" without */
	pid_t holders[3], stray, init;
	unsigned long netns[3];
};

/* In the child: a lab with two nodes, an incarnation, a helper and a stray; reports, sleeps. */
static _Noreturn void hold_lab(int wfd, const char *dir)
{
	const char *argv[] = { t_self(), "tree", NULL };
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct lab_node *a, *b;
	struct held h = { 0 };
	struct lab *lab = t_lab_new(LAB_CGROUP_AUTO);
	char p[4200];
	int pidfd, fd;
	pid_t pid;

	CHECK(lab_node_add(lab, "a", dir, &a) == 0 && lab_node_add(lab, "b", dir, &b) == 0, "add");
	cmd.argv = argv;
	CHECK(node_spawn(a, &cmd, &h.init, &pidfd) == 0, "spawn");
	CHECK(node_exec(b, &cmd, &pid, &pidfd) == 0, "exec");
	snprintf(h.name, sizeof(h.name), "%s", lab_name(lab));
	if (node_cgroup(a)) {
		snprintf(h.cgroup, sizeof(h.cgroup), "%s", node_cgroup(a));
		*strrchr(h.cgroup, '/') = '\0';
		h.stray = fork();
		if (h.stray == 0) {
			for (;;)
				pause();
		}
		snprintf(p, sizeof(p), "%s/cgroup.procs", node_cgroup(a));
		fd = open(p, O_WRONLY | O_CLOEXEC);
		CHECK(fd >= 0 && dprintf(fd, "%d", (int)h.stray) > 0, "move stray");
		close(fd);
	}
	h.holders[0] = lab_holder_pid(lab);
	h.holders[1] = node_holder_pid(a);
	h.holders[2] = node_holder_pid(b);
	CHECK(lab_wait_ready(lab) == 0, "ready");
	for (int i = 0; i < 3; i++)
		h.netns[i] = t_ns_ino(h.holders[i], "net");
	CHECK(write(wfd, &h, sizeof(h)) == (ssize_t)sizeof(h), "report");
	for (;;)
		pause();
}

static pid_t start_holder(struct held *h, const char *dir)
{
	int p[2];
	pid_t pid;

	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		/* A failed check must not leave this lab running after the test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		hold_lab(p[1], dir);
	}
	close(p[1]);
	if (read(p[0], h, sizeof(*h)) != (ssize_t)sizeof(*h)) {
		int st = 0;

		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
			exit(77); /* the child said why */
		CHECK(false, "child failed: status %#x", st);
	}
	close(p[0]);
	return pid;
}

static int removed;

static void report(void *ud, const char *what, const char *object)
{
	printf("# gc: %s %s\n", what, object);
	if (strcmp(what, "rmdir") == 0)
		removed++;
}

static bool all_gone(const pid_t *gone, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (gone[i] > 0 && kill(gone[i], 0) == 0)
			return false;
	return true;
}

/* Reaps what came back to us (we are the subreaper): everything but `keep`, until every
 * pid of gone[] is reaped. A SIGKILLed process takes a moment to exit (the init of a pid
 * namespace waits for its members), so "no zombie pending right now" is not the end. */
static void reap_orphans_except(pid_t keep, const pid_t *gone, size_t n)
{
	int64_t end = time_mono_ns() + 5000000000LL;
	siginfo_t si;

	while (time_mono_ns() < end) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
			return;
		if (si.si_pid == 0) {
			if (keep && all_gone(gone, n)) /* only the live lab is left */
				return;
			usleep(2000);
			continue;
		}
		waitpid(si.si_pid, NULL, 0);
	}
	CHECK(false, "children left unreaped");
}

int main(int argc, char **argv)
{
	struct t_snapshot before, after;
	struct held dead, live;
	char *dir;
	pid_t victim, alive;
	int r, i;

	t_dispatch(argc, argv);
	t_require_root();
	/* Leftovers of earlier crashed runs would be counted below: clear them first. */
	lab_gc(NULL, NULL);
	t_snapshot_take(&before);
	dir = t_data_dir();
	victim = start_holder(&dead, dir);
	alive = start_holder(&live, dir);
	printf("# victim %d holds %s (stray %d), live %d holds %s\n", (int)victim, dead.name,
	       (int)dead.stray, (int)alive, live.name);
	CHECK(kill(victim, SIGKILL) == 0 && waitpid(victim, NULL, 0) == victim, "SIGKILL victim");

	removed = 0;
	r = lab_gc(report, NULL);
	CHECK(r >= 0, "lab_gc: %s", strerror(-r));
	{
		const pid_t gone[] = { dead.holders[0], dead.holders[1], dead.holders[2], dead.init,
				       dead.stray };

		reap_orphans_except(alive, gone, ARRAY_SIZE(gone));
	}
	/* >= 1: a crashed harness of some other test may be collected too. */
	CHECK(!dead.cgroup[0] || (r >= 1 && removed > 0), "gc removed %d labs", r);
	CHECK(!dead.cgroup[0] || access(dead.cgroup, F_OK) < 0, "%s left", dead.cgroup);
	CHECK(!live.cgroup[0] || access(live.cgroup, F_OK) == 0, "live lab %s removed", live.name);
	CHECK(kill(alive, 0) == 0 && kill(live.holders[0], 0) == 0, "live lab's processes killed");
	for (i = 0; i < 3; i++) {
		CHECK(kill(dead.holders[i], 0) < 0, "holder %d of the dead lab runs",
		      dead.holders[i]);
		CHECK(!t_ns_in_use("net", dead.netns[i]), "netns of the dead lab in use");
	}
	CHECK(kill(dead.init, 0) < 0, "incarnation of the dead lab runs");
	CHECK(!dead.stray || kill(dead.stray, 0) < 0, "stray of the dead lab runs");
	OK("lab_gc after SIGKILL: %d lab removed, a live harness's lab untouched", r);

	CHECK(kill(alive, SIGKILL) == 0 && waitpid(alive, NULL, 0) == alive, "SIGKILL live");
	r = lab_gc(report, NULL);
	reap_orphans_except(0, NULL, 0);
	CHECK(r >= 0 && (!live.cgroup[0] || access(live.cgroup, F_OK) < 0), "second gc");
	t_snapshot_take(&after);
	CHECK(t_snapshot_same(&before, &after), "host changed");
	CHECK(lab_gc(report, NULL) >= 0, "gc again");
	OK("the machine is as clean as before (links, mounts, netns, cgroups)");
	t_rm_rf(dir);
	free(dir);
	t_snapshot_free(&before);
	t_snapshot_free(&after);
	return 0;
}

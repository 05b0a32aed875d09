/* The lab under each cgroup mode this machine offers (v2, v1 freezer, none: SIGSTOP), plus
 * helpers in the lab netns, run-with-timeout, dropping to another user, and clear errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/timeutil.h"
#include "tests/integration/lab/lab_test.h"

#define SEC 1000000000LL

static unsigned long counter(const char *file)
{
	char *s = NULL;
	size_t len;
	unsigned long v = 0;

	if (fs_read_all(file, 64, &s, &len) == 0)
		v = strtoul(s, NULL, 10);
	free(s);
	return v;
}

static void check_freeze(struct lab_node *n, const char *dir)
{
	char file[512];
	const char *argv[] = { t_self(), "count", LAB_DATA_PATH "/count", NULL };
	struct lab_cmd cmd = LAB_CMD_INIT;
	enum lab_freeze_how how;
	unsigned long a, b;
	int pidfd, st;
	pid_t pid;

	snprintf(file, sizeof(file), "%s/count", dir);
	cmd.argv = argv;
	CHECK(node_spawn(n, &cmd, &pid, &pidfd) == 0, "spawn counter");
	usleep(100000);
	CHECK(node_freeze(n, true, &how) == 0, "freeze");
	usleep(20000);
	a = counter(file);
	usleep(150000);
	b = counter(file);
	CHECK(a > 0 && a == b, "counter moved while frozen: %lu -> %lu", a, b);
	CHECK(node_freeze(n, false, &how) == 0, "thaw");
	usleep(150000);
	CHECK(counter(file) > b, "counter stuck after thaw");
	CHECK(node_freeze(n, true, &how) == 0, "freeze again");
	CHECK(node_kill(n) == 0, "kill a frozen node");
	CHECK(lab_proc_wait(pidfd, 5 * SEC, &st) == 0 && WIFSIGNALED(st), "reap");
	close(pidfd);
	CHECK(node_freeze(n, true, &how) == -ESRCH, "freeze with nothing running");
	OK("freeze/thaw with %s; kill of a frozen node", lab_freeze_how_name(how));
}

static void check_helpers(struct lab *lab, struct lab_node *n)
{
	char addr[INET_ADDRSTRLEN];
	const char *listen[] = { t_self(), "listen", "7000", NULL };
	const char *conn[] = { t_self(), "connect", addr, "7000", node_name(n), NULL };
	const char *id[] = { "id", "-u", NULL };
	const char *slp[] = { "sleep", "10", NULL };
	const char *nope[] = { "/nonexistent/prog", NULL };
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct lab_run_result res;
	int64_t t0;
	int lpidfd, pidfd, st;
	pid_t pid;

	inet_ntop(AF_INET, &(struct in_addr){ node_addr(n).s_addr }, addr, sizeof(addr));
	cmd.argv = listen;
	CHECK(node_spawn(n, &cmd, &pid, &lpidfd) == 0, "listener");
	free(t_run_ok(lab, NULL, conn));
	OK("lab_exec: a helper in the lab netns reaches node %s at %s", node_name(n), addr);

	cmd.argv = id;
	cmd.user = "nobody";
	CHECK(lab_run(lab, n, &cmd, 5 * SEC, &res) == 0, "run id");
	CHECK(WIFEXITED(res.status) && strcmp(res.output, "65534\n") == 0, "id -u: %s", res.output);
	free(res.output);
	OK("user: nobody (uid 65534) inside the node");

	cmd.argv = slp;
	cmd.user = NULL;
	t0 = time_mono_ns();
	CHECK(lab_run(lab, n, &cmd, SEC / 5, &res) == 0, "run sleep");
	CHECK(res.timed_out && time_mono_ns() - t0 < 2 * SEC, "timeout");
	free(res.output);
	OK("lab_run kills a helper at its timeout (%lld ms)",
	   (long long)((time_mono_ns() - t0) / 1000000));

	cmd.argv = nope;
	CHECK(node_exec(n, &cmd, &pid, &pidfd) == -ENOENT && *lab_last_error(), "missing program");
	OK("missing program: -ENOENT, \"%s\"", lab_last_error());
	CHECK(node_kill(n) == 0, "kill");
	CHECK(lab_proc_wait(lpidfd, 5 * SEC, &st) == 0 && WIFSIGNALED(st), "reap listener");
	close(lpidfd);
}

static int modes_run;

static void run_mode(enum lab_cgroup_mode mode, const char *label)
{
	struct lab_options opt = LAB_OPTIONS_INIT;
	struct lab *lab = NULL;
	struct lab_node *n;
	char *dir = t_data_dir();
	int r;

	opt.cgroup = mode;
	opt.keep_paths = t_keep_paths();
	r = lab_new(&opt, &lab);
	if (r == 0)
		r = lab_wait_ready(lab); /* the lab netns is wired in the background */
	if (r < 0) {
		printf("ok - # SKIP cgroup mode %s: %s\n", label, lab_last_error());
		lab_free(lab);
		free(dir);
		return;
	}
	printf("# lab %s with cgroups %s\n", lab_name(lab), lab_cgroup_kind(lab));
	modes_run++;
	CHECK(lab_node_add(lab, "solo", dir, &n) == 0, "add");
	CHECK(lab_node_add(lab, "solo", dir, &n) == -EEXIST, "duplicate name");
	CHECK(lab_node_add(lab, "bad/name", dir, &n) == -EINVAL, "bad name");
	n = lab_node_find(lab, "solo");
	check_freeze(n, dir);
	if (mode == LAB_CGROUP_AUTO)
		check_helpers(lab, n);
	lab_free(lab);
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "unreaped children");
	t_rm_rf(dir);
	free(dir);
}

int main(int argc, char **argv)
{
	struct lab_options opt = LAB_OPTIONS_INIT;
	struct lab *lab = NULL;

	t_dispatch(argc, argv);
	t_require_root();
	opt.subnet = "10.213.0.0/33";
	CHECK(lab_new(&opt, &lab) == -EINVAL && strstr(lab_last_error(), "subnet"), "bad subnet");
	OK("bad subnet: -EINVAL, \"%s\"", lab_last_error());
	run_mode(LAB_CGROUP_AUTO, "auto");
	run_mode(LAB_CGROUP_V2, "v2");
	run_mode(LAB_CGROUP_V1, "v1");
	run_mode(LAB_CGROUP_NONE, "none");
	if (modes_run == 0) {
		printf("SKIP: no lab could be made here\n");
		return 77;
	}
	return 0;
}

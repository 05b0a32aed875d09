/* The lab end to end: a 3-node lab where every node reaches every other and the bridge by
 * TCP, hostnames, the data dir mount, restart into a new pid namespace on the same address,
 * freeze/thaw, kill of a whole node tree, and nothing left on the host after lab_free. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "tests/integration/lab/lab_test.h"

#define NODES 3
#define PORT 7000
#define BRIDGE_PORT 7001
#define SEC 1000000000LL

static const char *const names[NODES] = { "n1", "n2", "n3" };

/* The harness side of the lab: a listener on the bridge address, made with lab_socket. */
static void *bridge_listener(void *arg)
{
	int s = *(int *)arg, c;

	while ((c = accept4(s, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		dprintf(c, "bridge\n");
		close(c);
	}
	return NULL;
}

static int start_bridge_listener(struct lab *lab, pthread_t *t)
{
	static int s;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(BRIDGE_PORT),
				  .sin_addr = lab_bridge_addr(lab) };

	s = lab_socket(lab, AF_INET, SOCK_STREAM);
	CHECK(s >= 0, "lab_socket");
	CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC, "lab_socket is close-on-exec");
	CHECK(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind bridge: %m");
	CHECK(listen(s, 64) == 0, "listen");
	pthread_create(t, NULL, bridge_listener, &s);
	return s;
}

static void spawn_listener(struct lab_node *n, int *pidfd)
{
	char port[16];
	const char *argv[] = { t_self(), "listen", port, NULL };
	struct lab_cmd cmd = LAB_CMD_INIT;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", PORT);
	cmd.argv = argv;
	cmd.stderr_fd = 2;
	CHECK(node_spawn(n, &cmd, &pid, pidfd) == 0, "spawn listener in %s", node_name(n));
	CHECK(pid > 0 && node_pid(n) == pid, "pid");
}

static void check_mesh(struct lab *lab, struct lab_node **n)
{
	char addr[INET_ADDRSTRLEN], port[16];
	struct in_addr a;
	int i, j;

	for (i = 0; i < NODES; i++) {
		for (j = 0; j <= NODES; j++) {
			const char *argv[] = { t_self(), "connect", addr, port, NULL, NULL };

			if (j == i)
				continue;
			a = j < NODES ? node_addr(n[j]) : lab_bridge_addr(lab);
			inet_ntop(AF_INET, &a, addr, sizeof(addr));
			snprintf(port, sizeof(port), "%d", j < NODES ? PORT : BRIDGE_PORT);
			argv[4] = j < NODES ? names[j] : "bridge";
			free(t_run_ok(lab, n[i], argv));
		}
	}
	OK("each node reaches every other node and the bridge by TCP; hostnames are node names");
}

/* The lab has no route out: no default route in a node nor in the lab netns, and the only
 * interfaces are lo and the lab's own. */
static void check_no_route(struct lab *lab, struct lab_node *n)
{
	const char *routes[] = { "ip", "-4", "route", "show", "default", NULL };
	const char *links[] = { "ip", "-o", "link", "show", NULL };
	char *out;

	out = t_run_ok(lab, n, routes);
	CHECK(out[0] == '\0', "default route in %s: %s", node_name(n), out);
	free(out);
	out = t_run_ok(lab, NULL, routes);
	CHECK(out[0] == '\0', "default route in the lab: %s", out);
	free(out);
	out = t_run_ok(lab, n, links);
	CHECK(strncmp(out, "1: lo:", 6) == 0 && strstr(out, "\n2: eth0@") && !strstr(out, "\n3: "),
	      "links in %s:\n%s", node_name(n), out);
	free(out);
	OK("no route out: no default route in node or lab; a node has only lo and eth0");
}

/* Workload clients live in the lab: connect from the harness through lab_socket. */
static void check_from_lab(struct lab *lab, struct lab_node *n, const char *want)
{
	char line[128];
	int fd = lab_socket(lab, AF_INET, SOCK_STREAM), i, r = -1;

	CHECK(fd >= 0, "lab_socket");
	for (i = 0; i < 300 && r != 0; i++) {
		r = t_connect(fd, node_addr(n), PORT, 1000);
		if (r != 0) {
			close(fd);
			usleep(10000);
			fd = lab_socket(lab, AF_INET, SOCK_STREAM);
		}
	}
	CHECK(r == 0, "connect %s from the lab: %s", node_name(n), strerror(-r));
	CHECK(t_read_line(fd, line, sizeof(line), 3000) == 0 && strcmp(line, want) == 0,
	      "answer '%s'", line);
	close(fd);
}

static void check_data(struct lab *lab, struct lab_node *n, const char *dir)
{
	const char *argv[] = { t_self(), "info", NULL };
	char p[512], *out, *mi;
	size_t len;

	snprintf(p, sizeof(p), "%s/from-host", dir);
	CHECK(fs_write_atomic(p, "hello", 5, 0644) == 0, "write %s", p);
	out = t_run_ok(lab, n, argv);
	CHECK(strstr(out, "datamount=1") && strstr(out, "from_host=hello") &&
		      strstr(out, "tmpfs_tmp=1") && strstr(out, "pid=1\n"),
	      "node view:\n%s", out);
	free(out);
	snprintf(p, sizeof(p), "%s/from-node", dir);
	CHECK(fs_read_all(p, 4096, &out, &len) == 0 && strcmp(out, node_name(n)) == 0,
	      "node's write seen on the host");
	free(out);
	CHECK(fs_read_all("/proc/self/mountinfo", 1 << 22, &mi, &len) == 0, "mountinfo");
	CHECK(!strstr(mi, " " LAB_DATA_PATH " "), "data mount leaked to the host");
	free(mi);
	OK("data dir bind-mounted at %s in the node, not on the host; /tmp private", LAB_DATA_PATH);
}

/* Kill the listener, start an incarnation that reports what it sees. */
static void check_restart(struct lab *lab, struct lab_node *n, int *pidfd, const char *dir)
{
	const char *argv[] = { t_self(), "info", NULL };
	unsigned long old_ns = t_ns_ino(node_pid(n), "pid");
	char log[512], want[64], *out;
	struct lab_cmd cmd = LAB_CMD_INIT;
	int st, fd, r;
	size_t len;
	pid_t pid;

	CHECK(node_spawn(n, &cmd, &pid, &fd) == -EBUSY, "spawn while running is EBUSY");
	CHECK(node_kill(n) == 0, "node_kill");
	CHECK(lab_proc_wait(*pidfd, 5 * SEC, &st) == 0 && WIFSIGNALED(st) && WTERMSIG(st) == 9,
	      "killed by 9: %#x", st);
	close(*pidfd);
	snprintf(log, sizeof(log), "%s/info.log", dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cmd.argv = argv;
	cmd.stdout_fd = fd;
	CHECK(node_spawn(n, &cmd, &pid, pidfd) == 0, "respawn");
	close(fd);
	CHECK(lab_proc_wait(*pidfd, 5 * SEC, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "info exit %#x", st);
	close(*pidfd);
	r = fs_read_all(log, 1 << 16, &out, &len);
	snprintf(want, sizeof(want), "addr=%s\n", inet_ntoa(node_addr(n)));
	CHECK(r == 0 && strstr(out, "pid=1\n") && strstr(out, want), "restart view:\n%s", out);
	CHECK(!strstr(out, "pidns=") || old_ns != 0, "old pid ns known");
	{
		char ns[64];

		snprintf(ns, sizeof(ns), "pidns=pid:[%lu]", old_ns);
		CHECK(!strstr(out, ns), "same pid ns after restart:\n%s", out);
	}
	free(out);
	spawn_listener(n, pidfd);
	check_from_lab(lab, n, node_name(n));
	OK("restart: new pid ns (pid 1 inside) on the same address %s", inet_ntoa(node_addr(n)));
}

static void check_freeze(struct lab *lab, struct lab_node *n)
{
	enum lab_freeze_how how;
	char line[128];
	int fd = lab_socket(lab, AF_INET, SOCK_STREAM);

	CHECK(node_freeze(n, true, &how) == 0, "freeze");
	/* The kernel completes the handshake; the frozen listener never answers. */
	CHECK(t_connect(fd, node_addr(n), PORT, 2000) == 0, "connect to frozen node");
	CHECK(t_read_line(fd, line, sizeof(line), 300) == -ETIMEDOUT, "frozen node answered");
	CHECK(node_freeze(n, false, &how) == 0, "thaw");
	CHECK(t_read_line(fd, line, sizeof(line), 3000) == 0 && strcmp(line, node_name(n)) == 0,
	      "thawed node answers");
	close(fd);
	OK("freeze stops the node, thaw resumes it (%s)", lab_freeze_how_name(how));
}

static void check_kill_tree(struct lab_node *n, int *pidfd)
{
	const char *argv[] = { t_self(), "tree", NULL };
	struct lab_cmd cmd = LAB_CMD_INIT;
	pid_t pid, members[16];
	int st, i, count = 0;
	unsigned long ns;

	CHECK(node_kill(n) == 0, "kill listener");
	CHECK(lab_proc_wait(*pidfd, 5 * SEC, &st) == 0, "reap listener");
	close(*pidfd);
	cmd.argv = argv;
	CHECK(node_spawn(n, &cmd, &pid, pidfd) == 0, "spawn tree");
	ns = t_ns_ino(pid, "pid");
	for (i = 0; i < 500 && count < 4; i++) {
		DIR *d = opendir("/proc");
		struct dirent *e;

		count = 0;
		while ((e = readdir(d)))
			if (atoi(e->d_name) > 0 && t_ns_ino(atoi(e->d_name), "pid") == ns &&
			    count < 16)
				members[count++] = atoi(e->d_name);
		closedir(d);
		usleep(10000);
	}
	CHECK(count == 4, "tree has 4 processes, saw %d", count);
	CHECK(node_kill(n) == 0, "node_kill");
	CHECK(lab_proc_wait(*pidfd, 5 * SEC, &st) == 0 && WIFSIGNALED(st), "reap tree");
	close(*pidfd);
	*pidfd = -1;
	for (i = 0; i < count; i++)
		CHECK(kill(members[i], 0) < 0 && errno == ESRCH, "pid %d survived", members[i]);
	CHECK(!t_ns_in_use("pid", ns), "pid ns still in use");
	OK("kill takes the whole node tree down (%d processes)", count);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	struct t_snapshot before, after;
	struct lab_node *n[NODES];
	char *dirs[NODES], cg[4096] = "";
	unsigned long netns[NODES + 1];
	pid_t holders[NODES + 1];
	int pidfd[NODES], i, s, probe[2], fds_before;
	pthread_t t;
	struct lab *lab;

	t_dispatch(argc, argv);
	t_require_root();
	t_snapshot_take(&before);
	fds_before = count_fds();
	CHECK(pipe2(probe, O_CLOEXEC) == 0, "pipe");
	lab = t_lab_new(LAB_CGROUP_AUTO);
	printf("# lab %s, cgroups %s\n", lab_name(lab), lab_cgroup_kind(lab));
	for (i = 0; i < NODES; i++) {
		dirs[i] = t_data_dir();
		CHECK(lab_node_add(lab, names[i], dirs[i], &n[i]) == 0, "add %s", names[i]);
		CHECK(lab_node_find(lab, names[i]) == n[i], "find");
	}
	CHECK(lab_wait_ready(lab) == 0, "ready");
	close(probe[1]);
	CHECK(poll(&(struct pollfd){ .fd = probe[0], .events = POLLIN }, 1, 1000) == 1 &&
		      read(probe[0], &i, 1) == 0,
	      "a holder kept a copy of the harness's pipe");
	close(probe[0]);
	OK("holders keep no copy of the harness's fds (a pipe reaches EOF)");
	for (i = 0; i < NODES; i++)
		holders[i] = node_holder_pid(n[i]);
	holders[NODES] = lab_holder_pid(lab);
	for (i = 0; i <= NODES; i++) {
		netns[i] = t_ns_ino(holders[i], "net");
		CHECK(netns[i] != t_ns_ino(getpid(), "net"), "node netns is the host's");
	}
	if (node_cgroup(n[0]))
		snprintf(cg, sizeof(cg), "%s", node_cgroup(n[0]));
	s = start_bridge_listener(lab, &t);
	for (i = 0; i < NODES; i++)
		spawn_listener(n[i], &pidfd[i]);
	check_mesh(lab, n);
	for (i = 0; i < NODES; i++)
		check_from_lab(lab, n[i], names[i]);
	OK("the harness reaches every node from the lab netns (lab_socket)");
	check_no_route(lab, n[0]);
	check_data(lab, n[0], dirs[0]);
	check_restart(lab, n[0], &pidfd[0], dirs[0]);
	check_freeze(lab, n[2]);
	check_kill_tree(n[1], &pidfd[1]);

	lab_free(lab);
	shutdown(s, SHUT_RDWR);
	pthread_join(t, NULL);
	close(s);
	for (i = 0; i <= NODES; i++) {
		CHECK(kill(holders[i], 0) < 0 && errno == ESRCH, "holder %d alive", holders[i]);
		CHECK(!t_ns_in_use("net", netns[i]), "netns %lu still in use", netns[i]);
	}
	for (i = 0; i < NODES; i++)
		if (pidfd[i] >= 0)
			close(pidfd[i]);
	CHECK(!cg[0] || access(cg, F_OK) < 0, "cgroup %s left", cg);
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "unreaped children");
	CHECK(count_fds() == fds_before, "fds leaked: %d -> %d", fds_before, count_fds());
	t_snapshot_take(&after);
	CHECK(t_snapshot_same(&before, &after), "host changed");
	OK("after lab_free: no process, cgroup, mount or namespace left; host links, mounts, netns unchanged");
	for (i = 0; i < NODES; i++) {
		t_rm_rf(dirs[i]);
		free(dirs[i]);
	}
	t_snapshot_free(&before);
	t_snapshot_free(&after);
	return 0;
}

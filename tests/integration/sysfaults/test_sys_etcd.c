/* The seccomp supervisor against a Go binary: Debian's etcd (a single member on 127.0.0.1)
 * runs under a filter whose rule tears a write to its WAL and kills it; `etcdctl put`s drive
 * writes until the tear lands. Restarted without the filter, etcd must refuse to start with
 * its WAL CRC error. Exits 77 when etcd or etcdctl is not installed (Debian: etcd-server,
 * etcd-client) or the kernel cannot supervise syscalls.
 *
 * Why keep 48 bytes: each put is one write(2) of 96 bytes to the WAL, an entry record (an
 * 8-byte frame and 48 bytes of data with padding) then a hard-state record. Cutting after 48
 * bytes drops the entry's last data byte and the whole state record. etcd repairs a tail it
 * can prove torn (a 512-byte sector chunk of the last record that is all zeros, see its
 * decoder's isTornEntry); it cannot here unless a sector boundary falls exactly at the cut
 * (about 1 in 64, the offsets depend on the ports in the member ids), so the case retries
 * with the next write a few times before it fails. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cfg.h"
#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/linux.h"
#include "common/timeutil.h"
#include "faults/sys/filter.h"
#include "faults/sys/supervisor.h"
#include "scenarios/parser/yaml_load.h"

#define SEC 1000000000LL
#define MAX_PUTS 300

static char etcd[256], etcdctl[256], dir[64], data[128];
static int client_port, peer_port;

/* A child we started: its pid and a pidfd to poll. */
struct proc {
	pid_t pid;
	int pidfd;
};

static bool find_bin(const char *name, char *out, size_t len)
{
	const char *dirs[] = { "/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin" };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(out, len, "%s/%s", dirs[i], name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* A port the kernel just handed out on 127.0.0.1 (free, barring a race). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	return ntohs(a.sin_port);
}

static struct sys_rules *rules(const char *yaml)
{
	struct cfg_node *tree = NULL;
	struct sys_rules *rs = NULL;
	struct cd_error err;

	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, &err), 0);
	if (sys_rules_parse(tree, &rs, &err) < 0)
		fail_msg("%d:%d: %s", err.line, err.col, err.msg);
	cfg_node_free(tree);
	return rs;
}

/* In the child: stdout and stderr to log (or /dev/null), the filter if any, then exec. */
static _Noreturn void exec_child(const char *log, const struct sys_filter *f, int sock,
				 const char *const *argv)
{
	int out = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int fd;

	if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(125);
	if (f) {
		fd = sys_filter_install(f);
		if (fd < 0 || sys_fd_send(sock, fd) < 0)
			_exit(126);
		close(fd);
	}
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static struct proc spawn(const char *log, const struct sys_filter *f, int sock,
			 const char *const *argv)
{
	struct proc p;

	p.pid = fork();
	assert_true(p.pid >= 0);
	if (p.pid == 0)
		exec_child(log, f, sock, argv);
	p.pidfd = sys_pidfd_open(p.pid, 0);
	assert_true(p.pidfd >= 0);
	return p;
}

/* Reaps p (SIGKILLed first with kill), returns its wait status. */
static int reap(struct proc *p, bool kill_it)
{
	int status;

	if (kill_it)
		kill(p->pid, SIGKILL);
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	close(p->pidfd);
	p->pid = 0;
	p->pidfd = -1;
	return status;
}

static struct proc start_etcd(const char *log, const struct sys_filter *f, int sock)
{
	char curl[64], purl[64], cluster[80];
	const char *argv[] = { etcd,	"--name",
			       "n1",	"--data-dir",
			       data,	"--listen-client-urls",
			       curl,	"--advertise-client-urls",
			       curl,	"--listen-peer-urls",
			       purl,	"--initial-advertise-peer-urls",
			       purl,	"--initial-cluster",
			       cluster, NULL };

	snprintf(curl, sizeof(curl), "http://127.0.0.1:%d", client_port);
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", peer_port);
	snprintf(cluster, sizeof(cluster), "n1=%s", purl);
	return spawn(log, f, sock, argv);
}

static struct proc start_put(int i)
{
	char ep[64], key[32], val[32];
	const char *argv[] = {
		etcdctl, ep, "--dial-timeout=2s", "--command-timeout=3s", "put", key, val, NULL
	};

	snprintf(ep, sizeof(ep), "--endpoints=127.0.0.1:%d", client_port);
	snprintf(key, sizeof(key), "key%04d", i);
	snprintf(val, sizeof(val), "value%04d", i);
	return spawn(NULL, NULL, -1, argv);
}

/* Supervises etcd while puts run one after another, until etcd is gone (60 s at most).
 * Returns the number of injections copied to inj (at most one is expected). */
static size_t drive(struct sys_supervisor *s, struct proc *node, struct sys_injection *inj,
		    int *puts, int *acked)
{
	int64_t deadline = time_mono_ns() + 60 * SEC;
	struct proc put = { 0, -1 };
	size_t n = 0;

	for (*puts = *acked = 0;;) {
		struct pollfd p[3] = { { sys_supervisor_fd(s), POLLIN, 0 },
				       { node->pidfd, POLLIN, 0 },
				       { put.pidfd, POLLIN, 0 } };
		struct sys_injection cur;
		int t = sys_supervisor_timeout_ms(s), r;

		if (!put.pid && *puts < MAX_PUTS) {
			put = start_put(++*puts);
			p[2].fd = put.pidfd;
		}
		assert_true(poll(p, 3, t < 0 || t > 100 ? 100 : t) >= 0);
		r = sys_supervisor_handle(s, &cur);
		assert_true(r >= 0);
		if (r == 1 && n < 2)
			inj[n++] = cur;
		if (put.pid && (p[2].revents & POLLIN) && reap(&put, false) == 0)
			++*acked;
		if ((p[1].revents & POLLIN) && !(p[0].revents & POLLIN))
			break;
		if (time_mono_ns() > deadline)
			fail_msg("etcd still running after %d puts: the tear never landed", *puts);
	}
	if (put.pid)
		reap(&put, true);
	return n;
}

/* Starts etcd under the filter and tears the nth WAL write. */
static void tear(int nth)
{
	char yaml[256];
	struct sys_rules *rs;
	struct sys_filter *f = NULL;
	struct sys_supervisor *s = NULL;
	struct sys_injection inj[2];
	struct strbuf sb = STRBUF_INIT;
	struct cd_error err;
	struct proc node;
	int sv[2], listener, status, puts, acked;
	size_t n;

	snprintf(yaml, sizeof(yaml),
		 "rules: [{calls: [write, pwrite, writev, pwritev], path: 'member/wal/*.wal', "
		 "nth: %d, torn: {keep: 48, rest: zeros}, then: crash}]",
		 nth);
	rs = rules(yaml);
	if (sys_filter_build(rs, &f, &err) < 0)
		fail_msg("filter: %s", err.msg);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	snprintf(yaml, sizeof(yaml), "%s/etcd-torn.log", dir);
	node = start_etcd(yaml, f, sv[1]);
	close(sv[1]);
	listener = sys_fd_recv(sv[0]);
	close(sv[0]);
	assert_true(listener >= 0);
	assert_int_equal(sys_supervisor_new(listener, node.pidfd, rs, 1, data, &s), 0);
	n = drive(s, &node, inj, &puts, &acked);
	status = reap(&node, false);
	assert_int_equal(n, 1);
	sys_injection_format(&inj[0], &sb);
	printf("    %d puts, %d acknowledged: %s\n", puts, acked, sb.buf);
	strbuf_release(&sb);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(inj[0].action, SYS_ACT_TORN);
	assert_true(inj[0].killed);
	assert_int_equal(inj[0].kept, 48);
	assert_int_equal(inj[0].kept + inj[0].zeroed, inj[0].requested);
	assert_true(strncmp(inj[0].path, "member/wal/", 11) == 0);
	sys_supervisor_free(s);
	sys_filter_free(f);
	sys_rules_free(rs);
}

/* The line of log that holds needle, or NULL; *buf: caller frees. */
static const char *log_line(const char *path, const char *needle, char **buf)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	size_t cap = 0;

	*buf = NULL;
	if (!f)
		return NULL;
	while (getline(buf, &cap, f) > 0)
		if (strstr(*buf, needle))
			return *buf;
	return NULL;
}

/* Restarts etcd without the filter: true when it refused to start with its CRC error, false
 * when it came up (it proved the tail torn and repaired it). */
static bool refuses_to_start(void)
{
	char log[128];
	_cleanup_free_ char *line = NULL;
	int64_t deadline = time_mono_ns() + 20 * SEC;
	struct proc node;
	int status;

	snprintf(log, sizeof(log), "%s/etcd-restart.log", dir);
	node = start_etcd(log, NULL, -1);
	for (;;) {
		struct pollfd p = { node.pidfd, POLLIN, 0 };

		assert_true(poll(&p, 1, 200) >= 0);
		if (p.revents & POLLIN)
			break;
		if (time_mono_ns() > deadline) {
			reap(&node, true);
			printf("    etcd started after the tear (it repaired the WAL's tail)\n");
			return false;
		}
	}
	status = reap(&node, false);
	if (!log_line(log, "crc mismatch", &line))
		fail_msg("etcd exited (status %#x) without a CRC error; see %s", status, log);
	printf("    restart: exit %d: %s", WIFEXITED(status) ? WEXITSTATUS(status) : -1, line);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	return true;
}

static void test_etcd_torn_wal(void **state)
{
	char cmd[256];

	for (int attempt = 0; attempt < 3; attempt++) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", data);
		assert_int_equal(system(cmd), 0);
		client_port = free_port();
		peer_port = free_port();
		tear(8 + attempt);
		if (refuses_to_start())
			return;
	}
	fail_msg("etcd repaired every torn WAL write instead of refusing to start");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etcd_torn_wal),
	};
	const char *why;
	char cmd[128];
	int r;

	if (!find_bin("etcd", etcd, sizeof(etcd)) ||
	    !find_bin("etcdctl", etcdctl, sizeof(etcdctl))) {
		printf("SKIP: etcd or etcdctl is not installed (Debian: etcd-server etcd-client)\n");
		return 77;
	}
	if (sys_filter_probe(&why) < 0) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	setenv("ETCDCTL_API", "3", 1);
	snprintf(dir, sizeof(dir), "/tmp/sysetcd-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(data, sizeof(data), "%s/data", dir);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (r == 0 && system(cmd) != 0)
		r = 1;
	else if (r)
		printf("logs kept in %s\n", dir);
	return r;
}

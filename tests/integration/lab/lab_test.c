/* Shared helpers of the lab integration tests: see lab_test.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "tests/integration/lab/lab_test.h"

void t_require_root(void)
{
	if (geteuid() != 0) {
		printf("SKIP: the lab needs root (namespaces, cgroups)\n");
		exit(77);
	}
	CHECK(lab_init_process() == 0, "subreaper");
}

const char *const *t_keep_paths(void)
{
	static char dir[PATH_MAX];
	static const char *keep[] = { dir, NULL };
	char *slash;

	/* nodes run this very binary: its folder must stay visible under a private /tmp */
	snprintf(dir, sizeof(dir), "%s", t_self());
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	return keep;
}

struct lab *t_lab_new(enum lab_cgroup_mode mode)
{
	struct lab_options opt = LAB_OPTIONS_INIT;
	struct lab *lab = NULL;
	int r;

	opt.cgroup = mode;
	opt.keep_paths = t_keep_paths();
	r = lab_new(&opt, &lab);
	if (r == 0)
		r = lab_wait_ready(lab); /* the lab netns is wired in the background */
	if (r == -EPERM || r == -ENOSYS || r == -EOPNOTSUPP || r == -ENOTSUP || r == -EINVAL) {
		printf("SKIP: cannot make a lab here: %s\n", lab_last_error());
		exit(77);
	}
	CHECK(r == 0, "lab_new: %s", strerror(-r));
	return lab;
}

const char *t_self(void)
{
	static char path[PATH_MAX];
	ssize_t n;

	if (!path[0]) {
		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		CHECK(n > 0, "readlink /proc/self/exe");
		path[n] = '\0';
	}
	return path;
}

/* listen PORT: answers every connection with its hostname. */
static int mode_listen(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct utsname u;
	int s, c, one = 1;

	uname(&u);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 64) < 0)
		return 2;
	for (;;) {
		c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		dprintf(c, "%s\n", u.nodename);
		close(c);
	}
}

/* connect ADDR PORT EXPECT: retries for 3 s, succeeds if the answer is EXPECT. */
static int mode_connect(const char *addr, int port, const char *expect)
{
	struct in_addr a;
	char line[256];
	int i, fd;

	if (inet_pton(AF_INET, addr, &a) != 1)
		return 2;
	for (i = 0; i < 300; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (t_connect(fd, a, port, 1000) == 0 &&
		    t_read_line(fd, line, sizeof(line), 2000) == 0) {
			close(fd);
			if (strcmp(line, expect) == 0)
				return 0;
			fprintf(stderr, "%s:%d said '%s', want '%s'\n", addr, port, line, expect);
			return 1;
		}
		close(fd);
		usleep(10000);
	}
	fprintf(stderr, "%s:%d unreachable\n", addr, port);
	return 1;
}

/* info: what the process sees, one key=value a line. */
static int mode_info(void)
{
	struct ifaddrs *ifs, *i;
	struct utsname u;
	char buf[256] = "", mi[1 << 16];
	int fd;
	ssize_t n;

	uname(&u);
	printf("pid=%d\nhost=%s\n", (int)getpid(), u.nodename);
	n = readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
	printf("pidns=%.*s\n", n > 0 ? (int)n : 0, buf);
	if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i; i = i->ifa_next)
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			    strcmp(i->ifa_name, "eth0") == 0)
				printf("addr=%s\n",
				       inet_ntop(AF_INET,
						 &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
						 buf, sizeof(buf)));
		freeifaddrs(ifs);
	}
	fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, mi, sizeof(mi) - 1) : -1;
	mi[n > 0 ? n : 0] = '\0';
	printf("datamount=%d\n", strstr(mi, " " LAB_DATA_PATH " ") != NULL);
	printf("tmpfs_tmp=%d\n", strstr(mi, " /tmp ") != NULL);
	fd = open(LAB_DATA_PATH "/from-host", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	printf("from_host=%.*s\n", n > 0 ? (int)n : 0, buf);
	fd = open(LAB_DATA_PATH "/from-node", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0 && write(fd, u.nodename, strlen(u.nodename)) > 0)
		printf("wrote=1\n");
	return 0;
}

/* tree: three children sleeping, the init sleeps too. */
static _Noreturn void mode_tree(void)
{
	int i;

	for (i = 0; i < 3; i++)
		if (fork() == 0)
			for (;;)
				pause();
	for (;;)
		pause();
}

/* count FILE: an increasing counter, rewritten in place every 5 ms (fixed width, so a
 * reader never sees an empty file). */
static int mode_count(const char *file)
{
	unsigned long n;
	char buf[32];
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return 1;
	for (n = 1;; n++) {
		snprintf(buf, sizeof(buf), "%020lu\n", n);
		if (pwrite(fd, buf, 21, 0) != 21)
			return 1;
		usleep(5000);
	}
}

void t_dispatch(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "listen") == 0)
		exit(mode_listen(atoi(argv[2])));
	if (argc >= 5 && strcmp(argv[1], "connect") == 0)
		exit(mode_connect(argv[2], atoi(argv[3]), argv[4]));
	if (argc >= 2 && strcmp(argv[1], "info") == 0)
		exit(mode_info());
	if (argc >= 2 && strcmp(argv[1], "tree") == 0)
		mode_tree();
	if (argc >= 3 && strcmp(argv[1], "count") == 0)
		exit(mode_count(argv[2]));
}

static char *capture(const char *cmd)
{
	FILE *f = popen(cmd, "re");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	CHECK(f != NULL, "popen %s", cmd);
	n = getdelim(&buf, &cap, '\0', f);
	pclose(f);
	if (n < 0) {
		free(buf);
		buf = strdup("");
	}
	return buf;
}

void t_snapshot_take(struct t_snapshot *s)
{
	size_t len;

	s->links = capture("ip -o link show | cut -d: -f2 | sort");
	CHECK(fs_read_all("/proc/self/mounts", 1 << 22, &s->mounts, &len) == 0, "mounts");
	s->netns = capture("ip netns list 2>/dev/null; ls /run/netns 2>/dev/null");
}

static bool same(const char *what, const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return true;
	fprintf(stderr, "host %s changed:\n--- before\n%s\n--- after\n%s\n", what, a, b);
	return false;
}

bool t_snapshot_same(const struct t_snapshot *a, const struct t_snapshot *b)
{
	bool l = same("links", a->links, b->links);
	bool m = same("mounts", a->mounts, b->mounts);
	bool n = same("netns list", a->netns, b->netns);

	return l && m && n;
}

void t_snapshot_free(struct t_snapshot *s)
{
	free(s->links);
	free(s->mounts);
	free(s->netns);
}

char *t_data_dir(void)
{
	char *p = strdup("/tmp/cd-labtest-XXXXXX");

	CHECK(p && mkdtemp(p), "mkdtemp");
	return p;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p) < 0 ? 0 : 0;
}

void t_rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *t_run_ok(struct lab *lab, struct lab_node *node, const char *const *argv)
{
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct lab_run_result res;
	int r;

	cmd.argv = argv;
	r = lab_run(lab, node, &cmd, 10LL * 1000000000LL, &res);
	CHECK(r == 0, "lab_run %s: %s", argv[1], strerror(-r));
	CHECK(!res.timed_out && WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0,
	      "%s %s in %s: status %#x, output:\n%s", argv[1], argv[2] ? argv[2] : "",
	      node ? node_name(node) : "lab", res.status, res.output);
	return res.output;
}

unsigned long t_ns_ino(pid_t pid, const char *kind)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, kind);
	return stat(p, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

bool t_ns_in_use(const char *kind, unsigned long ino)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)))
		if (atoi(e->d_name) > 0 && t_ns_ino(atoi(e->d_name), kind) == ino)
			found = true;
	if (d)
		closedir(d);
	return found;
}

int t_connect(int fd, struct in_addr addr, int port, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr = addr };
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t len = sizeof(err);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		return -errno;
	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	fcntl(fd, F_SETFL, fl);
	return -err;
}

int t_read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len) {
		if (poll(&p, 1, timeout_ms) != 1)
			return -ETIMEDOUT;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	if (got && buf[got - 1] == '\n')
		buf[--got] = '\0';
	return got ? 0 : -EIO;
}

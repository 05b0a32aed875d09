/* The lab handle: its network namespace and bridge, naming, cgroups, teardown, sockets in
 * the lab and the thread's last error. Nodes are in lab_node.c, processes in lab_proc.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/linux.h"
#include "harness/lab/lab_internal.h"
#include "harness/lab/lab_ns.h"
#include "harness/lab/nl_batch.h"
#include "harness/lab/subnet_pool.h"

static __thread char last_error[512];
static atomic_uint lab_counter;

const char *lab_last_error(void)
{
	return last_error;
}

int lab_fail(int err, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	if (err <= 0)
		err = EIO;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(last_error, sizeof(last_error), "%s: %s", msg, strerror(err));
	log_debug("lab: %s", last_error);
	return -err;
}

int lab_fail_again(int err, const char *msg)
{
	snprintf(last_error, sizeof(last_error), "%s", msg);
	log_debug("lab: %s", last_error);
	return err;
}

int lab_init_process(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return lab_fail(errno, "prctl(PR_SET_CHILD_SUBREAPER)");
	return 0;
}

static int parse_subnet(const char *s, struct lab *lab)
{
	char addr[32];
	unsigned len;
	uint32_t a, mask;

	if (sscanf(s, "%31[0-9.]/%u", addr, &len) != 2 || len < 8 || len > 30 ||
	    inet_pton(AF_INET, addr, &lab->subnet) != 1)
		return lab_fail(EINVAL, "subnet %s: want A.B.C.D/8..30", s);
	mask = ~0U << (32 - len);
	a = ntohl(lab->subnet.s_addr) & mask;
	lab->subnet.s_addr = htonl(a);
	lab->bridge_addr.s_addr = htonl(a + 1);
	lab->prefix = len;
	snprintf(lab->cidr, sizeof(lab->cidr), "%s/%u", inet_ntoa(lab->subnet), len);
	return 0;
}

/* The lab's subnet: the one given (which wins, even if another lab holds it: each lab's
 * addresses live in its own network namespace), else the first of the pool no live lab on
 * the machine holds. A given subnet that is a slot of the pool is claimed too when it is
 * free, so that labs choosing theirs go past it. */
static int choose_subnet(const char *given, struct lab *lab)
{
	char cidr[SUBNET_POOL_CIDR_LEN];
	int r, slot;

	if (given) {
		if ((r = parse_subnet(given, lab)) < 0)
			return r;
		slot = subnet_pool_slot_of(lab->cidr);
		if (slot >= 0)
			lab->subnet_fd = subnet_pool_claim_slot((unsigned)slot);
		if (lab->subnet_fd < 0)
			lab->subnet_fd = -1;
		return 0;
	}
	lab->subnet_fd = subnet_pool_claim(cidr, sizeof(cidr));
	if (lab->subnet_fd == -EBUSY) {
		lab->subnet_fd = -1;
		return lab_fail(EBUSY,
				"choose a subnet: all %u of the pool (10.200.0.0/16 to "
				"10.255.0.0/16) are held by live labs; give one with --subnet",
				SUBNET_POOL_SIZE);
	}
	if (lab->subnet_fd < 0) {
		r = lab->subnet_fd;
		lab->subnet_fd = -1;
		return lab_fail(-r, "choose a subnet: lock a file under " SUBNET_POOL_DIR);
	}
	return parse_subnet(cidr, lab);
}

/* "cd-<pid>-<n>": unique among live harnesses; a counter already used by a dead harness
 * with our pid (its cgroup is still there) is skipped. */
static int name_lab(struct lab *lab, enum lab_cgroup_mode mode)
{
	static const enum cgroup_kind kinds[] = {
		[LAB_CGROUP_AUTO] = CGROUP_AUTO,
		[LAB_CGROUP_V2] = CGROUP_V2,
		[LAB_CGROUP_V1] = CGROUP_V1,
		[LAB_CGROUP_NONE] = CGROUP_NONE,
	};
	int r, tries;

	r = cgroup_detect(kinds[mode], &lab->cg);
	if (r < 0)
		return lab_fail(-r, "cgroup %s requested but not usable here",
				cgroup_kind_name(kinds[mode]));
	for (tries = 0; tries < 1000; tries++) {
		snprintf(lab->name, sizeof(lab->name), LAB_NAME_PREFIX "%d-%u", (int)getpid(),
			 atomic_fetch_add(&lab_counter, 1));
		if (lab->cg.kind == CGROUP_NONE)
			return 0;
		r = cgroup_create(&lab->cg, lab->name, lab->cgroup, sizeof(lab->cgroup));
		if (r != -EEXIST)
			break;
	}
	if (r < 0) {
		lab->cgroup[0] = '\0';
		return lab_fail(-r, "create cgroup %s/%s", lab->cg.path, lab->name);
	}
	if ((r = failpoint("lab.cgroup", -EACCES)) < 0)
		return lab_fail(-r, "create cgroup %s/%s", lab->cg.path, lab->name);
	if (snprintf(lab->cgroup_holders, sizeof(lab->cgroup_holders), "%s/lab.holders",
		     lab->cgroup) >= (int)sizeof(lab->cgroup_holders) ||
	    snprintf(lab->cgroup_exec, sizeof(lab->cgroup_exec), "%s/lab.exec", lab->cgroup) >=
		    (int)sizeof(lab->cgroup_exec))
		return lab_fail(ENAMETOOLONG, "cgroup path %s", lab->cgroup);
	if (mkdir(lab->cgroup_holders, 0755) < 0 || mkdir(lab->cgroup_exec, 0755) < 0)
		return lab_fail(errno, "create cgroups under %s", lab->cgroup);
	return 0;
}

int lab_open_ns(pid_t pid, const char *kind)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, kind);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The lab netns: lo up, the bridge up with the subnet's first address; no other link and
 * no route but the subnet's own, so nothing in it reaches beyond the lab. Its holder makes
 * and wires it in the background, then sets *lab->state and closes the write end of the
 * pipe behind lab->up_fd. */
static int start_lab(struct lab *lab)
{
	struct netlink_lab net = { .bridge = LAB_BRIDGE,
				   .bridge_ifindex = LAB_BRIDGE_IFINDEX,
				   .addr = lab->bridge_addr,
				   .prefix = lab->prefix };
	struct nl_batch wiring;
	struct holder_setup setup = { .wiring = &wiring };
	int up[2], r;

	r = netlink_lab_batch(&net, &wiring);
	if (r < 0)
		return lab_fail(-r, "build the lab's netlink requests");
	lab->state = mmap(NULL, sizeof(*lab->state), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (lab->state == MAP_FAILED) {
		lab->state = NULL;
		return lab_fail(errno, "mmap a shared page");
	}
	setup.lab_state = lab->state;
	if (pipe2(up, O_CLOEXEC) < 0)
		return lab_fail(errno, "pipe");
	lab->up_fd = up[0];
	setup.lab_up_fd = up[1];
	/* unshare in the holder, not in clone: the netns (0.6-1.3 ms) is made on another core
	 * while the harness starts node holders. */
	lab->holder_pid = holder_start(lab, 0, CLONE_NEWNET, lab->cgroup_holders, &setup,
				       &lab->holder_pidfd, &lab->report);
	close(up[1]); /* the holder's alone now */
	if (lab->holder_pid < 0)
		return lab->holder_pid;
	lab->bridge = LAB_BRIDGE_IFINDEX;
	return 0;
}

int lab_ready(struct lab *lab)
{
	int r = holder_wait(&lab->report, lab->name);

	if (r < 0 || lab->netns_fd >= 0)
		return r;
	/* Not before: until its report, the holder may still be in the harness's netns. */
	lab->netns_fd = lab_open_ns(lab->holder_pid, "net");
	if (lab->netns_fd < 0) {
		r = lab->netns_fd;
		lab->netns_fd = -1;
		return lab_fail(-r, "open the lab's netns");
	}
	return 0;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Copies the keep paths that nodes would otherwise lose under their private /tmp, /run. */
static int keep_paths(const char *const *paths, struct lab *lab)
{
	size_t n = 0;

	lab->keep_paths = calloc(1, sizeof(char *));
	if (!lab->keep_paths)
		return lab_fail(ENOMEM, "keep paths");
	for (size_t i = 0; paths && paths[i]; i++) {
		char **v;

		if (paths[i][0] != '/')
			return lab_fail(EINVAL, "keep path %s is not absolute", paths[i]);
		if (!under(paths[i], "/tmp") && !under(paths[i], "/run"))
			continue;
		v = realloc(lab->keep_paths, (n + 2) * sizeof(*v));
		if (!v)
			return lab_fail(ENOMEM, "keep paths");
		lab->keep_paths = v;
		if (!(v[n] = strdup(paths[i])))
			return lab_fail(ENOMEM, "keep paths");
		v[++n] = NULL;
	}
	return 0;
}

int lab_new(const struct lab_options *opt, struct lab **out)
{
	static const struct lab_options defaults = LAB_OPTIONS_INIT;
	_cleanup_lab_ struct lab *lab = calloc(1, sizeof(*lab));
	int r;

	if (!lab)
		return lab_fail(ENOMEM, "allocate a lab");
	lab->holder_pidfd = lab->netns_fd = lab->self_pidfd = lab->up_fd = lab->report.fd = -1;
	lab->subnet_fd = -1;
	if (!opt)
		opt = &defaults;
	if ((unsigned)opt->cgroup > LAB_CGROUP_NONE)
		return lab_fail(EINVAL, "cgroup mode %d", (int)opt->cgroup);
	r = keep_paths(opt->keep_paths, lab);
	if (r >= 0 && opt->subnet)
		r = parse_subnet(opt->subnet, lab); /* bad input first, before any claim */
	if (r < 0)
		return r;
	/* Children poll it to notice a harness that died before their PR_SET_PDEATHSIG. Without
	 * pidfd_open (valgrind does not know it) that tiny window stays open: lab_gc covers it. */
	lab->self_pidfd = sys_pidfd_open(getpid(), 0);
	if (lab->self_pidfd < 0 && errno != ENOSYS)
		return lab_fail(errno, "pidfd_open (Linux 5.3+)");
	r = fs_mkdir_p(LAB_DATA_PATH, 0755);
	if (r < 0)
		return lab_fail(-r, "create the mount point " LAB_DATA_PATH);
	if ((r = fs_mkdir_p(LAB_TARGET_PATH, 0755)) < 0 ||
	    (r = fs_mkdir_p(LAB_TARGET_BIN_PATH, 0755)) < 0)
		return lab_fail(-r, "create the mount points " LAB_TARGET_PATH " and "
				LAB_TARGET_BIN_PATH);
	r = name_lab(lab, opt->cgroup);
	if (r < 0)
		return r;
	r = choose_subnet(opt->subnet, lab);
	if (r < 0)
		return r;
	r = start_lab(lab);
	if (r < 0)
		return r;
	*out = TAKE_PTR(lab);
	return 0;
}

static void kill_fd(int pidfd, pid_t pid)
{
	if (pidfd >= 0)
		proc_signal(pidfd, pid, SIGKILL);
}

static void reap_fd(int pidfd)
{
	siginfo_t si;

	if (pidfd < 0)
		return;
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
}

/* Every process the lab started gets SIGKILL at once, then all are reaped: the kernel tears
 * the namespaces (and the veths and bridge in them) down as their last process goes. */
static void kill_all(struct lab *lab)
{
	size_t i;

	for (i = 0; i < lab->n_nodes; i++)
		if (lab->nodes[i]->frozen)
			node_freeze(lab->nodes[i], false, &(enum lab_freeze_how){ 0 });
	for (i = 0; i < lab->n_nodes; i++) {
		kill_fd(lab->nodes[i]->init_pidfd, lab->nodes[i]->init_pid);
		kill_fd(lab->nodes[i]->holder_pidfd, lab->nodes[i]->holder_pid);
	}
	for (i = 0; i < lab->n_procs; i++)
		kill_fd(lab->procs[i].pidfd, lab->procs[i].pid);
	kill_fd(lab->holder_pidfd, lab->holder_pid);
	/* Helpers first: one born in a node's pid namespace (an exec step, lab.h node_pids)
	 * is the harness's child, and that namespace's init cannot finish dying before its
	 * zombie is reaped. */
	for (i = 0; i < lab->n_procs; i++)
		reap_fd(lab->procs[i].pidfd);
	for (i = 0; i < lab->n_nodes; i++) {
		reap_fd(lab->nodes[i]->init_pidfd);
		reap_fd(lab->nodes[i]->holder_pidfd);
	}
	reap_fd(lab->holder_pidfd);
}

void lab_free(struct lab *lab)
{
	size_t i;

	if (!lab)
		return;
	kill_all(lab);
	if (lab->cgroup[0]) {
		/* Anything that got past the pidfds (there should be nothing). */
		if (cgroup_populated(lab->cgroup) > 0)
			cgroup_kill(lab->cg.kind, lab->cgroup);
		cgroup_remove_tree(lab->cgroup, NULL, NULL);
	}
	for (i = 0; i < lab->n_nodes; i++)
		node_destroy(lab->nodes[i]);
	for (i = 0; i < lab->n_procs; i++)
		close(lab->procs[i].pidfd);
	holder_report_close(&lab->report);
	if (lab->up_fd >= 0)
		close(lab->up_fd);
	if (lab->state)
		munmap(lab->state, sizeof(*lab->state));
	if (lab->netns_fd >= 0)
		close(lab->netns_fd);
	if (lab->holder_pidfd >= 0)
		close(lab->holder_pidfd);
	if (lab->self_pidfd >= 0)
		close(lab->self_pidfd);
	if (lab->subnet_fd >= 0)
		close(lab->subnet_fd); /* the subnet is free for the next lab */
	for (i = 0; lab->keep_paths && lab->keep_paths[i]; i++)
		free(lab->keep_paths[i]);
	free(lab->keep_paths);
	free(lab->nodes);
	free(lab->procs);
	free(lab);
}

int lab_socket(struct lab *lab, int domain, int type)
{
	int fd = lab_ready(lab);

	if (fd < 0)
		return fd;
	fd = ns_socket(lab->netns_fd, domain, type, 0);
	return fd < 0 ? lab_fail(-fd, "socket in the lab netns") : fd;
}

const char *lab_name(const struct lab *lab)
{
	return lab->name;
}

const char *lab_subnet(const struct lab *lab)
{
	return lab->cidr;
}

struct in_addr lab_bridge_addr(const struct lab *lab)
{
	return lab->bridge_addr;
}

const char *lab_cgroup_kind(const struct lab *lab)
{
	return cgroup_kind_name(lab->cg.kind);
}

pid_t lab_holder_pid(const struct lab *lab)
{
	return lab->holder_pid;
}

size_t lab_node_count(const struct lab *lab)
{
	return lab->n_nodes;
}

struct lab_node *lab_node_at(const struct lab *lab, size_t i)
{
	return i < lab->n_nodes ? lab->nodes[i] : NULL;
}

struct lab_node *lab_node_find(const struct lab *lab, const char *name)
{
	size_t i;

	for (i = 0; i < lab->n_nodes; i++)
		if (strcmp(lab->nodes[i]->name, name) == 0)
			return lab->nodes[i];
	return NULL;
}

/* The runner's side of client adapters (driver lines, docs/adapters.md): what the
 * workload needs to start them (their argv per node, where their stderr goes, how long
 * ping may take), what it says they did (the timeline; a fatal thing ends the drill with
 * exit 3), and the final read through a fresh adapter. The processes themselves are
 * adapter.c's; the protocol and what is in flight are the workload's and conn.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/units.h"
#include "harness/run/adapter.h"
#include "harness/run/run_internal.h"
#include "targets/lines/lines.h"

#define PING_TIMEOUT_MIN_NS (3 * NSEC_PER_SEC) /* a program may take a while to start */

static struct run_node *node_at(struct drill_run *r, const char *host)
{
	for (size_t i = 0; i < run_node_count(r); i++)
		if (strcmp(run_node_addr(run_node_at(r, i)), host) == 0)
			return run_node_at(r, i);
	return NULL;
}

/* workload_adapters.argv: the client argv expanded for the node at host. */
static char *const *adapter_argv(void *ud, const char *host, uint16_t port)
{
	struct run_node *n = node_at(ud, host);

	if (!n)
		run_env_error(ud, "no node has the address %s for an adapter", host);
	return n ? run_node_client_argv(n) : NULL;
}

/* workload_adapters.note: into the timeline, and on screen; fatal ends the drill. */
static void adapter_note(void *ud, unsigned client, bool fatal, const char *text)
{
	struct drill_run *r = ud;

	timeline_add(r->tl, run_now(r), TL_ADAPTER, (int)client, NULL, fatal, "%s", text);
	run_say(r, run_now(r), "%s", text);
	if (!fatal)
		return;
	run_env_error(r, "%s", text);
	r->stop = true;
}

/* RUN_DIR/adapters, or with several targets RUN_DIR/adapters/TARGET. */
int run_adapters_prepare(struct drill_run *r)
{
	char **dirp = &r->wls[r->cur].adapters_dir, *dir;
	int64_t ping = r->sc->workload.timeout_ns;
	int k;

	if (!r->d->target->client.argc)
		return 0;
	if ((run_multi(r) ? asprintf(dirp, "%s/adapters/%s", r->run_dir, r->d->target->name) :
			    asprintf(dirp, "%s/adapters", r->run_dir)) < 0) {
		*dirp = NULL;
		return run_env_error(r, "out of memory");
	}
	dir = *dirp;
	if ((k = fs_mkdir_p(dir, 0755)) < 0)
		return run_env_error(r, "cannot create %s: %s", dir, strerror(-k));
	r->adapters = (struct workload_adapters){
		.argv = adapter_argv,
		.note = adapter_note,
		.ud = r,
		.stderr_dir = dir,
		.ping_timeout_ns = ping > PING_TIMEOUT_MIN_NS ? ping : PING_TIMEOUT_MIN_NS,
	};
	return 0;
}

const struct workload_adapters *run_adapters(const struct drill_run *r)
{
	return r->adapters.argv ? &r->adapters : NULL;
}

int run_adapter_read_all(struct drill_run *r, struct run_node *n, int timeout_ms, target_kv_fn kv,
			 void *ud, char *why, size_t why_len)
{
	char node[64], path[4200], how[64], tail[512];
	struct adapter_spec spec = { .argv = run_node_client_argv(n),
				     .node = node,
				     .stderr_path = path };
	struct adapter *a;
	pid_t pid;
	int k;

	snprintf(node, sizeof(node), "%s:%s", run_node_addr(n), run_node_port(n));
	snprintf(path, sizeof(path), "%s/final-read.stderr", r->wls[r->cur].adapters_dir);
	k = adapter_start(&spec, &a);
	if (k < 0) {
		snprintf(why, why_len, "cannot start the adapter %s: %s", spec.argv[0],
			 strerror(-k));
		return k;
	}
	pid = adapter_pid(a);
	k = conn_read_all_adopt(&lines_driver, adapter_take_rfd(a), adapter_take_wfd(a), timeout_ms,
				kv, ud, why, why_len);
	adapter_stop(a, k < 0 ? 200 : 0, how, sizeof(how));
	if (k < 0)
		snprintf(why + strlen(why), why_len - strlen(why), "%s(adapter pid %d %s%s%s)",
			 why[0] ? " " : "", (int)pid, how,
			 adapter_stderr_tail(path, tail, sizeof(tail))[0] ? "; stderr: " : "",
			 tail);
	adapter_free(a);
	return k;
}

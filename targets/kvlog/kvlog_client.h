/* kvlog's blocking client, for kvlog-ctl, kvlog-itool and kvlog-bench (the harness talks
 * to kvlog through its driver, targets/kvlog/kvlog_driver.c, and harness/run/conn.h).
 *
 * Usage:
 *   struct kvlog_client *c;
 *   kvlog_client_open("127.0.0.1:7700", 1000, &c);   // every call then waits <= 1000 ms
 *   kvlog_client_set(c, "k", 1, "v", 1, &seq);        // -EROFS etc.: kvlog_client_error(c)
 *   kvlog_client_dump(c, cb, ud, &count);
 *   kvlog_client_free(c);
 * All return >= 0 or -errno (-ETIMEDOUT / -EAGAIN on timeout, -EPROTO on a bad answer).
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_CLIENT_H
#define CHAOSDRILL_TARGETS_KVLOG_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct kvlog_client;

/* One key/value of a dump; borrowed for the call. A negative return stops the dump. */
typedef int (*kvlog_kv_fn)(void *ud, const char *key, size_t klen, const void *val, size_t vlen);

/* addr "host:port" (numeric IPv4). *out: caller frees with kvlog_client_free(). */
int kvlog_client_open(const char *addr, int timeout_ms, struct kvlog_client **out);
int kvlog_client_open_host(const char *host, uint16_t port, int timeout_ms,
			   struct kvlog_client **out);
void kvlog_client_free(struct kvlog_client *c); /* accepts NULL */

int kvlog_client_set(struct kvlog_client *c, const char *key, size_t klen, const void *val,
		     size_t vlen, uint64_t *seq);
/* *val: caller frees. -ENOENT when the key is absent. */
int kvlog_client_get(struct kvlog_client *c, const char *key, size_t klen, void **val,
		     size_t *vlen);
int kvlog_client_dump(struct kvlog_client *c, kvlog_kv_fn cb, void *ud, uint64_t *count);
/* *text: "name value" lines, caller frees. */
int kvlog_client_status(struct kvlog_client *c, char **text);
int kvlog_client_promote(struct kvlog_client *c, const char *replicas);
/* The message of the last ERR answer ("" if none); borrowed. */
const char *kvlog_client_error(const struct kvlog_client *c);

#endif

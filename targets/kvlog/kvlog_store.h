/* kvlog-server's in-memory state: a hash table of binary-safe keys to values.
 *
 * Usage:
 *   struct kvlog_store *s = kvlog_store_new();
 *   kvlog_store_set(s, key, klen, val, vlen);       // copies both
 *   kvlog_store_get(s, key, klen, &val, &vlen);     // borrowed until the next set
 *   kvlog_store_each(s, cb, ud);  kvlog_store_free(s);
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_STORE_H
#define CHAOSDRILL_TARGETS_KVLOG_STORE_H

#include <stddef.h>

struct kvlog_store;

struct kvlog_store *kvlog_store_new(void);    /* NULL on ENOMEM; caller frees */
void kvlog_store_free(struct kvlog_store *s); /* accepts NULL */
int kvlog_store_set(struct kvlog_store *s, const char *key, size_t klen, const void *val,
		    size_t vlen);
/* 0 and *val (borrowed) when found, -ENOENT otherwise. */
int kvlog_store_get(const struct kvlog_store *s, const char *key, size_t klen, const void **val,
		    size_t *vlen);
size_t kvlog_store_count(const struct kvlog_store *s);
/* Calls cb for every key (unspecified order); a negative return stops and is returned. */
int kvlog_store_each(const struct kvlog_store *s,
		     int (*cb)(void *ud, const char *key, size_t klen, const void *val,
			       size_t vlen),
		     void *ud);

#endif

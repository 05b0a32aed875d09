/* The kernel syscalls behind each call name of the rule language, with where each keeps its
 * fd, paths, buffer, length and offset among its six arguments (native ABI only). Pure data,
 * shared by the filter builder and the supervisor. */
#ifndef CHAOSDRILL_FAULTS_SYS_KCALL_H
#define CHAOSDRILL_FAULTS_SYS_KCALL_H

#include <stdbool.h>
#include <stddef.h>

#include "faults/sys/rule.h"

/* Argument positions; -1: the call has none. */
struct sys_kcall {
	long nr;
	const char *name; /* the kernel's name, for reports */
	enum sys_call call;
	signed char fd, buf, len, off; /* buf is an iovec array when iov */
	bool iov;
	signed char dir, path, dir2, path2; /* dir -1 with a path: AT_FDCWD */
};

/* The table, n entries. */
const struct sys_kcall *sys_kcall_table(size_t *n);
/* The entry of syscall number nr, or NULL. */
const struct sys_kcall *sys_kcall_find(long nr);

#endif

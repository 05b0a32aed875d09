/* The syscall table of kcall.h: which kernel syscalls each rule call name traps. Calls
 * an architecture lacks (open, rename and unlink on arm64) are left out by #ifdef. */
#include <sys/syscall.h>

#include "faults/sys/kcall.h"

#define FD(nr_, c_, fd_)                                                                  \
	{                                                                                 \
		.nr = nr_, .name = #nr_ + 4, .call = c_, .fd = fd_, .buf = -1, .len = -1, \
		.off = -1, .dir = -1, .path = -1, .dir2 = -1, .path2 = -1                 \
	}
#define BUF(nr_, c_, off_, iov_)                                                                   \
	{                                                                                          \
		.nr = nr_, .name = #nr_ + 4, .call = c_, .fd = 0, .buf = 1, .len = 2, .off = off_, \
		.iov = iov_, .dir = -1, .path = -1, .dir2 = -1, .path2 = -1                        \
	}
#define PATH(nr_, c_, d_, p_, d2_, p2_)                                                  \
	{                                                                                \
		.nr = nr_, .name = #nr_ + 4, .call = c_, .fd = -1, .buf = -1, .len = -1, \
		.off = -1, .dir = d_, .path = p_, .dir2 = d2_, .path2 = p2_              \
	}

static const struct sys_kcall table[] = {
	BUF(SYS_write, SYS_CALL_WRITE, -1, false),
	BUF(SYS_pwrite64, SYS_CALL_PWRITE, 3, false),
	BUF(SYS_writev, SYS_CALL_WRITEV, -1, true),
	BUF(SYS_pwritev, SYS_CALL_PWRITEV, 3, true),
	BUF(SYS_pwritev2, SYS_CALL_PWRITEV, 3, true),
	BUF(SYS_read, SYS_CALL_READ, -1, false),
	BUF(SYS_pread64, SYS_CALL_PREAD, 3, false),
	BUF(SYS_readv, SYS_CALL_READV, -1, true),
	BUF(SYS_preadv, SYS_CALL_PREADV, 3, true),
	BUF(SYS_preadv2, SYS_CALL_PREADV, 3, true),
	FD(SYS_fsync, SYS_CALL_FSYNC, 0),
	FD(SYS_fdatasync, SYS_CALL_FDATASYNC, 0),
	FD(SYS_sync_file_range, SYS_CALL_SYNC_FILE_RANGE, 0),
	FD(SYS_ftruncate, SYS_CALL_FTRUNCATE, 0),
	FD(SYS_fallocate, SYS_CALL_FALLOCATE, 0),
	PATH(SYS_openat, SYS_CALL_OPENAT, 0, 1, -1, -1),
#ifdef SYS_openat2
	PATH(SYS_openat2, SYS_CALL_OPENAT, 0, 1, -1, -1),
#endif
#ifdef SYS_open
	PATH(SYS_open, SYS_CALL_OPENAT, -1, 0, -1, -1),
#endif
#ifdef SYS_creat
	PATH(SYS_creat, SYS_CALL_OPENAT, -1, 0, -1, -1),
#endif
#ifdef SYS_rename
	PATH(SYS_rename, SYS_CALL_RENAME, -1, 0, -1, 1),
#endif
#ifdef SYS_renameat
	PATH(SYS_renameat, SYS_CALL_RENAME, 0, 1, 2, 3),
#endif
	PATH(SYS_renameat2, SYS_CALL_RENAME, 0, 1, 2, 3),
#ifdef SYS_unlink
	PATH(SYS_unlink, SYS_CALL_UNLINK, -1, 0, -1, -1),
#endif
	PATH(SYS_unlinkat, SYS_CALL_UNLINK, 0, 1, -1, -1),
};

const struct sys_kcall *sys_kcall_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct sys_kcall *sys_kcall_find(long nr)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].nr == nr)
			return &table[i];
	return NULL;
}

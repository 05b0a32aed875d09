/* libnl's error codes as errno: the one table for the two files that talk to libnl
 * (harness/lab/netlink.c, faults/net/nl.c). Header-only, and only for a file that already
 * includes libnl: common/ itself does not link libnl, and no other file may include this.
 *
 * Usage:
 *   r = rtnl_route_delete(sk, rt, 0);
 *   return libnl_errno(r);            // 0, or -errno
 *
 * libnl folds kernel errnos into fewer codes of its own (nl_syserr2nlerr); the table unfolds
 * each to the errno that the kernel most likely sent for it. NLE_OBJ_NOTFOUND stands for
 * both ESRCH and ENOENT and becomes ESRCH: the kernel's answer to deleting a route that is
 * not there (fib_table_delete), the one place chaosdrill meets it; the lab's requests go out
 * as plain bytes (nl_batch.c) and their errnos never pass through libnl. */
#ifndef CHAOSDRILL_COMMON_LIBNL_ERRNO_H
#define CHAOSDRILL_COMMON_LIBNL_ERRNO_H

#include <errno.h>
#include <stddef.h>

#include <netlink/errno.h>

/* A libnl result (negative or positive NLE_*) as 0 or a negative errno; -EIO for a code the
 * table does not know. */
static inline int libnl_errno(int nle)
{
	static const int errnos[] = {
		[NLE_FAILURE] = EIO,
		[NLE_INTR] = EINTR,
		[NLE_BAD_SOCK] = EBADF,
		[NLE_AGAIN] = EAGAIN,
		[NLE_NOMEM] = ENOMEM,
		[NLE_EXIST] = EEXIST,
		[NLE_INVAL] = EINVAL,
		[NLE_RANGE] = ERANGE,
		[NLE_MSGSIZE] = EMSGSIZE,
		[NLE_OPNOTSUPP] = EOPNOTSUPP,
		[NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
		[NLE_OBJ_NOTFOUND] = ESRCH,
		[NLE_NOATTR] = ENODATA,
		[NLE_MISSING_ATTR] = EINVAL,
		[NLE_AF_MISMATCH] = EAFNOSUPPORT,
		[NLE_SEQ_MISMATCH] = EPROTO,
		[NLE_MSG_OVERFLOW] = EOVERFLOW,
		[NLE_MSG_TRUNC] = EMSGSIZE,
		[NLE_NOADDR] = EADDRNOTAVAIL,
		[NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP,
		[NLE_MSG_TOOSHORT] = EBADMSG,
		[NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
		[NLE_OBJ_MISMATCH] = EINVAL,
		[NLE_NOCACHE] = ENOENT,
		[NLE_BUSY] = EBUSY,
		[NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
		[NLE_NOACCESS] = EACCES,
		[NLE_PERM] = EPERM,
		[NLE_PKTLOC_FILE] = ENOENT,
		[NLE_PARSE_ERR] = EINVAL,
		[NLE_NODEV] = ENODEV,
		[NLE_IMMUTABLE] = EPERM,
		[NLE_DUMP_INTR] = EINTR,
		[NLE_ATTRSIZE] = EINVAL,
	};

	if (nle < 0)
		nle = -nle;
	if (nle == 0)
		return 0;
	if ((size_t)nle >= sizeof(errnos) / sizeof(errnos[0]) || errnos[nle] == 0)
		return -EIO;
	return -errnos[nle];
}

#endif

/* Errno names as drills, reports and control lines spell them ("ENOSPC", "EIO"): the errnos
 * a storage fault plausibly returns, for the syscall rules (errno: ENOSPC) and the fault
 * file system's control protocol (err=EIO, "error EIO ..." replies).
 *
 * Usage:
 *   int e = errname_parse("EDQUOT");   // EDQUOT, or -EINVAL for a name not in the table
 *   const char *n = errname_str(e);    // "EDQUOT", or NULL for an errno not in the table
 */
#ifndef CHAOSDRILL_COMMON_ERRNAME_H
#define CHAOSDRILL_COMMON_ERRNAME_H

/* The name of errno err (positive); NULL if the table has none. Where two names share a
 * number (EOPNOTSUPP and ENOTSUP on Linux) the first listed is given: EOPNOTSUPP. */
const char *errname_str(int err);
/* The errno (positive) a name stands for; -EINVAL if the table does not know it. */
int errname_parse(const char *name);

#endif

/* The pool of lab subnets: a lab without --subnet takes the first /16 of the pool that no
 * other live lab on the machine holds. Each slot is claimed with flock(2) on a file under
 * SUBNET_POOL_DIR, held for the lab's life: the kernel drops the lock when the last fd of
 * it closes, so a killed harness frees its subnet without `gc`.
 *
 * Usage:
 *   char cidr[SUBNET_POOL_CIDR_LEN];
 *   int fd = subnet_pool_claim(cidr, sizeof(cidr));   // "10.213.0.0/16", or the next free
 *   ...                                               // the lab lives
 *   close(fd);                                        // the slot is free again
 *
 * The slots, in the order they are tried: 10.213.0.0/16 .. 10.255.0.0/16, then
 * 10.200.0.0/16 .. 10.212.0.0/16 (56 in all): the first lab of a quiet machine still gets
 * 10.213.0.0/16, the address the documentation shows. */
#ifndef CHAOSDRILL_HARNESS_SUBNET_POOL_H
#define CHAOSDRILL_HARNESS_SUBNET_POOL_H

#include <stddef.h>

#define SUBNET_POOL_DIR "/run/chaosdrill/subnets"
#define SUBNET_POOL_SIZE 56u
#define SUBNET_POOL_CIDR_LEN 20 /* "10.255.0.0/16" and its NUL, with room */

/* Slot k's subnet as "10.X.0.0/16". -ERANGE past the pool, -ENAMETOOLONG if len is short. */
int subnet_pool_slot(unsigned k, char *buf, size_t len);
/* The slot whose subnet is exactly cidr (as slot k prints it, or with host bits set:
 * "10.214.3.4/16"), or -ENOENT for a subnet outside the pool. */
int subnet_pool_slot_of(const char *cidr);
/* Tries the slots in order with try_claim(ud, k) until one returns >= 0, and returns that
 * value; a slot that answers -EWOULDBLOCK is in use, any other error ends the search with
 * it. -EBUSY when every slot is in use. Pure: the choice, apart from the claiming. */
int subnet_pool_choose(int (*try_claim)(void *ud, unsigned k), void *ud);
/* Claims slot k: the fd holding its lock (O_CLOEXEC; caller closes it to free the slot),
 * -EWOULDBLOCK if a live lab holds it, or -errno. */
int subnet_pool_claim_slot(unsigned k);
/* Claims the first free slot; cidr gets its subnet. Returns the fd holding it, -EBUSY when
 * the pool is used up, or -errno (the lock directory could not be made). */
int subnet_pool_claim(char *cidr, size_t len);

#endif

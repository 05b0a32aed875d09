/* The pool of lab subnets (subnet_pool.h): which /16 a lab takes when none is given, each
 * claimed with flock(2) on a file of its own under /run/chaosdrill/subnets/. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "harness/lab/subnet_pool.h"

#define POOL_FIRST 213u /* 10.213.0.0/16: the slot tried first */
#define POOL_LOW 200u	/* 10.200.0.0/16 .. 10.255.0.0/16 */

static unsigned slot_octet(unsigned k)
{
	return POOL_LOW + (POOL_FIRST - POOL_LOW + k) % SUBNET_POOL_SIZE;
}

int subnet_pool_slot(unsigned k, char *buf, size_t len)
{
	int n;

	if (k >= SUBNET_POOL_SIZE)
		return -ERANGE;
	n = snprintf(buf, len, "10.%u.0.0/16", slot_octet(k));
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int subnet_pool_slot_of(const char *cidr)
{
	char addr[32];
	unsigned prefix;
	struct in_addr in;
	uint32_t a;
	char extra;

	if (!cidr || sscanf(cidr, "%31[0-9.]/%u%c", addr, &prefix, &extra) != 2 ||
	    prefix != 16 || inet_pton(AF_INET, addr, &in) != 1)
		return -ENOENT;
	a = ntohl(in.s_addr);
	if (a >> 24 != 10 || ((a >> 16) & 0xff) < POOL_LOW)
		return -ENOENT;
	return (int)(((a >> 16 & 0xff) - POOL_LOW + SUBNET_POOL_SIZE - (POOL_FIRST - POOL_LOW)) %
		     SUBNET_POOL_SIZE);
}

int subnet_pool_choose(int (*try_claim)(void *ud, unsigned k), void *ud)
{
	for (unsigned k = 0; k < SUBNET_POOL_SIZE; k++) {
		int r = try_claim(ud, k);

		if (r != -EWOULDBLOCK)
			return r;
	}
	return -EBUSY;
}

int subnet_pool_claim_slot(unsigned k)
{
	char cidr[SUBNET_POOL_CIDR_LEN], path[sizeof(SUBNET_POOL_DIR) + SUBNET_POOL_CIDR_LEN + 8];
	int fd, r = subnet_pool_slot(k, cidr, sizeof(cidr));

	if (r < 0)
		return r;
	*strchr(cidr, '/') = '-'; /* a file name: "10.213.0.0-16" */
	snprintf(path, sizeof(path), "%s/%s", SUBNET_POOL_DIR, cidr);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* The real claim; remembers which slot it tried last. */
static int claim(void *ud, unsigned k)
{
	*(unsigned *)ud = k;
	return subnet_pool_claim_slot(k);
}

int subnet_pool_claim(char *cidr, size_t len)
{
	unsigned k = 0;
	int r = fs_mkdir_p(SUBNET_POOL_DIR, 0755), fd;

	if (r < 0)
		return r;
	fd = subnet_pool_choose(claim, &k);
	if (fd < 0)
		return fd;
	r = subnet_pool_slot(k, cidr, len);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

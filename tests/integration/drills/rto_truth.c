/* Ground truth for the RTO matrix (rto_matrix.sh), measured beside the workload and never
 * from its ledger. Runs inside a node, started by the start wrapper of the test target
 * tests/fixtures/targets/rtokv, and prints CLOCK_REALTIME nanoseconds (the drill's
 * timeline says which CLOCK_REALTIME its time 0 is):
 *
 *   rto-truth listen ADDR PORT      tries to connect every 200 us until a try succeeds;
 *                                   prints "listen REFUSED_NS OK_NS": the last refused try
 *                                   and the first accepted one, so the server began to
 *                                   listen in (REFUSED_NS, OK_NS]
 *   rto-truth arrivals SRC PORT     prints "arrival NS" for every TCP segment that carries
 *                                   data from SRC to PORT, stamped by the kernel when it
 *                                   arrived (SO_TIMESTAMPNS): when a replica received
 *                                   its primary's stream
 *
 * Exit 0 at the end of listen, never otherwise (the node's end kills it); 1 on an error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static int do_listen(const struct sockaddr_in *sa)
{
	struct timespec gap = { 0, 200 * 1000 };
	int64_t refused = 0;

	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int64_t t = now_real();
		int k;

		if (fd < 0)
			return 1;
		k = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
		close(fd);
		if (k == 0) {
			printf("listen %lld %lld\n", (long long)refused, (long long)now_real());
			return 0;
		}
		if (errno != ECONNREFUSED && errno != EINTR)
			return 1;
		refused = t;
		nanosleep(&gap, NULL);
	}
}

static int do_arrivals(const struct sockaddr_in *src)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP), one = 1;
	unsigned char buf[65536];
	char cbuf[256];

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(fd, &mh, 0);
		const struct iphdr *ip = (const void *)buf;
		const struct tcphdr *tcp;
		size_t ihl, doff, total;
		int64_t at = -1;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 1;
		if ((size_t)n < sizeof(*ip) || ip->saddr != src->sin_addr.s_addr)
			continue;
		ihl = (size_t)ip->ihl * 4;
		total = ntohs(ip->tot_len);
		if ((size_t)n < ihl + sizeof(*tcp) || total > (size_t)n)
			continue;
		tcp = (const void *)(buf + ihl);
		doff = (size_t)tcp->doff * 4;
		if (tcp->dest != src->sin_port || total <= ihl + doff)
			continue; /* another port, or no data (a bare ACK) */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			}
		printf("arrival %lld\n", (long long)(at >= 0 ? at : now_real()));
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;

	if (argc != 4 || parse_addr(argv[2], argv[3], &sa) < 0) {
		fprintf(stderr, "usage: rto-truth listen|arrivals ADDR PORT\n");
		return 2;
	}
	if (!strcmp(argv[1], "listen"))
		return do_listen(&sa);
	if (!strcmp(argv[1], "arrivals"))
		return do_arrivals(&sa);
	fprintf(stderr, "rto-truth: unknown mode '%s'\n", argv[1]);
	return 2;
}

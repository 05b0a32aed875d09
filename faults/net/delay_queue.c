/* The delay queue engine (delay_queue.h): a min-heap of held packets keyed by due time, fed
 * from an nfnetlink_queue socket (messages in nfq.c), drained by NF_ACCEPT verdicts. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/rng.h"
#include "common/timeutil.h"
#include "faults/net/delay_queue.h"
#include "faults/net/nfq.h"

#define RECV_BUF (128 * 1024)
#define SOCK_BUF (8 * 1024 * 1024)

struct held {
	int64_t due;
	uint64_t seq; /* arrival order breaks ties: equal delays keep their order */
	uint32_t id;
	void *copy; /* owned: bytes to send again after the verdict, or NULL */
	size_t copy_len;
};

struct net_delay {
	int fd, dup_fd;
	uint16_t queue;
	struct net_delay_spec spec;
	uint64_t rng, seq;
	struct held *heap;
	size_t n, cap;
	struct net_delay_stats stats;
	int64_t link_free; /* with a rate: when the link has sent what it holds */
	int64_t (*now)(void *ud);
	void *now_ud;
	char out[4096] __attribute__((aligned(4))); /* verdicts not yet sent */
	size_t out_len;
	char buf[RECV_BUF] __attribute__((aligned(4)));
};

static int64_t mono(void *ud)
{
	(void)ud;
	return time_mono_ns();
}

static bool chance(uint64_t *s, uint32_t per10k)
{
	return rng_next(s) % 10000 < per10k;
}

static bool before(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void swap(struct held *a, struct held *b)
{
	struct held t = *a;

	*a = *b;
	*b = t;
}

static int push(struct net_delay *q, const struct held *h)
{
	size_t i = q->n;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct held *n = realloc(q->heap, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		q->heap = n, q->cap = cap;
	}
	q->heap[q->n++] = *h;
	for (; i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2]); i = (i - 1) / 2)
		swap(&q->heap[i], &q->heap[(i - 1) / 2]);
	return 0;
}

static struct held pop(struct net_delay *q)
{
	struct held top = q->heap[0];
	size_t i = 0;

	q->heap[0] = q->heap[--q->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->n && before(&q->heap[l], &q->heap[m]))
			m = l;
		if (r < q->n && before(&q->heap[r], &q->heap[m]))
			m = r;
		if (m == i)
			return top;
		swap(&q->heap[i], &q->heap[m]);
		i = m;
	}
}

static int flush_out(struct net_delay *q);

/* Adds a verdict to the batch that goes out with the next flush. */
static int verdict(struct net_delay *q, uint32_t id, uint32_t v)
{
	struct net_nfq_msg m;
	int r = net_nfq_verdict_msg(q->queue, id, v, &m);

	if (r == 0 && q->out_len + m.len > sizeof(q->out))
		r = flush_out(q);
	if (r == 0) {
		memcpy(q->out + q->out_len, m.buf, m.len);
		q->out_len += m.len;
	}
	return r;
}

/* With a rate: when the link has sent this packet (after every earlier one), or -1 when
 * it would wait longer than the queue allows. */
static int64_t link_slot(struct net_delay *q, size_t len, int64_t now)
{
	const struct net_delay_spec *s = &q->spec;
	int64_t start = q->link_free > now ? q->link_free : now;

	if (!s->rate_bps)
		return now;
	if (start - now > s->queue_ns)
		return -1;
	q->link_free = start + (int64_t)((uint64_t)len * 8 * 1000000000ULL / s->rate_bps);
	return q->link_free;
}

/* Each packet draws, in this order, reorder, delay and duplicate: the same seed and the
 * same packets give the same schedule. */
static int hold(struct net_delay *q, const struct net_nfq_packet *p, int64_t now)
{
	const struct net_delay_spec *s = &q->spec;
	bool reorder = chance(&q->rng, s->reorder_per10k);
	uint64_t span = (uint64_t)s->jitter_ns * 2 + 1;
	int64_t d = s->mean_ns - s->jitter_ns + (int64_t)(rng_next(&q->rng) % span);
	int64_t sent = link_slot(q, p->len, now);
	struct held h = { .due = sent + (reorder || d < 0 ? 0 : d), .seq = q->seq++, .id = p->id };
	int r;

	if (q->stats.draws < NET_DELAY_DRAWS_KEPT)
		q->stats.first_us[q->stats.draws] = d / 1000;
	q->stats.draws++;

	if (sent < 0) { /* the rate's queue is full: dropped, as a router's buffer drops */
		(void)rng_next(&q->rng); /* the duplicate draw, so later packets draw the same */
		q->stats.dropped++;
		return verdict(q, p->id, NF_DROP);
	}
	if (chance(&q->rng, s->duplicate_per10k) && q->dup_fd >= 0 && p->len >= 20) {
		if (!(h.copy = malloc(p->len)))
			return -ENOMEM;
		memcpy(h.copy, p->payload, p->len);
		h.copy_len = p->len;
	}
	if ((r = push(q, &h)) < 0) {
		free(h.copy);
		return r;
	}
	q->stats.queued++;
	q->stats.reordered += reorder;
	return 0;
}

static int flush_out(struct net_delay *q)
{
	ssize_t n = q->out_len ? send(q->fd, q->out, q->out_len, 0) : 0;

	q->out_len = 0;
	return n < 0 ? -errno : 0;
}

/* A copy goes to the packet's destination (the node itself) over lo. */
static void send_copy(struct net_delay *q, const struct held *h)
{
	struct sockaddr_in to = { .sin_family = AF_INET };

	memcpy(&to.sin_addr, (const char *)h->copy + 16, 4);
	if (sendto(q->dup_fd, h->copy, h->copy_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		q->stats.dup_failed++;
	else
		q->stats.duplicated++;
}

static int release(struct net_delay *q, struct held *h)
{
	int r = verdict(q, h->id, NF_ACCEPT);

	if (r == 0)
		q->stats.accepted++;
	if (h->copy) {
		/* the original first: its verdict leaves before the copy is sent */
		if (r == 0)
			r = flush_out(q);
		send_copy(q, h);
		free(h->copy);
	}
	return r;
}

/* Lets the packets due by `until` go; returns how many. */
static int release_due(struct net_delay *q, int64_t until)
{
	int n = 0, r = 0;

	while (q->n > 0 && q->heap[0].due <= until && r == 0) {
		struct held h = pop(q);

		r = release(q, &h);
		n++;
	}
	if (r == 0)
		r = flush_out(q);
	return r < 0 ? r : n;
}

/* Reads every message queued on the socket without blocking. */
static int take(struct net_delay *q)
{
	for (;;) {
		ssize_t n = recv(q->fd, q->buf, sizeof(q->buf), MSG_DONTWAIT);
		/* int, as NLMSG_OK/NEXT expect: the last message's padding may make NLMSG_NEXT
		 * step past the end, and a size_t would wrap instead of going negative */
		int left = n > 0 ? (int)n : 0;
		int64_t now = q->now(q->now_ud);
		struct net_nfq_packet p;
		int r;

		if (n < 0 && errno == ENOBUFS) {
			q->stats.overruns++;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if (n == 0)
			return 0;
		for (struct nlmsghdr *h = (struct nlmsghdr *)q->buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left))
			if ((r = net_nfq_parse(h, &p)) == 1 && (r = hold(q, &p, now)) < 0)
				return r;
	}
}

int net_delay_handle(struct net_delay *q)
{
	int r = take(q);

	return r < 0 ? r : release_due(q, q->now(q->now_ud));
}

int net_delay_flush(struct net_delay *q)
{
	return release_due(q, INT64_MAX);
}

/* Sends the bind messages and reads their acks (the socket still blocks, 1 s at most). */
static int bind_queue(struct net_delay *q)
{
	struct timeval tv = { .tv_sec = 1 };
	struct net_nfq_msg m;
	unsigned acks;
	int size = SOCK_BUF, r;

	if ((r = net_nfq_bind_msg(q->queue, NET_DELAY_MAXLEN, &m)) < 0)
		return r;
	/* a burst of held packets must fit: FORCE needs CAP_NET_ADMIN, else the default */
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    send(q->fd, m.buf, m.len, 0) < 0)
		return -errno;
	for (acks = 0; acks < m.acks;) {
		ssize_t n = recv(q->fd, q->buf, sizeof(q->buf), 0);
		int left = n > 0 ? (int)n : 0; /* int for NLMSG_OK/NEXT (see take()) */
		struct net_nfq_packet p;

		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)q->buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if ((r = net_nfq_parse(h, &p)) < 0)
				return r;
			acks += h->nlmsg_type == NLMSG_ERROR;
		}
	}
	return 0;
}

int net_delay_new(int nfq_fd, int dup_fd, uint16_t queue, const struct net_delay_spec *spec,
		  struct net_delay **out)
{
	struct net_delay *q = NULL;
	int r = -EINVAL;

	if (nfq_fd < 0 || spec->mean_ns < 0 || spec->jitter_ns < 0 || spec->queue_ns < 0 ||
	    spec->duplicate_per10k > 10000 || spec->reorder_per10k > 10000)
		goto fail;
	r = -ENOMEM;
	if (!(q = calloc(1, sizeof(*q))))
		goto fail;
	*q = (struct net_delay){ .fd = nfq_fd,
				 .dup_fd = dup_fd,
				 .queue = queue,
				 .spec = *spec,
				 .rng = spec->seed,
				 .now = mono };
	if ((r = bind_queue(q)) < 0) {
		net_delay_free(q);
		return r;
	}
	*out = q;
	return 0;
fail:
	if (nfq_fd >= 0)
		close(nfq_fd);
	if (dup_fd >= 0)
		close(dup_fd);
	return r;
}

void net_delay_free(struct net_delay *q)
{
	if (!q)
		return;
	net_delay_flush(q);
	while (q->n > 0) { /* the socket failed: nothing to send, still free the copies */
		struct held h = pop(q);

		free(h.copy);
	}
	close(q->fd);
	if (q->dup_fd >= 0)
		close(q->dup_fd);
	free(q->heap);
	free(q);
}

int net_delay_fd(const struct net_delay *q)
{
	return q->fd;
}

int64_t net_delay_next_ns(const struct net_delay *q)
{
	return q->n ? q->heap[0].due : INT64_MAX;
}

int net_delay_timeout_ms(const struct net_delay *q)
{
	int64_t left;

	if (!q->n)
		return -1;
	left = q->heap[0].due - q->now(q->now_ud);
	if (left <= 0)
		return 0;
	return left / 1000000 >= 3600000 ? 3600000 : (int)((left + 999999) / 1000000);
}

void net_delay_stats(const struct net_delay *q, struct net_delay_stats *out)
{
	*out = q->stats;
}

void net_delay_set_clock(struct net_delay *q, int64_t (*now)(void *ud), void *ud)
{
	q->now = now;
	q->now_ud = ud;
}

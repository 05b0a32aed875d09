/* kvlog's group-commit helper thread: fdatasync(2) off the event loop (see kvlog_syncer.h).
 *
 * One mutex guards the shared fields; the thread holds it only to take the next target and
 * to post a result, never across fdatasync. The owner learns of results through an eventfd.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "targets/kvlog/kvlog_syncer.h"

struct kvlog_syncer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* to the thread: a new target, or quit */
	pthread_cond_t idle; /* to the owner: a sync returned */
	int efd;	     /* owned */
	uint64_t requested;  /* owner only: highest seq requested */
	uint64_t reaped;     /* owner only: highest seq reaped */
	/* Guarded by lock: */
	int fd;
	uint64_t want;	  /* highest seq requested */
	uint64_t started; /* seq covered by the last fdatasync called */
	uint64_t done;	  /* seq covered by the last fdatasync returned successfully */
	int err;	  /* first fdatasync failure, sticky */
	bool waiting;	  /* the thread sleeps on wake */
	bool quit;
};

static void *syncer_main(void *arg)
{
	struct kvlog_syncer *sy = arg;

	pthread_mutex_lock(&sy->lock);
	for (;;) {
		uint64_t seq;
		int fd, r;

		while (sy->want <= sy->started && !sy->quit) {
			sy->waiting = true;
			pthread_cond_wait(&sy->wake, &sy->lock);
			sy->waiting = false;
		}
		if (sy->want <= sy->started)
			break; /* quit, and nothing left to sync */
		/* Everything requested up to now was written before this call. */
		seq = sy->started = sy->want;
		fd = sy->fd;
		pthread_mutex_unlock(&sy->lock);
		r = fdatasync(fd) < 0 ? -errno : 0;
		pthread_mutex_lock(&sy->lock);
		if (r < 0 && !sy->err)
			sy->err = r;
		if (r == 0 && seq > sy->done)
			sy->done = seq;
		pthread_cond_broadcast(&sy->idle);
		(void)!eventfd_write(sy->efd, 1);
	}
	pthread_mutex_unlock(&sy->lock);
	return NULL;
}

static int spawn(struct kvlog_syncer *sy)
{
	sigset_t all, old;
	int r;

	/* Signals stay with the owner's signalfd: the thread starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&sy->thread, NULL, syncer_main, sy);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

int kvlog_syncer_new(struct kvlog_syncer **out)
{
	struct kvlog_syncer *sy = calloc(1, sizeof(*sy));
	int r;

	if (!sy)
		return -ENOMEM;
	sy->fd = -1;
	sy->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sy->efd < 0) {
		r = -errno;
		free(sy);
		return r;
	}
	pthread_mutex_init(&sy->lock, NULL);
	pthread_cond_init(&sy->wake, NULL);
	pthread_cond_init(&sy->idle, NULL);
	r = spawn(sy);
	if (r < 0) {
		pthread_cond_destroy(&sy->idle);
		pthread_cond_destroy(&sy->wake);
		pthread_mutex_destroy(&sy->lock);
		close(sy->efd);
		free(sy);
		return r;
	}
	*out = sy;
	return 0;
}

void kvlog_syncer_free(struct kvlog_syncer *sy)
{
	if (!sy)
		return;
	pthread_mutex_lock(&sy->lock);
	sy->quit = true; /* what was requested is still synced first: its fd is open */
	pthread_cond_signal(&sy->wake);
	pthread_mutex_unlock(&sy->lock);
	pthread_join(sy->thread, NULL);
	pthread_cond_destroy(&sy->idle);
	pthread_cond_destroy(&sy->wake);
	pthread_mutex_destroy(&sy->lock);
	close(sy->efd);
	free(sy);
}

int kvlog_syncer_fd(const struct kvlog_syncer *sy)
{
	return sy->efd;
}

void kvlog_syncer_request(struct kvlog_syncer *sy, int fd, uint64_t seq)
{
	if (seq <= sy->requested)
		return;
	sy->requested = seq;
	pthread_mutex_lock(&sy->lock);
	sy->fd = fd;
	sy->want = seq;
	if (sy->waiting) /* else it is syncing and looks at want when that returns */
		pthread_cond_signal(&sy->wake);
	pthread_mutex_unlock(&sy->lock);
}

bool kvlog_syncer_busy(const struct kvlog_syncer *sy)
{
	return sy->requested > sy->reaped;
}

/* With lock held: the result since the last take. */
static int take(struct kvlog_syncer *sy, uint64_t *seq)
{
	eventfd_t v;

	(void)!eventfd_read(sy->efd, &v); /* EAGAIN when already drained: fine */
	if (sy->err)
		return sy->err;
	if (sy->done <= sy->reaped)
		return 0;
	*seq = sy->reaped = sy->done;
	return 1;
}

int kvlog_syncer_reap(struct kvlog_syncer *sy, uint64_t *seq)
{
	int r;

	if (!kvlog_syncer_busy(sy))
		return 0;
	pthread_mutex_lock(&sy->lock);
	r = take(sy, seq);
	pthread_mutex_unlock(&sy->lock);
	return r;
}

int kvlog_syncer_wait(struct kvlog_syncer *sy, uint64_t *seq)
{
	int r;

	if (!kvlog_syncer_busy(sy))
		return 0;
	pthread_mutex_lock(&sy->lock);
	while (sy->done < sy->want && !sy->err)
		pthread_cond_wait(&sy->idle, &sy->lock);
	r = take(sy, seq);
	pthread_mutex_unlock(&sy->lock);
	return r;
}

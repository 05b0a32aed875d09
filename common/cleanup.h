/* Scope-bound cleanup: variables that free, close or reap themselves when they leave scope.
 *
 * Usage:
 *   _cleanup_free_ char *s = strdup(x);      // free(s) at scope exit
 *   _cleanup_close_ int fd = -1;             // close(fd) if >= 0
 *   _cleanup_fclose_ FILE *f = NULL;         // fclose(f) if non-NULL
 *   _cleanup_closedir_ DIR *d = NULL;        // closedir(d) if non-NULL
 *   _cleanup_pid_ pid_t pid = -1;            // SIGKILL then waitpid if > 0
 *   return TAKE_PTR(s);  / return TAKE_FD(fd);   // hand ownership on
 */
#ifndef CHAOSDRILL_COMMON_CLEANUP_H
#define CHAOSDRILL_COMMON_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void cleanup_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static inline void cleanup_pidp(pid_t *pid)
{
	if (*pid > 0) {
		int saved = errno;
		kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		errno = saved;
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cleanup_freep)
#define _cleanup_close_ _cleanup_(cleanup_closep)
#define _cleanup_fclose_ _cleanup_(cleanup_fclosep)
#define _cleanup_closedir_ _cleanup_(cleanup_closedirp)
#define _cleanup_pid_ _cleanup_(cleanup_pidp)

/* Define cleanup_NAME_freep for an opaque handle whose NAME_free() accepts NULL. */
#define DEFINE_CLEANUP_FUNC(type, func)      \
	static inline void func##p(type **p) \
	{                                    \
		func(*p);                    \
	}

#define TAKE_PTR(p)                       \
	({                                \
		__typeof__(p) _tp_ = (p); \
		(p) = NULL;               \
		_tp_;                     \
	})

#define TAKE_FD(fd)              \
	({                       \
		int _tf_ = (fd); \
		(fd) = -1;       \
		_tf_;            \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif

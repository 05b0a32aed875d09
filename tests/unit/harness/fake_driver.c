/* The fake target of the engine's unit tests: see fake_driver.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/harness/fake_driver.h"

static ssize_t fake_encode(void *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* snprintf's contract without its NUL: the length, written only if it fits. */
static ssize_t fake_encode(void *buf, size_t cap, const char *fmt, ...)
{
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if ((size_t)n <= cap)
		memcpy(buf, s, (size_t)n);
	free(s);
	return n;
}

static ssize_t fake_encode_set(void *buf, size_t cap, uint64_t tag, const char *key,
			       const void *val, size_t vlen)
{
	if (!*key)
		return -EINVAL;
	return fake_encode(buf, cap, "%" PRIu64 " set %s %.*s\n", tag, key, (int)vlen,
			   (const char *)val);
}

static ssize_t fake_encode_all(void *buf, size_t cap, uint64_t tag)
{
	return fake_encode(buf, cap, "%" PRIu64 " all\n", tag);
}

/* One line: "TAG WORD REST"; 0 if the line is not complete. */
static ssize_t fake_decode(const void *buf, size_t len, struct target_reply *out)
{
	const char *s = buf, *nl = memchr(s, '\n', len), *sp, *rest;
	size_t n;

	if (!nl)
		return 0;
	n = (size_t)(nl - s) + 1;
	*out = (struct target_reply){ 0 };
	sp = memchr(s, ' ', (size_t)(nl - s));
	if (!sp)
		return -EBADMSG;
	if (s[0] == '=')
		out->oldest = true;
	else
		out->tag = strtoull(s, NULL, 10);
	rest = sp + 1;
	if (strncmp(rest, "ok", 2) == 0) {
		out->kind = TARGET_ACKED;
		return (ssize_t)n;
	}
	if (strncmp(rest, "kv ", 3) == 0) {
		const char *v = memchr(rest + 3, ' ', (size_t)(nl - rest - 3));

		if (!v)
			return -EBADMSG;
		out->kind = TARGET_KV;
		out->key = rest + 3;
		out->klen = (size_t)(v - rest - 3);
		out->val = v + 1;
		out->vlen = (size_t)(nl - v - 1);
		return (ssize_t)n;
	}
	if (strncmp(rest, "fail ", 5) == 0)
		out->kind = TARGET_REFUSED;
	else if (strncmp(rest, "unknown ", 8) == 0)
		out->kind = TARGET_UNKNOWN;
	else
		return -EBADMSG;
	out->reason = strchr(rest, ' ') + 1;
	out->reason_len = (size_t)(nl - out->reason);
	return (ssize_t)n;
}

/* The fake protocol decodes KV lines in either context; the engine must refuse them where
 * a set's reply is due. */
const struct target_driver fake_driver = {
	.name = "fake",
	.encode_set = fake_encode_set,
	.decode_reply = fake_decode,
	.encode_read_all = fake_encode_all,
	.decode_read_all = fake_decode,
};

int fake_target_listen(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

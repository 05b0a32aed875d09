/* Socket helpers for kvlog: "ADDR:PORT" parsing (numeric IPv4), connect with a timeout,
 * listen. Every socket is SOCK_CLOEXEC. All return >= 0 (an fd, caller closes) or -errno. */
#ifndef CHAOSDRILL_TARGETS_KVLOG_NET_H
#define CHAOSDRILL_TARGETS_KVLOG_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* "127.0.0.1:7700" -> sa. -EINVAL on anything else. */
int kvlog_net_parse(const char *addr, struct sockaddr_in *sa);
int kvlog_net_sockaddr(const char *host, uint16_t port, struct sockaddr_in *sa);
/* Non-blocking socket with a connect started (TCP_NODELAY set). */
int kvlog_net_connect_start(const struct sockaddr_in *sa);
/* Blocking connect, failing with -ETIMEDOUT after timeout_ms; the fd stays blocking with
 * SO_RCVTIMEO/SO_SNDTIMEO of timeout_ms. */
int kvlog_net_connect(const struct sockaddr_in *sa, int timeout_ms);
/* Non-blocking listening socket (SO_REUSEADDR). */
int kvlog_net_listen(const struct sockaddr_in *sa);

#endif

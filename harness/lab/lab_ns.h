/* Network-namespace switching for the calling thread: open a socket inside a lab or node
 * namespace and come straight back. setns(CLONE_NEWNET) is per thread, so this is safe in a
 * multi-threaded harness as long as the thread does nothing else in between. */
#ifndef CHAOSDRILL_HARNESS_LAB_NS_H
#define CHAOSDRILL_HARNESS_LAB_NS_H

/* Moves the calling thread into netns_fd (borrowed); *saved receives an fd on the old one
 * (caller passes it to ns_net_leave, which closes it). netns_fd < 0: no move, *saved = -1. */
int ns_net_enter(int netns_fd, int *saved);
/* Returns the thread to saved (takes ownership; -1: nothing to do). */
int ns_net_leave(int saved);
/* socket(2) inside netns_fd (borrowed), always close-on-exec. Returns the fd or -errno. */
int ns_socket(int netns_fd, int domain, int type, int protocol);

#endif

/* A fake target for the engine's unit tests. Its driver speaks a line protocol, requests
 * "TAG set KEY VALUE" and "TAG all", replies "TAG ok", "TAG fail WHY", "TAG unknown WHY"
 * and "TAG kv KEY VALUE", where TAG "=" means the oldest request in flight. Keys and
 * values must not hold spaces or newlines. The tests play the target's side themselves,
 * on a socketpair, pipes, or a loopback listener. */
#ifndef CHAOSDRILL_TESTS_FAKE_DRIVER_H
#define CHAOSDRILL_TESTS_FAKE_DRIVER_H

#include <stdint.h>

#include "targets/driver.h"

extern const struct target_driver fake_driver;

/* A listening TCP socket on 127.0.0.1 (caller closes), *port where; -errno on failure. */
int fake_target_listen(uint16_t *port);

#endif

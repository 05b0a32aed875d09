/* A fake target driver for the engine's unit tests: a line protocol, requests
 * "TAG set KEY VALUE" and "TAG all", replies "TAG ok", "TAG fail WHY", "TAG unknown WHY"
 * and "TAG kv KEY VALUE", where TAG "=" means the oldest request in flight. Keys and
 * values must not hold spaces or newlines. */
#ifndef CHAOSDRILL_TESTS_FAKE_DRIVER_H
#define CHAOSDRILL_TESTS_FAKE_DRIVER_H

#include "targets/driver.h"

extern const struct target_driver fake_driver;

#endif

/* Unit tests of common/rng.h, the one seeded random source: splitmix64's published
 * reference values, and the values each seeded draw of chaosdrill gave when they were
 * pinned. Replay from a seed is a promise: none of these may ever change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/rng.h"

/* The reference implementation's streams (Vigna, splitmix64.c) for seeds 0 and 1234567. */
static void test_reference_streams(void **state)
{
	static const uint64_t seed0[] = { 0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL,
					  0x06c45d188009454fULL, 0xf88bb8a8724c81ecULL };
	static const uint64_t seed1234567[] = { 6457827717110365317ULL, 3203168211198807973ULL,
						9817491932198370423ULL, 4593380528125082431ULL,
						16408922859458223821ULL };
	uint64_t s = 0;

	for (size_t i = 0; i < sizeof(seed0) / sizeof(seed0[0]); i++)
		assert_int_equal(rng_next(&s), seed0[i]);
	s = 1234567;
	for (size_t i = 0; i < sizeof(seed1234567) / sizeof(seed1234567[0]); i++)
		assert_int_equal(rng_next(&s), seed1234567[i]);
}

/* rng_mix(x) is what a stream at state x gives next, without moving it. */
static void test_mix_is_next(void **state)
{
	uint64_t s = 42;

	for (int i = 0; i < 16; i++) {
		uint64_t at = s;

		assert_int_equal(rng_next(&s), rng_mix(at));
		assert_int_equal(s, at + RNG_GOLDEN);
	}
	assert_int_equal(rng_mix(1), 0x910a2dec89025cc1ULL);
}

/* The counter-based draws of faultfs (bad sectors: stream 0x5ec7), in any order. */
static void test_draw(void **state)
{
	static const uint64_t want[] = { 0xd7d0138f9211d23cULL, 0x9c3fded301b25944ULL,
					 0x12d1b85486a7aef7ULL };

	for (size_t i = 3; i-- > 0;)
		assert_int_equal(rng_draw(3, 0x5ec7, i), want[i]);
	assert_true(rng_draw(4, 0x5ec7, 0) != want[0]);
	assert_true(rng_draw(3, 0x5ec8, 0) != want[0]);
}

static void test_hash_str(void **state)
{
	assert_int_equal(rng_hash_str("txn.log"), 0x72763a4282205d35ULL);
	assert_int_equal(rng_hash_str(""), 0xcbf29ce484222325ULL);
	assert_int_equal(rng_hash_str(NULL), rng_hash_str(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_streams),
		cmocka_unit_test(test_mix_is_next),
		cmocka_unit_test(test_draw),
		cmocka_unit_test(test_hash_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

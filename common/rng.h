/* The one seeded random source: splitmix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", 2014, with Vigna's constants). Every seeded choice of a
 * drill is drawn from here, so one seed replays one drill: a torn write's byte, a delay's
 * jitter, a power cut's kept sectors, the ledger's values. The values are pinned
 * (tests/unit/common/test_rng.c, and each user's own tests) and must never change.
 * Header-only and libc-free: the preload shim, which links nothing of common/, uses it too.
 *
 * Usage:
 *   uint64_t s = seed;
 *   x = rng_next(&s);                // a stream: each call the next value
 *   x = rng_mix(v);                  // stateless: what a stream at state v gives next
 *   x = rng_draw(seed, stream, i);   // the i-th value of a named stream, in any order
 *   stream = rng_hash_str("txn.log");  // a name as a stream's key (FNV-1a)
 */
#ifndef CHAOSDRILL_COMMON_RNG_H
#define CHAOSDRILL_COMMON_RNG_H

#include <stdint.h>

/* splitmix64's increment: 2^64 / the golden ratio, odd. */
#define RNG_GOLDEN 0x9e3779b97f4a7c15ULL

/* splitmix64's output for state x: its finaliser, a good 64-bit mix, applied to x + the
 * increment. rng_mix(0) is 0xe220a8397b1dcdaf, the reference's first value for seed 0. */
static inline uint64_t rng_mix(uint64_t x)
{
	x += RNG_GOLDEN;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The next value of the stream whose state is *state (start it at the seed). */
static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t x = rng_mix(*state);

	*state += RNG_GOLDEN;
	return x;
}

/* The i-th value of the stream named by (seed, stream): counter-based, so choices drawn in
 * any order, or on different threads, are the same for the same seed. */
static inline uint64_t rng_draw(uint64_t seed, uint64_t stream, uint64_t i)
{
	return rng_mix(rng_mix(seed ^ rng_mix(stream)) + i);
}

/* FNV-1a of a string (NULL: as ""), to name a stream after a file. */
static inline uint64_t rng_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

#endif

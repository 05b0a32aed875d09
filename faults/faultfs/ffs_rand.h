/* Seeded, order-independent randomness for the fault file system: every choice is a pure
 * function of (seed, what is being chosen), so a drill replays exactly from its seed. */
#ifndef CHAOSDRILL_FAULTFS_RAND_H
#define CHAOSDRILL_FAULTFS_RAND_H

#include <stdint.h>

/* splitmix64's finalizer: a good 64-bit mix of x. */
static inline uint64_t ffs_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* FNV-1a of a string, to fold a path into a choice. */
static inline uint64_t ffs_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* The i-th draw of the stream named by (seed, salt). */
static inline uint64_t ffs_draw(uint64_t seed, uint64_t salt, uint64_t i)
{
	return ffs_mix64(ffs_mix64(seed ^ ffs_mix64(salt)) + i);
}

#endif

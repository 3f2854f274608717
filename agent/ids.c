#include "ids.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static unsigned fork_generation = 1;

static __thread struct {
        uint64_t s[4];
        unsigned generation;
} rng;

static uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static void seed(void)
{
        int saved = errno;
        uint64_t x;
        struct timespec ts;

        if (getrandom(rng.s, sizeof(rng.s), GRND_NONBLOCK) != sizeof(rng.s)) {
                /* No entropy yet (early boot): mix what differs. */
                clock_gettime(CLOCK_MONOTONIC, &ts);
                x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                    ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&rng;
                for (int i = 0; i < 4; i++)
                        rng.s[i] = splitmix(&x);
        }
        if (!(rng.s[0] | rng.s[1] | rng.s[2] | rng.s[3]))
                rng.s[0] = 1;
        rng.generation = __atomic_load_n(&fork_generation, __ATOMIC_RELAXED);
        errno          = saved;
}

static uint64_t next(void)
{
        uint64_t r, t;

        if (rng.generation != __atomic_load_n(&fork_generation, __ATOMIC_RELAXED))
                seed();
        r = rotl(rng.s[1] * 5, 7) * 9;
        t = rng.s[1] << 17;
        rng.s[2] ^= rng.s[0];
        rng.s[3] ^= rng.s[1];
        rng.s[1] ^= rng.s[2];
        rng.s[0] ^= rng.s[3];
        rng.s[2] ^= t;
        rng.s[3] = rotl(rng.s[3], 45);
        return r;
}

void kotel_ids_trace(uint8_t out[16])
{
        uint64_t a, b;

        do {
                a = next();
                b = next();
        } while (!a && !b);
        memcpy(out, &a, 8);
        memcpy(out + 8, &b, 8);
}

void kotel_ids_span(uint8_t out[8])
{
        uint64_t a;

        do
                a = next();
        while (!a);
        memcpy(out, &a, 8);
}

void kotel_ids_atfork_child(void)
{
        __atomic_add_fetch(&fork_generation, 1, __ATOMIC_RELAXED);
}

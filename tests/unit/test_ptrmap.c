/* ptrmap: put/get/del, growth, and backward-shift deletion under heavy
 * collisions, checked against a reference model after every operation. */
#include <stdlib.h>

#include "agent/ptrmap.h"
#include "tap.h"

#define N 3000

static uint64_t keys[N];
static int present[N];

/* Every key the model holds is found with its value; absent ones are not. */
static int model_agrees(const struct kotel_ptrmap *m, size_t n)
{
        size_t count = 0;

        for (size_t i = 0; i < n; i++) {
                void *v = kotel_ptrmap_get(m, keys[i]);

                if (present[i] ? v != (void *)(uintptr_t)(i + 1) : v != NULL)
                        return 0;
                count += present[i];
        }
        return m->count == count;
}

int main(void)
{
        struct kotel_ptrmap m = {0};
        int ok;

        CHECK(kotel_ptrmap_get(&m, 42) == NULL, "get on an empty map");
        CHECK(kotel_ptrmap_del(&m, 42) == NULL, "del on an empty map");
        CHECK(kotel_ptrmap_put(&m, 42, (void *)1) == 0, "put");
        CHECK(kotel_ptrmap_get(&m, 42) == (void *)1, "get after put");
        CHECK(kotel_ptrmap_put(&m, 42, (void *)2) == 0 && m.count == 1,
              "put on an existing key replaces");
        CHECK(kotel_ptrmap_get(&m, 42) == (void *)2, "replaced value");
        CHECK(kotel_ptrmap_get(&m, 0) == NULL, "key 0 is never found");
        {
                void *old = (void *)9;

                CHECK(kotel_ptrmap_swap(&m, 42, (void *)3, &old) == 0 &&
                          old == (void *)2 && m.count == 1 &&
                          kotel_ptrmap_get(&m, 42) == (void *)3,
                      "swap on an existing key replaces and returns the old");
                CHECK(kotel_ptrmap_swap(&m, 43, (void *)4, &old) == 0 &&
                          old == NULL && m.count == 2 &&
                          kotel_ptrmap_get(&m, 43) == (void *)4,
                      "swap on a new key adds and returns NULL");
                CHECK(kotel_ptrmap_del(&m, 43) == (void *)4 &&
                          kotel_ptrmap_swap(&m, 42, (void *)2, &old) == 0 &&
                          old == (void *)3,
                      "swap back");
        }
        CHECK(kotel_ptrmap_del(&m, 42) == (void *)2 && m.count == 0, "del");
        CHECK(kotel_ptrmap_get(&m, 42) == NULL, "gone after del");
        CHECK(kotel_ptrmap_del(&m, 42) == NULL, "del twice");
        kotel_ptrmap_put(&m, 42, (void *)5);
        CHECK(!kotel_ptrmap_del_if(&m, 42, (void *)6) &&
                  kotel_ptrmap_get(&m, 42) == (void *)5 && m.count == 1,
              "del_if with another value keeps the entry");
        CHECK(!kotel_ptrmap_del_if(&m, 44, (void *)5) && m.count == 1,
              "del_if of an absent key");
        CHECK(kotel_ptrmap_del_if(&m, 42, (void *)5) && m.count == 0 &&
                  kotel_ptrmap_get(&m, 42) == NULL,
              "del_if with its value removes it");

        /* Pointer-like keys (16-byte aligned, as malloc gives), enough to
         * grow several times. */
        for (size_t i = 0; i < N; i++)
                keys[i] = 0x7f0000001000ull + 16 * i;
        ok = 1;
        for (size_t i = 0; i < N; i++) {
                ok &= kotel_ptrmap_put(&m, keys[i], (void *)(uintptr_t)(i + 1)) == 0;
                present[i] = 1;
        }
        CHECK(ok && m.count == N, "3000 puts");
        CHECK(m.mask + 1 >= N * 4 / 3 && ((m.mask + 1) & m.mask) == 0,
              "grew to a power of two under 3/4 load");
        CHECK(model_agrees(&m, N), "all found after growth");

        /* Random churn in a small, nearly full table: long probe runs that
         * wrap around the end, deleted from the middle. Every step is
         * checked against the model. */
        kotel_ptrmap_free(&m);
        srand(7);
        ok = 1;
        for (size_t i = 0; i < 48; i++) {
                kotel_ptrmap_put(&m, keys[i], (void *)(uintptr_t)(i + 1));
                present[i] = 1;
        }
        for (size_t i = 48; i < N; i++)
                present[i] = 0;
        CHECK(m.mask == 63 && model_agrees(&m, 48), "48 keys in 64 slots");
        for (int step = 0; step < 20000 && ok; step++) {
                size_t i = (size_t)rand() % 48;

                if (present[i]) {
                        ok &= kotel_ptrmap_del(&m, keys[i]) == (void *)(uintptr_t)(i + 1);
                        present[i] = 0;
                } else {
                        ok &= kotel_ptrmap_put(&m, keys[i], (void *)(uintptr_t)(i + 1)) == 0;
                        present[i] = 1;
                }
                ok &= model_agrees(&m, 48);
        }
        CHECK(ok, "20000 random put/del steps agree with the model");
        CHECK(m.mask == 63, "churn below the load limit never grows");
        for (size_t i = 0; i < 48; i++)
                if (present[i])
                        kotel_ptrmap_del(&m, keys[i]);
        CHECK(m.count == 0, "emptied");
        ok = 1;
        for (size_t i = 0; i <= m.mask; i++)
                ok &= m.slots[i].key == 0;
        CHECK(ok, "no tombstones left behind");
        kotel_ptrmap_free(&m);
        CHECK(m.slots == NULL && m.count == 0, "free");
        TAP_DONE();
}

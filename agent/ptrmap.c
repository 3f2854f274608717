#include "ptrmap.h"

#include <stdlib.h>

static size_t hash(uint64_t k)
{
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdull;
        k ^= k >> 33;
        return (size_t)k;
}

static int grow(struct kotel_ptrmap *m)
{
        size_t size = m->slots ? (m->mask + 1) * 2 : 64;
        struct kotel_ptrmap_slot *s = calloc(size, sizeof(*s));

        if (!s)
                return -1;
        for (size_t i = 0; m->slots && i <= m->mask; i++) {
                size_t j;

                if (!m->slots[i].key)
                        continue;
                for (j = hash(m->slots[i].key) & (size - 1); s[j].key;
                     j = (j + 1) & (size - 1))
                        ;
                s[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = s;
        m->mask  = size - 1;
        return 0;
}

int kotel_ptrmap_swap(struct kotel_ptrmap *m, uint64_t key, void *val,
                      void **old)
{
        size_t i;

        *old = NULL;
        if (!m->slots || (m->count + 1) * 4 > (m->mask + 1) * 3)
                if (grow(m) < 0 && (!m->slots || m->count + 1 > m->mask)) {
                        /* Full: replacing needs no room. */
                        *old = kotel_ptrmap_del(m, key);
                        if (!*old)
                                return -1;
                }
        for (i = hash(key) & m->mask; m->slots[i].key; i = (i + 1) & m->mask)
                if (m->slots[i].key == key) {
                        *old            = m->slots[i].val;
                        m->slots[i].val = val;
                        return 0;
                }
        m->slots[i].key = key;
        m->slots[i].val = val;
        m->count++;
        return 0;
}

int kotel_ptrmap_put(struct kotel_ptrmap *m, uint64_t key, void *val)
{
        void *old;

        return kotel_ptrmap_swap(m, key, val, &old);
}

void *kotel_ptrmap_get(const struct kotel_ptrmap *m, uint64_t key)
{
        if (!m->slots || !key)
                return NULL;
        for (size_t i = hash(key) & m->mask; m->slots[i].key;
             i = (i + 1) & m->mask)
                if (m->slots[i].key == key)
                        return m->slots[i].val;
        return NULL;
}

/* Empties slot @i, whose entry is found, by backward shift: pulls later
 * members of the run into the hole when their home slot does not lie
 * cyclically in (hole, here]. */
static void del_at(struct kotel_ptrmap *m, size_t i)
{
        size_t j;

        for (j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
                size_t home = hash(m->slots[j].key) & m->mask;

                if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
                        m->slots[i] = m->slots[j];
                        i           = j;
                }
        }
        m->slots[i].key = 0;
        m->slots[i].val = NULL;
        m->count--;
}

void *kotel_ptrmap_del(struct kotel_ptrmap *m, uint64_t key)
{
        size_t i;
        void *val;

        if (!m->slots || !key)
                return NULL;
        for (i = hash(key) & m->mask; m->slots[i].key != key;
             i = (i + 1) & m->mask)
                if (!m->slots[i].key)
                        return NULL;
        val = m->slots[i].val;
        del_at(m, i);
        return val;
}

bool kotel_ptrmap_del_if(struct kotel_ptrmap *m, uint64_t key, const void *val)
{
        size_t i;

        if (!m->slots || !key)
                return false;
        for (i = hash(key) & m->mask; m->slots[i].key != key;
             i = (i + 1) & m->mask)
                if (!m->slots[i].key)
                        return false;
        if (m->slots[i].val != val)
                return false;
        del_at(m, i);
        return true;
}

void kotel_ptrmap_free(struct kotel_ptrmap *m)
{
        free(m->slots);
        m->slots = NULL;
        m->mask  = 0;
        m->count = 0;
}

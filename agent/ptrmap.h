/* An open-addressing hash map from a non-zero 64-bit key (a pointer, or a
 * span id) to a pointer, with linear probing and backward-shift deletion
 * (no tombstones, so lookups stay short under churn). Not thread-safe: the
 * owner locks. Grows by doubling; a failed growth leaves it usable. */
#ifndef KOTEL_PTRMAP_H
#define KOTEL_PTRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kotel_ptrmap_slot {
        uint64_t key; /* 0: empty */
        void *val;
};

struct kotel_ptrmap {
        struct kotel_ptrmap_slot *slots;
        size_t mask;
        size_t count;
};

/* 0, or -1 when full and unable to grow (the entry is not added). */
int kotel_ptrmap_put(struct kotel_ptrmap *m, uint64_t key, void *val);
/* The same, and *@old receives the value @key had (NULL: none): one probe
 * where a del and a put take two. */
int kotel_ptrmap_swap(struct kotel_ptrmap *m, uint64_t key, void *val,
                      void **old);
void *kotel_ptrmap_get(const struct kotel_ptrmap *m, uint64_t key);
/* Removes @key; returns its value or NULL. */
void *kotel_ptrmap_del(struct kotel_ptrmap *m, uint64_t key);
/* Removes @key only if its value is @val, in one probe; true if removed. */
bool kotel_ptrmap_del_if(struct kotel_ptrmap *m, uint64_t key, const void *val);
void kotel_ptrmap_free(struct kotel_ptrmap *m);

#endif

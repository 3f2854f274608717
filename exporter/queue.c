#include "queue.h"

#include <string.h>
#include <sys/mman.h>

/* LeakSanitizer scans the heap, stacks and globals, not anonymous
 * mappings: under ASan the ring is registered as a root region, so that
 * spans still queued at exit (past the shutdown deadline) are reachable
 * from it, as they are in fact. */
#if defined(__SANITIZE_ADDRESS__)
#define KOTEL_LSAN_ROOTS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KOTEL_LSAN_ROOTS 1
#endif
#endif
#ifdef KOTEL_LSAN_ROOTS
#include <sanitizer/lsan_interface.h>
#define ROOT_ADD(p, n) __lsan_register_root_region(p, n)
#define ROOT_DEL(p, n) __lsan_unregister_root_region(p, n)
#else
#define ROOT_ADD(p, n) ((void)(p), (void)(n))
#define ROOT_DEL(p, n) ((void)(p), (void)(n))
#endif

struct kotel_queue_cell {
        size_t seq; /* lap base of the position it is free for; +1: published */
        void *item;
};

int kotel_queue_init(struct kotel_queue *q, size_t capacity)
{
        size_t size = 2;
        void *map;

        if (capacity < 1)
                capacity = 1;
        while (size < capacity)
                size <<= 1;
        /* Zero pages on first touch: no cell is written here. */
        map = mmap(NULL, size * sizeof(*q->cells), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (map == MAP_FAILED)
                return -1;
        q->cells    = map;
        q->map_len  = size * sizeof(*q->cells);
        ROOT_ADD(map, q->map_len);
        q->mask     = size - 1;
        q->capacity = capacity;
        q->tail     = 0;
        q->head     = 0;
        q->count    = 0;
        return 0;
}

void kotel_queue_destroy(struct kotel_queue *q)
{
        if (q->cells) {
                ROOT_DEL(q->cells, q->map_len);
                munmap(q->cells, q->map_len);
        }
        q->cells = NULL;
}

bool kotel_queue_push(struct kotel_queue *q, void *item)
{
        struct kotel_queue_cell *cell;
        size_t pos;

        if (__atomic_add_fetch(&q->count, 1, __ATOMIC_RELAXED) > q->capacity) {
                __atomic_sub_fetch(&q->count, 1, __ATOMIC_RELAXED);
                return false;
        }
        pos = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
        for (;;) {
                size_t seq;
                intptr_t dif;

                cell = &q->cells[pos & q->mask];
                seq  = __atomic_load_n(&cell->seq, __ATOMIC_ACQUIRE);
                dif  = (intptr_t)seq - (intptr_t)(pos & ~q->mask);
                if (dif == 0) {
                        if (__atomic_compare_exchange_n(&q->tail, &pos, pos + 1,
                                                        true, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED))
                                break;
                } else if (dif < 0) {
                        /* Cannot happen while count <= capacity <= size, but
                         * never spin on a corrupted ring. */
                        __atomic_sub_fetch(&q->count, 1, __ATOMIC_RELAXED);
                        return false;
                } else {
                        pos = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
                }
        }
        cell->item = item;
        __atomic_store_n(&cell->seq, (pos & ~q->mask) + 1, __ATOMIC_RELEASE);
        return true;
}

void *kotel_queue_pop(struct kotel_queue *q)
{
        size_t pos                    = q->head;
        size_t lap                    = pos & ~q->mask;
        struct kotel_queue_cell *cell = &q->cells[pos & q->mask];
        void *item;

        if (__atomic_load_n(&cell->seq, __ATOMIC_ACQUIRE) != lap + 1)
                return NULL;
        item    = cell->item;
        q->head = pos + 1;
        __atomic_store_n(&cell->seq, lap + q->mask + 1, __ATOMIC_RELEASE);
        __atomic_sub_fetch(&q->count, 1, __ATOMIC_RELAXED);
        return item;
}

size_t kotel_queue_size(const struct kotel_queue *q)
{
        return __atomic_load_n(&q->count, __ATOMIC_RELAXED);
}

void kotel_queue_reset(struct kotel_queue *q, void (*drop)(void *))
{
        void *item;

        /* Only published cells are popped; a producer that was mid-push in
         * a thread that no longer exists leaves its cell unpublished, so
         * clear every sequence afterwards: giving the pages back to the
         * kernel makes them zero again (and frees them). */
        while ((item = kotel_queue_pop(q)) != NULL)
                if (drop)
                        drop(item);
        if (madvise(q->cells, q->map_len, MADV_DONTNEED) < 0)
                memset(q->cells, 0, q->map_len);
        q->tail  = 0;
        q->head  = 0;
        q->count = 0;
}

size_t kotel_queue_item_bytes(void)
{
        return 2 * sizeof(struct kotel_queue_cell);
}

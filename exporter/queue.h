/* Bounded lock-free multi-producer single-consumer queue of span pointers.
 *
 * Protocol (Vyukov's bounded queue): a power-of-two ring of cells, each with
 * a sequence number. A producer claims a position with a CAS on @tail and
 * publishes by storing the cell's "published" sequence (release); the single
 * consumer reads a cell once its sequence says it is published and frees it
 * for the next lap. A separate counter enforces the configured capacity
 * exactly, since the ring is rounded up to a power of two. Producers never
 * wait: when the queue is full, push fails and the caller drops and counts.
 * No allocation after init, no syscall.
 *
 * Sequence numbers are stored relative to the cell's index (Vyukov's seq
 * minus i): cell i holds the lap base (pos & ~mask) of the position it is
 * free for, +1 once published. So a free ring is all zeroes, and init
 * writes nothing: the ring is an anonymous mapping that the kernel backs
 * with memory page by page, as positions first reach it. A 16 M queue
 * costs address space at start-up, not memory; once the positions have
 * gone round the ring, all of it (16 bytes a cell) is resident. */
#ifndef KOTEL_QUEUE_H
#define KOTEL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kotel_queue_cell;

struct kotel_queue {
        struct kotel_queue_cell *cells; /* mmap'd, @map_len bytes */
        size_t map_len;
        size_t mask;
        size_t capacity;
        char pad0[64];
        size_t tail; /* producers */
        char pad1[64];
        size_t head; /* the consumer */
        char pad2[64];
        size_t count;
};

/* Returns 0 or -1 (no address space). */
int kotel_queue_init(struct kotel_queue *q, size_t capacity);
void kotel_queue_destroy(struct kotel_queue *q);
/* Any thread; lock-free; false when full (the caller keeps @item). */
bool kotel_queue_push(struct kotel_queue *q, void *item);
/* The single consumer thread only; NULL when empty. */
void *kotel_queue_pop(struct kotel_queue *q);
/* Any thread; approximate. */
size_t kotel_queue_size(const struct kotel_queue *q);
/* After fork() in the child, with no other thread left: forget every item
 * (the caller decides what to do with them via @drop). */
void kotel_queue_reset(struct kotel_queue *q, void (*drop)(void *));
/* The most ring memory one unit of capacity can come to: the ring is
 * rounded up to a power of two, under twice the capacity. For memory
 * budgets (settings.c). */
size_t kotel_queue_item_bytes(void);

#endif

/* Trace and span ids: a per-thread xoshiro256** generator seeded from
 * getrandom(2) once per thread and again after fork(), so a child never
 * repeats its parent's ids. Any thread; lock-free; no syscall after the
 * first id of a thread. */
#ifndef KOTEL_IDS_H
#define KOTEL_IDS_H

#include <stdint.h>

void kotel_ids_trace(uint8_t out[16]);
void kotel_ids_span(uint8_t out[8]);
/* Forces every thread to re-seed (pthread_atfork child handler). */
void kotel_ids_atfork_child(void);

#endif

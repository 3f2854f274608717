/* Names, files and lines for spans' call sites (span.h's code_ip).
 * Exporter thread only. */
#ifndef KOTEL_SYMBOLIZE_H
#define KOTEL_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "span.h"

/* Once, on the app thread that starts the agent, before any span is
 * symbolized: loads libdw and finds __cxa_demangle (see symbolize.c for
 * why not later, on the exporter thread). */
void kotel_symbolize_init(void);

/* Exporter thread: sets ->code on every span of @spans that has a code_ip
 * (NULL where nothing is known). Each address is looked up once; what was
 * found is kept for the life of the process. */
void kotel_symbolize_spans(struct kotel_span *const *spans, size_t n);

/* The call site of return address @ip, or NULL; same thread and cache. */
const struct kotel_code_loc *kotel_symbolize(uintptr_t ip);

#endif

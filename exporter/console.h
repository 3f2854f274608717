/* The console exporter (OTEL_TRACES_EXPORTER=console); console.c. */
#ifndef KOTEL_CONSOLE_H
#define KOTEL_CONSOLE_H

#include <stddef.h>

#include "span.h"

/* Writes one line a span to stderr. Exporter thread; borrows @spans. */
void kotel_console_export(struct kotel_span *const *spans, size_t n);

#endif

/* The console exporter (OTEL_TRACES_EXPORTER=console); console.c. */
#ifndef KOTEL_CONSOLE_H
#define KOTEL_CONSOLE_H

#include <stddef.h>

#include "span.h"

/* Appends printf-formatted text at *@o of @line (@cap bytes) as far as it
 * fits; *@o counts what was asked for, so *@o >= @cap says the line was
 * cut. The console lines of every signal (spans here, log records in
 * logs_export.c) are built with it, each in one buffer written with one
 * fwrite. Any thread; the buffer is the caller's. */
void kotel_console_appendf(char *line, size_t cap, int *o, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));

/* Writes one line a span to stderr. Exporter thread; borrows @spans. */
void kotel_console_export(struct kotel_span *const *spans, size_t n);

#endif

/* Where in the program a span's message was produced or consumed: the
 * first frame outside librdkafka, kotel and the known binding layers
 * (code.* attributes, docs/span-model.md).
 *
 * The hot path only finds a return address; names, files and lines are
 * the exporter thread's work (exporter/symbolize.c), cached per address. */
#ifndef KOTEL_CALLSITE_H
#define KOTEL_CALLSITE_H

#include <stdbool.h>
#include <stdint.h>

#include "tls.h"

/* Whether call sites are recorded (KOTEL_CODE_ATTRIBUTES, default true,
 * and libunwind found for the frames that need it). */
extern bool kotel_callsite_on;

/* Init path, once, after kotel_config_load(). */
void kotel_callsite_init(void);

/* Every app-facing wrapper, on entry at the top level (not nested): the
 * address its caller returns to. A plain store. */
#define KOTEL_CALLSITE_MARK(t) \
        ((t)->caller = __builtin_return_address(0))

/* App thread, inside a wrapper, for a sampled span only: the address of
 * the app's call site (a return address) or 0. Lock-free once this
 * thread has seen the addresses; the first sight of one asks the dynamic
 * loader which object holds it. */
uintptr_t kotel_callsite_capture(void);

#endif

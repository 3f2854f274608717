/* The agent's configuration, read from the environment once, at the first
 * librdkafka call: the standard OTEL_* variables first, KOTEL_* only for
 * what OpenTelemetry has no name for. Every value is validated; a bad one
 * gets one log line and the default. Read-only after kotel_config_load(). */
#ifndef KOTEL_CONFIG_H
#define KOTEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "sampler.h"

enum kotel_process_parent {
        KOTEL_PROCESS_PARENT_PARENT = 0, /* child of the producer's span */
        KOTEL_PROCESS_PARENT_LINK,       /* new root, linked to it */
};

struct kotel_config {
        bool disabled; /* OTEL_SDK_DISABLED */
        struct kotel_sampler sampler;
        bool tracecontext; /* OTEL_PROPAGATORS has tracecontext */
        bool baggage;      /* OTEL_PROPAGATORS has baggage */
        enum kotel_process_parent process_parent;
        size_t live_max; /* KOTEL_MAX_LIVE_MESSAGES */
};

extern struct kotel_config kotel_cfg;

/* Once, from the init path; never fails. */
void kotel_config_load(void);
/* Pure parser for OTEL_PROPAGATORS, for tests: returns the number of
 * unknown entries. */
int kotel_config_parse_propagators(const char *v, bool *tracecontext,
                                   bool *baggage);

#endif

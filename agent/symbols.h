/* Every librdkafka function the agent calls, resolved at run time from the
 * library that defines it. The agent is never linked against librdkafka:
 * under Python, librdkafka is loaded RTLD_LOCAL, dlsym(RTLD_NEXT) cannot
 * see it, and a direct call would fail to bind. So resolution first tries
 * RTLD_NEXT, then walks the loaded objects (dl_iterate_phdr) for the one
 * that defines rd_kafka_version, and binds every symbol from it.
 *
 * Call kotel_symbols_resolve() (idempotent, thread-safe) before using any
 * real_* pointer; it returns false when librdkafka cannot be found, and
 * then no hook does anything but pass through (when it can). */
#ifndef KOTEL_SYMBOLS_H
#define KOTEL_SYMBOLS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

/* The one list of the librdkafka functions the agent uses, in resolution
 * order, each named once: HOOK(name) for those it also exports as hooks
 * (the library's only rd_kafka_* exports, which test_failopen compares
 * with nm -D; an FFI lookup of one through dlsym on librdkafka's handle
 * gets the hook: dlhooks.c), CALL(name) for those it only calls. */
#define KOTEL_RDKAFKA_SYMBOL_LIST(CALL, HOOK)                                  \
        CALL(rd_kafka_version)                                                 \
        HOOK(rd_kafka_new)                                                     \
        HOOK(rd_kafka_destroy)                                                 \
        HOOK(rd_kafka_destroy_flags)                                           \
        HOOK(rd_kafka_produce)                                                 \
        HOOK(rd_kafka_producev)                                                \
        HOOK(rd_kafka_produceva)                                               \
        HOOK(rd_kafka_produce_batch)                                           \
        HOOK(rd_kafka_consumer_poll)                                           \
        HOOK(rd_kafka_consumer_close)                                          \
        HOOK(rd_kafka_flush)                                                   \
        HOOK(rd_kafka_consume)                                                 \
        HOOK(rd_kafka_consume_queue)                                           \
        HOOK(rd_kafka_consume_batch)                                           \
        HOOK(rd_kafka_consume_batch_queue)                                     \
        HOOK(rd_kafka_consume_callback)                                        \
        HOOK(rd_kafka_consume_callback_queue)                                  \
        HOOK(rd_kafka_queue_poll)                                              \
        HOOK(rd_kafka_event_message_next)                                      \
        HOOK(rd_kafka_event_message_array)                                     \
        HOOK(rd_kafka_event_destroy)                                           \
        CALL(rd_kafka_event_type)                                              \
        HOOK(rd_kafka_message_destroy)                                         \
        CALL(rd_kafka_conf_new)                                                \
        CALL(rd_kafka_conf_destroy)                                            \
        CALL(rd_kafka_conf_get)                                                \
        CALL(rd_kafka_conf_set)                                                \
        CALL(rd_kafka_conf_set_log_cb)                                         \
        CALL(rd_kafka_conf_set_error_cb)                                       \
        CALL(rd_kafka_name)                                                    \
        CALL(rd_kafka_conf_set_stats_cb)                                       \
        CALL(rd_kafka_event_stats)                                             \
        CALL(rd_kafka_conf_interceptor_add_on_new)                             \
        CALL(rd_kafka_interceptor_add_on_send)                                 \
        CALL(rd_kafka_interceptor_add_on_acknowledgement)                      \
        CALL(rd_kafka_interceptor_add_on_destroy)                              \
        CALL(rd_kafka_message_headers)                                         \
        CALL(rd_kafka_message_set_headers)                                     \
        CALL(rd_kafka_headers_new)                                             \
        CALL(rd_kafka_headers_destroy)                                         \
        CALL(rd_kafka_header_add)                                              \
        CALL(rd_kafka_header_remove)                                           \
        CALL(rd_kafka_header_get_last)                                         \
        CALL(rd_kafka_header_get_all)                                          \
        CALL(rd_kafka_topic_name)                                              \
        CALL(rd_kafka_err2name)                                                \
        CALL(rd_kafka_err2str)                                                 \
        CALL(rd_kafka_error_code)                                              \
        CALL(rd_kafka_error_destroy)                                           \
        HOOK(rd_kafka_topic_new)                                               \
        HOOK(rd_kafka_queue_new)                                               \
        HOOK(rd_kafka_queue_get_main)                                          \
        HOOK(rd_kafka_queue_get_consumer)                                      \
        HOOK(rd_kafka_queue_get_partition)                                     \
        CALL(rd_kafka_type)                                                    \
        CALL(rd_kafka_message_latency)                                         \
        CALL(rd_kafka_message_timestamp)                                       \
        HOOK(rd_kafka_commit)                                                  \
        HOOK(rd_kafka_commit_message)                                          \
        HOOK(rd_kafka_commit_queue)                                            \
        CALL(rd_kafka_interceptor_add_on_commit)                               \
        CALL(rd_kafka_interceptor_add_on_response_received)

/* X(name): every function the agent wraps or calls. */
#define KOTEL_RDKAFKA_SYMBOLS(X) KOTEL_RDKAFKA_SYMBOL_LIST(X, X)

/* X(name): the hooked ones alone. */
#define KOTEL_SYMBOL_SKIP(name)
#define KOTEL_HOOKED_SYMBOLS(X) KOTEL_RDKAFKA_SYMBOL_LIST(KOTEL_SYMBOL_SKIP, X)

#define KOTEL_DECLARE_REAL(name) extern __typeof__(name) *real_##name;
KOTEL_RDKAFKA_SYMBOLS(KOTEL_DECLARE_REAL)
#undef KOTEL_DECLARE_REAL

/* Any thread; idempotent. true once every real_* pointer is set. */
bool kotel_symbols_resolve(void);

/* true when real_@name is callable (resolving on first use): a wrapper
 * passes through on this alone, even when some other symbol is missing. */
#define KOTEL_REAL(name) (kotel_symbols_resolve(), real_##name != NULL)

#endif

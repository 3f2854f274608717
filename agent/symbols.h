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

/* X(name): functions the agent wraps or calls. */
#define KOTEL_RDKAFKA_SYMBOLS(X)                                               \
        X(rd_kafka_version)                                                    \
        X(rd_kafka_new)                                                        \
        X(rd_kafka_destroy)                                                    \
        X(rd_kafka_destroy_flags)                                              \
        X(rd_kafka_produce)                                                    \
        X(rd_kafka_producev)                                                   \
        X(rd_kafka_produceva)                                                  \
        X(rd_kafka_produce_batch)                                              \
        X(rd_kafka_consumer_poll)                                              \
        X(rd_kafka_consumer_close)                                             \
        X(rd_kafka_flush)                                                      \
        X(rd_kafka_consume)                                                    \
        X(rd_kafka_consume_queue)                                              \
        X(rd_kafka_consume_batch)                                              \
        X(rd_kafka_consume_batch_queue)                                        \
        X(rd_kafka_consume_callback)                                           \
        X(rd_kafka_consume_callback_queue)                                     \
        X(rd_kafka_queue_poll)                                                 \
        X(rd_kafka_event_message_next)                                         \
        X(rd_kafka_event_message_array)                                        \
        X(rd_kafka_event_destroy)                                              \
        X(rd_kafka_event_type)                                                 \
        X(rd_kafka_message_destroy)                                            \
        X(rd_kafka_conf_new)                                                   \
        X(rd_kafka_conf_destroy)                                               \
        X(rd_kafka_conf_get)                                                   \
        X(rd_kafka_conf_set)                                                   \
        X(rd_kafka_conf_set_log_cb)                                            \
        X(rd_kafka_conf_set_error_cb)                                          \
        X(rd_kafka_name)                                                       \
        X(rd_kafka_conf_set_stats_cb)                                          \
        X(rd_kafka_event_stats)                                                \
        X(rd_kafka_conf_interceptor_add_on_new)                                \
        X(rd_kafka_interceptor_add_on_send)                                    \
        X(rd_kafka_interceptor_add_on_acknowledgement)                         \
        X(rd_kafka_interceptor_add_on_destroy)                                 \
        X(rd_kafka_message_headers)                                            \
        X(rd_kafka_message_set_headers)                                        \
        X(rd_kafka_headers_new)                                                \
        X(rd_kafka_headers_destroy)                                            \
        X(rd_kafka_header_add)                                                 \
        X(rd_kafka_header_remove)                                              \
        X(rd_kafka_header_get_last)                                            \
        X(rd_kafka_header_get_all)                                             \
        X(rd_kafka_topic_name)                                                 \
        X(rd_kafka_err2name)                                                   \
        X(rd_kafka_err2str)                                                    \
        X(rd_kafka_error_code)                                                 \
        X(rd_kafka_error_destroy)                                              \
        X(rd_kafka_topic_new)                                                  \
        X(rd_kafka_queue_new)                                                  \
        X(rd_kafka_queue_get_main)                                             \
        X(rd_kafka_queue_get_consumer)                                         \
        X(rd_kafka_queue_get_partition)                                        \
        X(rd_kafka_type)                                                       \
        X(rd_kafka_message_latency)                                            \
        X(rd_kafka_message_timestamp)                                          \
        X(rd_kafka_commit)                                                     \
        X(rd_kafka_commit_message)                                             \
        X(rd_kafka_commit_queue)                                               \
        X(rd_kafka_interceptor_add_on_commit)                                  \
        X(rd_kafka_interceptor_add_on_response_received)

/* X(name): the subset the agent exports as hooks (the library's only
 * rd_kafka_* exports; test_ffi compares this with nm -D). An FFI lookup of
 * one of them through dlsym on librdkafka's handle gets the hook
 * (dlhooks.c). */
#define KOTEL_HOOKED_SYMBOLS(X)                                                \
        X(rd_kafka_new)                                                        \
        X(rd_kafka_destroy)                                                    \
        X(rd_kafka_destroy_flags)                                              \
        X(rd_kafka_produce)                                                    \
        X(rd_kafka_producev)                                                   \
        X(rd_kafka_produceva)                                                  \
        X(rd_kafka_produce_batch)                                              \
        X(rd_kafka_flush)                                                      \
        X(rd_kafka_consumer_poll)                                              \
        X(rd_kafka_consumer_close)                                             \
        X(rd_kafka_commit)                                                     \
        X(rd_kafka_commit_message)                                             \
        X(rd_kafka_commit_queue)                                               \
        X(rd_kafka_consume)                                                    \
        X(rd_kafka_consume_queue)                                              \
        X(rd_kafka_consume_batch)                                              \
        X(rd_kafka_consume_batch_queue)                                        \
        X(rd_kafka_consume_callback)                                           \
        X(rd_kafka_consume_callback_queue)                                     \
        X(rd_kafka_queue_poll)                                                 \
        X(rd_kafka_event_message_next)                                         \
        X(rd_kafka_event_message_array)                                        \
        X(rd_kafka_event_destroy)                                              \
        X(rd_kafka_message_destroy)                                            \
        X(rd_kafka_topic_new)                                                  \
        X(rd_kafka_queue_new)                                                  \
        X(rd_kafka_queue_get_main)                                             \
        X(rd_kafka_queue_get_consumer)                                         \
        X(rd_kafka_queue_get_partition)

#define KOTEL_DECLARE_REAL(name) extern __typeof__(name) *real_##name;
KOTEL_RDKAFKA_SYMBOLS(KOTEL_DECLARE_REAL)
#undef KOTEL_DECLARE_REAL

/* Any thread; idempotent. true once every real_* pointer is set. */
bool kotel_symbols_resolve(void);

/* true when real_@name is callable (resolving on first use): a wrapper
 * passes through on this alone, even when some other symbol is missing. */
#define KOTEL_REAL(name) (kotel_symbols_resolve(), real_##name != NULL)

#endif

/* The OTLP/protobuf logs encoder: log records (logrec.h) into one
 * ExportLogsServiceRequest, on the protobuf writer (pbwire.h), byte for
 * byte what protobuf-c writes for the same request (tests/unit/
 * test_otlp_logs_enc.c checks it). One ResourceLogs per resource, in
 * first-seen order, each with one ScopeLogs ("kotel") holding its records
 * in batch order. Any one thread per writer; borrows @recs. */
#ifndef KOTEL_OTLP_LOGS_ENC_H
#define KOTEL_OTLP_LOGS_ENC_H

#include <stddef.h>

#include "buf.h"
#include "logrec.h"
#include "pbwire.h"

/* Attribute keys (docs/logs.md). */
#define KOTEL_LOG_ATTR_FACILITY "kotel.kafka.log.facility"
#define KOTEL_LOG_ATTR_BROKER "kotel.kafka.broker"
#define KOTEL_LOG_ATTR_ERR_CODE "kotel.kafka.error.code"

/* Writes the request into @w (emptied first). 0, or -1 out of memory. */
int kotel_logs_enc_encode(struct kotel_pbw *w,
                          struct kotel_logrec *const *recs, size_t n);
/* The same request as OTLP/JSON into @b (emptied first): otlp_logs_json.c.
 * 0, or -1 out of memory. */
int kotel_logs_enc_json(struct kotel_buf *b, struct kotel_logrec *const *recs,
                        size_t n);

#endif

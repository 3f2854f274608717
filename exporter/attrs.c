#include "attrs.h"

#include <stdio.h>
#include <string.h>

static void add_str(struct kotel_attr *out, size_t *n, const char *key,
                    const char *s, size_t len)
{
        out[*n] = (struct kotel_attr){.key = key, .type = KOTEL_ATTR_STR,
                                      .s = s, .slen = len};
        (*n)++;
}

static void add_int(struct kotel_attr *out, size_t *n, const char *key,
                    int64_t v, enum kotel_attr_type type)
{
        out[*n] = (struct kotel_attr){.key = key, .type = type, .i = v};
        (*n)++;
}

const char *kotel_ts_type_name(uint8_t t)
{
        return t == 2 ? "log_append_time" : "create_time";
}

size_t kotel_span_attrs(const struct kotel_span *s, struct kotel_attr *out,
                        struct kotel_attr_scratch *scratch)
{
        const struct kotel_client *c = s->client;
        const struct kotel_code_loc *code = kotel_span_code(s);
        const char *op               = kotel_op_name(s->op);
        const char *type             = kotel_op_type(s->op);
        size_t n                     = 0;

        add_str(out, &n, "messaging.system", "kafka", 5);
        add_str(out, &n, "messaging.operation.name", op, strlen(op));
        add_str(out, &n, "messaging.operation.type", type, strlen(type));
        if (s->topic && s->topic[0])
                add_str(out, &n, "messaging.destination.name", s->topic,
                        strnlen(s->topic, KOTEL_TOPIC_MAX - 1));
        if (s->has_partition && s->partition >= 0) {
                int len = snprintf(scratch->partition,
                                   sizeof(scratch->partition), "%d",
                                   (int)s->partition);
                add_str(out, &n, "messaging.destination.partition.id",
                        scratch->partition, (size_t)len);
        }
        if (s->has_offset && s->offset >= 0)
                add_int(out, &n, "messaging.kafka.offset", s->offset,
                        KOTEL_ATTR_INT);
        if (s->has_key)
                add_str(out, &n, "messaging.kafka.message.key", s->key,
                        s->key_len);
        if (s->tombstone)
                add_int(out, &n, "messaging.kafka.message.tombstone", 1,
                        KOTEL_ATTR_BOOL);
        if (s->has_body_size)
                add_int(out, &n, "messaging.message.body.size",
                        (int64_t)s->body_size, KOTEL_ATTR_INT);
        if (s->batch_count)
                add_int(out, &n, "messaging.batch.message_count",
                        s->batch_count, KOTEL_ATTR_INT);
        if (c && c->group_id && s->op != KOTEL_OP_SEND)
                add_str(out, &n, "messaging.consumer.group.name", c->group_id,
                        strlen(c->group_id));
        if (c && c->client_id)
                add_str(out, &n, "messaging.client.id", c->client_id,
                        strlen(c->client_id));
        if (c && c->server_address) {
                add_str(out, &n, "server.address", c->server_address,
                        strlen(c->server_address));
                if (c->server_port > 0)
                        add_int(out, &n, "server.port", c->server_port,
                                KOTEL_ATTR_INT);
        }
        if (s->error_type && s->error_type[0])
                add_str(out, &n, "error.type", s->error_type,
                        strlen(s->error_type));
        if (s->ts_type) {
                const char *t = kotel_ts_type_name(s->ts_type);

                add_int(out, &n, "kotel.message.age_ms", s->age_ms,
                        KOTEL_ATTR_INT);
                add_str(out, &n, "kotel.message.timestamp_type", t, strlen(t));
        }
        if (kotel_span_commit_offsets(s) && kotel_span_commit_offsets(s)[0])
                add_str(out, &n, "kotel.commit.offsets",
                        kotel_span_commit_offsets(s),
                        strlen(kotel_span_commit_offsets(s)));
        if (code && code->function) {
                add_str(out, &n, "code.function.name", code->function,
                        strlen(code->function));
                if (code->file && code->file[0] && code->line) {
                        add_str(out, &n, "code.file.path", code->file,
                                strlen(code->file));
                        add_int(out, &n, "code.line.number", code->line,
                                KOTEL_ATTR_INT);
                }
        }
        return n;
}

size_t kotel_span_name(const struct kotel_span *s, char *buf, size_t size)
{
        int n;

        if (s->topic && s->topic[0])
                n = snprintf(buf, size, "%s %.*s", kotel_op_name(s->op),
                             (int)strnlen(s->topic, KOTEL_TOPIC_MAX - 1),
                             s->topic);
        else
                n = snprintf(buf, size, "%s", kotel_op_name(s->op));
        if (n < 0)
                return 0;
        return (size_t)n < size ? (size_t)n : size - 1;
}

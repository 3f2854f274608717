/* Building protobuf-c message trees for the reference side of the
 * hand-written encoders' tests (otlp_metrics_ref.h, test_otlp_logs_enc.c):
 * every node and string allocated through calloc/strdup below is recorded
 * and freed at once by tree_free() once the request is packed; and the
 * common.proto KeyValue/AnyValue nodes every signal's attributes are made
 * of. Also the tests' pseudo-random numbers (xorshift64, a fixed seed, so
 * a failure reproduces). */
#ifndef KOTEL_PBC_TREE_H
#define KOTEL_PBC_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"

#define KV Opentelemetry__Proto__Common__V1__KeyValue
#define AV Opentelemetry__Proto__Common__V1__AnyValue

static uint64_t rng = 88172645463325252ull;

/* A pseudo-random number below @n (any, for 0). */
static inline uint64_t rnd(uint64_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return n ? rng % n : rng;
}

static void **tree;
static size_t tree_n, tree_cap;

static inline void *tree_keep(void *p)
{
        if (tree_n == tree_cap) {
                tree_cap = tree_cap ? 2 * tree_cap : 1024;
                tree     = realloc(tree, tree_cap * sizeof(*tree));
        }
        tree[tree_n++] = p;
        return p;
}

static inline void tree_free(void)
{
        while (tree_n)
                free(tree[--tree_n]);
}

#define calloc(n, s) tree_keep(calloc(n, s))
#define strdup(s) tree_keep(strdup(s))

static inline AV *av_str(const char *v)
{
        AV *av = calloc(1, sizeof(*av));

        opentelemetry__proto__common__v1__any_value__init(av);
        av->value_case =
            OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        av->string_value = strdup(v);
        return av;
}

static inline KV *kv_str(const char *k, const char *v)
{
        KV *kv = calloc(1, sizeof(*kv));

        opentelemetry__proto__common__v1__key_value__init(kv);
        kv->key   = strdup(k);
        kv->value = av_str(v);
        return kv;
}

static inline KV *kv_int(const char *k, int64_t v)
{
        KV *kv = kv_str(k, "");

        kv->value->value_case =
            OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        kv->value->int_value = v;
        return kv;
}

static inline KV *kv_bool(const char *k, bool v)
{
        KV *kv = kv_str(k, "");

        kv->value->value_case =
            OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
        kv->value->bool_value = v;
        return kv;
}

#endif

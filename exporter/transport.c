#include "transport.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "grpc.h"
#include "log.h"
#include "otlp.h"
#include "version.h"

struct kotel_transport {
        const struct kotel_settings *set;
        CURL *curl;
        struct curl_slist *headers;
        /* Per request: */
        char *body;
        size_t body_len;
        bool body_truncated;
        long retry_after_ms;
        /* OTLP/gRPC: the status its header or trailer lines carry, and the
         * framed request (prefix + body), reused from request to request. */
        struct kotel_grpc_status gst;
        uint8_t *frame;
        size_t frame_cap;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
        struct kotel_transport *t = arg;
        size_t n                  = size * nmemb;
        char *p;

        if (t->body_truncated || t->body_len + n > KOTEL_RESPONSE_CAP) {
                t->body_truncated = true;
                /* gRPC's status comes after the body, in the trailers: read
                 * on, keeping nothing (the timeout bounds it). Else abort
                 * the transfer: the body is not worth it. */
                return t->set->protocol == KOTEL_PROTO_GRPC ? n : 0;
        }
        p = realloc(t->body, t->body_len + n + 1);
        if (!p)
                return 0;
        memcpy(p + t->body_len, data, n);
        t->body = p;
        t->body_len += n;
        t->body[t->body_len] = '\0';
        return n;
}

int kotel_transport_retry_after_line(const char *data, size_t n, time_t now,
                                     long *ms)
{
        char value[128];
        size_t vlen;

        if (n <= 12 || strncasecmp(data, "Retry-After:", 12))
                return -1;
        vlen = n - 12;
        if (vlen >= sizeof(value))
                vlen = sizeof(value) - 1;
        memcpy(value, data + 12, vlen);
        value[vlen] = '\0';
        while (vlen && (value[vlen - 1] == '\r' || value[vlen - 1] == '\n' ||
                        value[vlen - 1] == ' '))
                value[--vlen] = '\0';
        return kotel_parse_retry_after(value, now, ms);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
        struct kotel_transport *t = arg;
        size_t n                  = size * nmemb;
        long ms;

        /* In HTTP/2 libcurl hands trailers to this callback too, after the
         * body: gRPC's status is there (or in the headers of a
         * trailers-only response). */
        if (t->set->protocol == KOTEL_PROTO_GRPC)
                kotel_grpc_header_line(&t->gst, data, n);
        else if (kotel_transport_retry_after_line(data, n, time(NULL), &ms) ==
                 0)
                t->retry_after_ms = ms;
        return n;
}

/* gRPC's request headers (HTTP/2 lower-case names); the per-request
 * grpc-timeout is added by grpc_post. */
static struct curl_slist *grpc_headers(const struct kotel_settings *s)
{
        struct curl_slist *h = curl_slist_append(NULL,
                                                 "content-type: application/grpc");

        if (h)
                h = curl_slist_append(h, "te: trailers");
        if (h && s->gzip)
                h = curl_slist_append(h, "grpc-encoding: gzip");
        /* Responses uncompressed: kotel reads a few bytes of them. */
        if (h)
                h = curl_slist_append(h, "grpc-accept-encoding: identity");
        return h;
}

/* gRPC is HTTP/2 only: prior knowledge (h2c) on http://, h2 offered by
 * ALPN on https:// (grpc_post refuses an answer in HTTP/1.1). libcurl
 * before 8.0 breaks a reused prior-knowledge connection ("Error in the
 * HTTP2 framing layer" on its second request, curl issue 10634, fixed in
 * 8.0.0; Debian 12 ships 7.88.1): there, each h2c call gets a connection
 * of its own. */
static void grpc_setopts(CURL *curl, const struct kotel_settings *s)
{
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

        if (s->tls) {
                curl_easy_setopt(curl, CURLOPT_HTTP_VERSION,
                                 (long)CURL_HTTP_VERSION_2TLS);
                return;
        }
        curl_easy_setopt(curl, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        if (!v || v->version_num < 0x080000)
                curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
}

struct kotel_transport *kotel_transport_new(const struct kotel_settings *s)
{
        struct kotel_transport *t = calloc(1, sizeof(*t));
        struct curl_slist *h      = NULL;

        if (!t)
                return NULL;
        t->set  = s;
        t->curl = curl_easy_init();
        if (!t->curl)
                goto out_free;
        if (s->protocol == KOTEL_PROTO_GRPC) {
                h = grpc_headers(s);
        } else {
                h = curl_slist_append(h, s->protocol == KOTEL_PROTO_HTTP_JSON
                                             ? "Content-Type: application/json"
                                             : "Content-Type: "
                                               "application/x-protobuf");
                if (s->gzip && h)
                        h = curl_slist_append(h, "Content-Encoding: gzip");
        }
        /* libcurl adds "Expect: 100-continue" to large POSTs: a round trip
         * for nothing on every export. */
        if (h)
                h = curl_slist_append(h, "Expect:");
        for (size_t i = 0; i < s->n_headers && h; i++)
                h = curl_slist_append(h, s->headers[i]);
        if (!h)
                goto out_cleanup;
        t->headers = h;
        curl_easy_setopt(t->curl, CURLOPT_URL, s->request_url);
        curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t->curl, CURLOPT_USERAGENT,
                         s->protocol == KOTEL_PROTO_GRPC
                             ? "kotel/" KOTEL_VERSION " (OTLP/gRPC exporter)"
                             : "kotel/" KOTEL_VERSION " (OTLP/HTTP exporter)");
        if (s->protocol == KOTEL_PROTO_GRPC)
                grpc_setopts(t->curl, s);
        curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(t->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(t->curl, CURLOPT_HEADERDATA, t);
        curl_easy_setopt(t->curl, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(t->curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(t->curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        if (s->ca_file)
                curl_easy_setopt(t->curl, CURLOPT_CAINFO, s->ca_file);
        if (s->client_cert)
                curl_easy_setopt(t->curl, CURLOPT_SSLCERT, s->client_cert);
        if (s->client_key)
                curl_easy_setopt(t->curl, CURLOPT_SSLKEY, s->client_key);
        return t;
out_cleanup:
        curl_slist_free_all(h);
        curl_easy_cleanup(t->curl);
out_free:
        free(t);
        return NULL;
}

void kotel_transport_free(struct kotel_transport *t)
{
        if (!t)
                return;
        curl_easy_cleanup(t->curl);
        curl_slist_free_all(t->headers);
        free(t->body);
        free(t->frame);
        free(t);
}

static void inspect_body(struct kotel_transport *t, struct kotel_send_info *info)
{
        char msg[128];

        if (t->body_truncated) {
                snprintf(info->detail, sizeof(info->detail),
                         "response body over %u bytes, ignored",
                         KOTEL_RESPONSE_CAP);
                return;
        }
        if (!t->body_len)
                return;
        if ((t->set->protocol == KOTEL_PROTO_HTTP_JSON
                 ? kotel_otlp_decode_response_json((const uint8_t *)t->body,
                                                   t->body_len, &info->rejected,
                                                   msg, sizeof(msg))
                 : kotel_otlp_decode_response((const uint8_t *)t->body,
                                              t->body_len, &info->rejected, msg,
                                              sizeof(msg))) < 0) {
                snprintf(info->detail, sizeof(info->detail),
                         "unparseable response body (%zu bytes) ignored",
                         t->body_len);
                return;
        }
        if (info->rejected || msg[0])
                snprintf(info->detail, sizeof(info->detail),
                         "partial success: %lld rejected: %.100s",
                         (long long)info->rejected, msg);
}

/* The partial success in a gRPC response's one message. */
static void grpc_inspect_body(struct kotel_transport *t,
                              struct kotel_send_info *info)
{
        const uint8_t *m;
        size_t mn;
        char msg[128];
        int rc;

        if (t->body_truncated) {
                snprintf(info->detail, sizeof(info->detail),
                         "response message over %u bytes, ignored",
                         KOTEL_RESPONSE_CAP);
                return;
        }
        if (!t->body_len)
                return; /* no message: nothing rejected */
        rc = kotel_grpc_unframe((const uint8_t *)t->body, t->body_len, &m, &mn);
        if (rc == 0 && kotel_otlp_decode_response(m, mn, &info->rejected, msg,
                                                  sizeof(msg)) == 0) {
                if (info->rejected || msg[0])
                        snprintf(info->detail, sizeof(info->detail),
                                 "partial success: %lld rejected: %.100s",
                                 (long long)info->rejected, msg);
                return;
        }
        snprintf(info->detail, sizeof(info->detail),
                 "%s response message (%zu bytes) ignored",
                 rc > 0 ? "compressed" : "unparseable", t->body_len);
}

/* A failed transfer (@rc): whether trying again may help. */
static enum kotel_send_result curl_failure(CURLcode rc, bool grpc,
                                           struct kotel_send_info *info)
{
        snprintf(info->detail, sizeof(info->detail), "%s",
                 curl_easy_strerror(rc));
        switch (rc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
                return KOTEL_SEND_RETRY;
        /* A stream reset or a connection closed under it: gRPC's
         * CANCELLED or UNAVAILABLE, both retried. */
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return grpc ? KOTEL_SEND_RETRY : KOTEL_SEND_FAIL;
        default:
                return KOTEL_SEND_FAIL;
        }
}

/* The outcome of a gRPC call that got a response (@t->gst). */
static enum kotel_send_result grpc_outcome(struct kotel_transport *t,
                                           struct kotel_send_info *info)
{
        int code        = t->gst.code;
        const char *why = "";
        const char *name;
        char num[16];

        if (info->http_status != 200 && code < 0) {
                code = kotel_grpc_code_from_http(info->http_status);
                why  = " (from the HTTP status)";
        } else if (code < 0) {
                /* A 200 without grpc-status: the call did not complete. */
                snprintf(info->detail, sizeof(info->detail),
                         "no grpc-status in the response");
                return KOTEL_SEND_FAIL;
        }
        if (code == KOTEL_GRPC_OK) {
                grpc_inspect_body(t, info);
                return KOTEL_SEND_OK;
        }
        if (!(name = kotel_grpc_code_name(code))) {
                snprintf(num, sizeof(num), "code %d", code);
                name = num;
        }
        snprintf(info->detail, sizeof(info->detail), "gRPC %s%s%s%.100s%s", name,
                 why, t->gst.message[0] ? ": \"" : "", t->gst.message,
                 t->gst.message[0] ? "\"" : "");
        info->retry_after_ms = t->gst.retry_delay_ms;
        return kotel_grpc_retryable(code, t->gst.retry_delay_ms >= 0)
                   ? KOTEL_SEND_RETRY
                   : KOTEL_SEND_FAIL;
}

/* One unary OTLP/gRPC call: @body framed, a grpc-timeout of @timeout_ms. */
static enum kotel_send_result grpc_post(struct kotel_transport *t,
                                        const uint8_t *body, size_t len,
                                        long timeout_ms,
                                        struct kotel_send_info *info)
{
        struct curl_slist *th;
        char tmo[40];
        long version = 0;
        CURLcode rc;

        kotel_grpc_status_reset(&t->gst);
        if (len > UINT32_MAX - KOTEL_GRPC_PREFIX) {
                snprintf(info->detail, sizeof(info->detail),
                         "request over 4 GiB");
                return KOTEL_SEND_FAIL;
        }
        if (t->frame_cap < len + KOTEL_GRPC_PREFIX) {
                uint8_t *f = realloc(t->frame, len + KOTEL_GRPC_PREFIX);

                if (!f) {
                        snprintf(info->detail, sizeof(info->detail),
                                 "out of memory");
                        return KOTEL_SEND_FAIL;
                }
                t->frame     = f;
                t->frame_cap = len + KOTEL_GRPC_PREFIX;
        }
        kotel_grpc_frame_prefix(t->frame, t->set->gzip, (uint32_t)len);
        memcpy(t->frame + KOTEL_GRPC_PREFIX, body, len);
        /* The deadline as the server sees it: at most 8 digits. */
        snprintf(tmo, sizeof(tmo), "grpc-timeout: %ldm",
                 timeout_ms > 0 ? (timeout_ms < 99999999 ? timeout_ms
                                                         : 99999999)
                                : 1L);
        th = curl_slist_append(NULL, tmo);
        if (!th) {
                snprintf(info->detail, sizeof(info->detail), "out of memory");
                return KOTEL_SEND_FAIL;
        }
        th->next = t->headers;
        curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, th);
        curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, t->frame);
        curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(len + KOTEL_GRPC_PREFIX));
        curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS,
                         timeout_ms > 0 ? timeout_ms : 1L);
        curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS,
                         timeout_ms > 0 ? timeout_ms : 1L);
        rc = curl_easy_perform(t->curl);
        curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->headers);
        th->next = NULL;
        curl_slist_free_all(th);
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &info->http_status);
        curl_easy_getinfo(t->curl, CURLINFO_HTTP_VERSION, &version);
        if (rc != CURLE_OK)
                return curl_failure(rc, true, info);
        if (version != CURL_HTTP_VERSION_2_0) {
                snprintf(info->detail, sizeof(info->detail),
                         "the server answered in HTTP/1, not HTTP/2 as gRPC "
                         "needs (HTTP %ld)",
                         info->http_status);
                return KOTEL_SEND_FAIL;
        }
        return grpc_outcome(t, info);
}

enum kotel_send_result kotel_transport_post(struct kotel_transport *t,
                                            const uint8_t *body, size_t len,
                                            long timeout_ms,
                                            struct kotel_send_info *info)
{
        CURLcode rc;
        enum kotel_send_result res;

        if (t->set->protocol == KOTEL_PROTO_GRPC) {
                memset(info, 0, sizeof(*info));
                info->retry_after_ms = -1;
                t->body_len          = 0;
                t->body_truncated    = false;
                return grpc_post(t, body, len, timeout_ms, info);
        }

        memset(info, 0, sizeof(*info));
        info->retry_after_ms = -1;
        t->retry_after_ms    = -1;
        t->body_len          = 0;
        t->body_truncated    = false;
        curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
        curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS,
                         timeout_ms > 0 ? timeout_ms : 1L);
        rc = curl_easy_perform(t->curl);
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &info->http_status);
        info->retry_after_ms = t->retry_after_ms;

        /* TLS set-up and protocol errors will not heal by retrying;
         * connection-level failures may. */
        if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t->body_truncated))
                return curl_failure(rc, false, info);
        if (info->http_status >= 200 && info->http_status < 300) {
                inspect_body(t, info);
                return KOTEL_SEND_OK;
        }
        switch (info->http_status) {
        case 429:
        case 502:
        case 503:
        case 504:
                res = KOTEL_SEND_RETRY;
                break;
        default:
                res = KOTEL_SEND_FAIL;
                break;
        }
        snprintf(info->detail, sizeof(info->detail), "HTTP %ld",
                 info->http_status);
        return res;
}

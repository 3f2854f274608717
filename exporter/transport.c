#include "transport.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
        struct kotel_transport *t = arg;
        size_t n                  = size * nmemb;
        char *p;

        if (t->body_len + n > KOTEL_RESPONSE_CAP) {
                t->body_truncated = true;
                return 0; /* abort the transfer: the body is not worth it */
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

        if (kotel_transport_retry_after_line(data, n, time(NULL), &ms) == 0)
                t->retry_after_ms = ms;
        return n;
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
        h = curl_slist_append(h, s->protocol == KOTEL_PROTO_HTTP_JSON
                                     ? "Content-Type: application/json"
                                     : "Content-Type: application/x-protobuf");
        if (s->gzip && h)
                h = curl_slist_append(h, "Content-Encoding: gzip");
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
                         "kotel/" KOTEL_VERSION " (OTLP/HTTP exporter)");
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

enum kotel_send_result kotel_transport_post(struct kotel_transport *t,
                                            const uint8_t *body, size_t len,
                                            long timeout_ms,
                                            struct kotel_send_info *info)
{
        CURLcode rc;
        enum kotel_send_result res;

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

        if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t->body_truncated)) {
                snprintf(info->detail, sizeof(info->detail), "%s",
                         curl_easy_strerror(rc));
                /* TLS set-up and protocol errors will not heal by retrying;
                 * connection-level failures may. */
                switch (rc) {
                case CURLE_COULDNT_CONNECT:
                case CURLE_COULDNT_RESOLVE_HOST:
                case CURLE_OPERATION_TIMEDOUT:
                case CURLE_SEND_ERROR:
                case CURLE_RECV_ERROR:
                case CURLE_GOT_NOTHING:
                case CURLE_PARTIAL_FILE:
                        return KOTEL_SEND_RETRY;
                default:
                        return KOTEL_SEND_FAIL;
                }
        }
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

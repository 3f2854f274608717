#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/<target>/ (committed).

Every seed is written here by hand from the specifications (W3C Trace
Context and Baggage, the OpenTelemetry SDK environment variables, RFC 9110
Retry-After, OTLP/HTTP responses), not taken from anyone's test suite.
Re-run after editing; it rewrites the directories it owns.
"""
import os
import shutil
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
corpora = {}


def seed(target, name, data):
    if isinstance(data, str):
        data = data.encode("latin-1")
    corpora.setdefault(target, []).append((name, data))


# --- traceparent -----------------------------------------------------------
T = "0af7651916cd43dd8448eb211c80319c"
S = "b7ad6b7169203331"
tp = [
    ("valid-v00-sampled", f"00-{T}-{S}-01"),
    ("valid-v00-unsampled", f"00-{T}-{S}-00"),
    ("valid-v00-other-flags", f"00-{T}-{S}-ff"),
    ("valid-ows", f" \t00-{T}-{S}-01\t "),
    ("valid-future-cc", f"cc-{T}-{S}-01"),
    ("valid-future-cc-extra", f"cc-{T}-{S}-01-what-the-future-will-be-like"),
    ("invalid-future-cc-dot", f"cc-{T}-{S}-01.what-the-future-will-be-like"),
    ("invalid-v00-extra", f"00-{T}-{S}-01-what-the-future-will-be-like"),
    ("invalid-v00-dot", f"00-{T}-{S}-01."),
    ("invalid-version-ff", f"ff-{T}-{S}-01"),
    ("invalid-version-dot1", f".0-{T}-{S}-01"),
    ("invalid-version-dot2", f"0.-{T}-{S}-01"),
    ("invalid-version-3", f"000-{T}-{S}-01"),
    ("invalid-version-1", f"0-{T}-{S}-01"),
    ("invalid-version-upper", f"0A-{T}-{S}-01"),
    ("invalid-trace-zero", f"00-{'0' * 32}-{S}-01"),
    ("invalid-span-zero", f"00-{T}-{'0' * 16}-01"),
    ("invalid-trace-dot", f"00-.{T[1:]}-{S}-01"),
    ("invalid-trace-long", f"00-{T}3-{S}-01"),
    ("invalid-trace-short", f"00-{T[:-1]}-{S}-01"),
    ("invalid-span-dot", f"00-{T}-{S[:-1]}.-01"),
    ("invalid-span-long", f"00-{T}-{S}3-01"),
    ("invalid-span-short", f"00-{T}-{S[:-1]}-01"),
    ("invalid-flags-dot", f"00-{T}-{S}-.0"),
    ("invalid-flags-long", f"00-{T}-{S}-001"),
    ("invalid-flags-short", f"00-{T}-{S}-1"),
    ("invalid-upper", f"00-{T.upper()}-{S.upper()}-01"),
    ("invalid-nonhex", f"00-{T[:-1]}g-{S}-01"),
    ("invalid-sep-underscore", f"00_{T}_{S}_01"),
    ("invalid-sep-space", f"00 {T} {S} 01"),
    ("invalid-empty", ""),
    ("invalid-nul", f"00-{T}-{S}-0\0"),
    ("invalid-inner-ows", f"00- {T}-{S}-01"),
]
for n, v in tp:
    seed("traceparent", n, v)

# --- tracestate ------------------------------------------------------------
ts = [
    ("valid-one", "rojo=00f067aa0ba902b7"),
    ("valid-two", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    ("valid-vendor", "fw529a3039@dt=ZGQ5,rojo=1"),
    ("valid-tenant-digit", "0tenant@sys=v"),
    ("valid-ows", "foo=1 \t , \t bar=2, \t baz=3"),
    ("valid-empty-members", "foo=1,,,bar=2,"),
    ("valid-all-key-chars", "abcdefghijklmnopqrstuvwxyz0123456789_-*/= !\"#$%&'()*+-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"),
    ("valid-all-vendor-chars", "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/=1"),
    ("valid-32-members", ",".join(f"k{i}=v{i}" for i in range(32))),
    ("invalid-33-members", ",".join(f"k{i}=v{i}" for i in range(33))),
    ("valid-key-256", "a" * 256 + "=1"),
    ("invalid-key-257", "a" * 257 + "=1"),
    ("valid-tenant-241-system-14", "t" * 241 + "@" + "s" * 14 + "=1"),
    ("invalid-tenant-242", "t" * 242 + "@s=1"),
    ("invalid-system-15", "t@" + "s" * 15 + "=1"),
    ("valid-value-256", "k=" + "v" * 256),
    ("invalid-value-257", "k=" + "v" * 257),
    ("valid-512", "k=" + "v" * 254 + ",l=" + "w" * 253),
    ("invalid-513", "k=" + "v" * 254 + ",l=" + "w" * 254),
    ("invalid-duplicate-same", "foo=1,foo=1"),
    ("invalid-duplicate-diff", "foo=1,foo=2"),
    ("invalid-duplicate-vendor", "a@b=1,c=2,a@b=3"),
    ("invalid-key-space", "foo =1"),
    ("invalid-key-upper", "FOO=1"),
    ("invalid-key-dot", "foo.bar=1"),
    ("invalid-vendor-empty-system", "foo@=1,bar=2"),
    ("invalid-vendor-empty-tenant", "@foo=1,bar=2"),
    ("invalid-vendor-double-at", "foo@@bar=1,bar=2"),
    ("invalid-vendor-two-at", "foo@bar@baz=1,bar=2"),
    ("invalid-value-eq", "foo=bar=baz"),
    ("invalid-value-empty", "foo=,bar=3"),
    ("invalid-value-trailing-space-inside", "foo=a \x01"),
    ("invalid-no-eq", "foo"),
    ("invalid-empty", ""),
    ("invalid-only-commas", " , ,"),
    ("invalid-ctl", "foo=\x7f"),
    ("invalid-high", "foo=\xc3\xa9"),
]
for n, v in ts:
    seed("tracestate", n, v)

# --- baggage ---------------------------------------------------------------
bg = [
    ("valid-simple", "userId=alice"),
    ("valid-two", "userId=alice,serverNode=DF%2028"),
    ("valid-spec-example", "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue"),
    ("valid-percent", "k=%E2%9C%93%20ok%25"),
    ("valid-empty-value", "k="),
    ("valid-ows", " \tk = v \t, l=w"),
    ("valid-props", "k=v;p1=x;p2;p3 = y"),
    ("valid-token-chars", "!#$%&'*+-.^_`|~09azAZ=v"),
    ("valid-all-octets", "k=!" + "".join(chr(c) for c in range(0x23, 0x7f) if chr(c) not in ",;\\")),
    ("valid-180", ",".join(f"k{i}=v" for i in range(180))),
    ("valid-181", ",".join(f"k{i}=v" for i in range(181))),
    ("valid-2000-members", ",".join(chr(97 + i % 26) + "=v" for i in range(2000))),
    ("valid-8192", "k=" + "v" * 8190),
    ("invalid-8193", "k=" + "v" * 8191),
    ("invalid-percent-bad", "k=%zz"),
    ("invalid-percent-short", "k=%4"),
    ("invalid-empty", ""),
    ("invalid-empty-key", "=v"),
    ("invalid-no-eq", "k"),
    ("invalid-empty-member", "a=1,,b=2"),
    ("invalid-trailing-comma", "a=1,"),
    ("invalid-key-space", "k v=1"),
    ("invalid-key-sep", "k:v=1"),
    ("invalid-value-quote", 'k="v"'),
    ("invalid-value-backslash", "k=a\\b"),
    ("invalid-value-ctl", "k=a\x01"),
    ("invalid-value-utf8", "k=caf\xc3\xa9"),
    ("invalid-nul", "k=v\0"),
]
for n, v in bg:
    seed("baggage", n, v)

# --- OTEL_RESOURCE_ATTRIBUTES ----------------------------------------------
ra = [
    ("valid-simple", "service.name=billing,deployment.environment=prod"),
    ("valid-percent", "service.name=my%20svc,team=a%2Cb%3Dc"),
    ("valid-ows", " k = v , l=w "),
    ("valid-duplicate-later-wins", "k=1,k=2"),
    ("valid-empty-value", "k="),
    ("valid-value-eq", "k=a=b"),
    ("valid-utf8", "k=caf\xc3\xa9"),
    ("invalid-no-eq", "k"),
    ("invalid-empty-key", "=v"),
    ("invalid-percent", "k=%zz,l=%4,m=%"),
    ("invalid-nul", "k=a%00b"),
    ("mixed", "a=1,,b,=c,d=%41%42,e = f "),
    ("many", ",".join(f"k{i}=v{i}" for i in range(70))),
    ("empty", ""),
]
for n, v in ra:
    seed("resource_attrs", n, v)

# --- OTEL_EXPORTER_OTLP_HEADERS --------------------------------------------
hd = [
    ("valid-two", "api-key=secret,x-tenant=acme"),
    ("valid-percent", " api-key = s3cr%3Dt , x-tenant=acme%20corp"),
    ("valid-basic", "Authorization=Basic abc=="),
    ("valid-token-chars", "!#$%25&'*+-.^_`|~Az09=v"),
    ("valid-tab", "k=a%09b"),
    ("invalid-crlf", "k=a%0D%0AInjected: 1"),
    ("invalid-lf", "k=a%0Ab"),
    ("invalid-nul", "k=a%00b"),
    ("invalid-del", "k=%7F"),
    ("invalid-key-space", "bad key=v"),
    ("invalid-key-colon", "k:x=v"),
    ("invalid-key-empty", "=v"),
    ("invalid-percent", "k=%zz,l=%4"),
    ("mixed", "bad,=v,k=%zz,x=y"),
    ("empty", ""),
    ("commas", ",,,"),
    # Framing and kotel's own headers: refused, the others kept.
    ("reserved-content-length", "Content-Length=0,x-tenant=blue"),
    ("reserved-all", "Transfer-Encoding=chunked,Host=evil,Content-Type=text/plain,"
                     "Content-Encoding=br,Connection=close,Keep-Alive=5,Upgrade=h2c,"
                     "TE=trailers,Trailer=x,Expect=100-continue,User-Agent=me,"
                     "Proxy-Connection=x,k=v"),
    ("reserved-case", "CONTENT-LENGTH=1,content-type=x,hOsT=y"),
    ("reserved-encoded", "Content%2DLength=0,%48ost=h"),
    ("reserved-lookalike", "Content-Lengthy=1,X-Host=h,Hosts=2"),
]
for n, v in hd:
    seed("otlp_headers", n, v)

# --- scalars: first byte picks the parser (see env_scalars.c) ---------------
# '0' int in [1, 2^24], '@' [0, INT64_MAX], 'D' [1, 3600000] (ms),
# 'H' [0, 600000], 'L' [16, 2^22], 'T' full int64; '1' bool;
# '2' OTEL_PROPAGATORS; '3' sampler name, NUL, argument.
sc = [
    ("int-plain", "05000"), ("int-ows", "0 \t512\t "), ("int-plus", "0+7"),
    ("int-minus", "0-1"), ("int-zero", "@0"), ("int-max", "@9223372036854775807"),
    ("int-overflow", "@9223372036854775808"), ("int-min", "T-9223372036854775808"),
    ("int-underflow", "T-9223372036854775809"), ("int-ms", "D30000"),
    ("int-too-big", "D3600001"), ("int-float", "D1.5"), ("int-unit", "D10s"),
    ("int-hex", "D0x10"), ("int-empty", "D"), ("int-sign-only", "D-"),
    ("int-newline", "D\n5"), ("int-live", "L65536"), ("int-live-low", "L15"),
    ("int-shutdown", "H0"),
    ("bool-true", "1true"), ("bool-TRUE", "1TRUE"), ("bool-false", "1False"),
    ("bool-1", "11"), ("bool-yes", "1yes"), ("bool-empty", "1"), ("bool-space", "1 true"),
    ("prop-default", "2tracecontext,baggage"), ("prop-ows", "2 tracecontext , baggage "),
    ("prop-none", "2none"), ("prop-case", "2TraceContext"), ("prop-unknown", "2b3,jaeger,xray"),
    ("prop-empty-entries", "2,,tracecontext,,"), ("prop-prefix", "2tracecontextx,bagg"),
    ("sampler-on", "3always_on"), ("sampler-off", "3always_off"),
    ("sampler-ratio", "3traceidratio\0" "0.25"), ("sampler-pb-ratio", "3parentbased_traceidratio\0" "0.5"),
    ("sampler-ratio-0", "3traceidratio\0" "0"), ("sampler-ratio-1", "3traceidratio\0" "1.0"),
    ("sampler-ratio-bad", "3traceidratio\0" "1.5"), ("sampler-ratio-neg", "3traceidratio\0" "-0.1"),
    ("sampler-ratio-nan", "3traceidratio\0" "nan"), ("sampler-ratio-hex", "3traceidratio\0" "0x1p-3"),
    ("sampler-ratio-exp", "3traceidratio\0" "1e-3"), ("sampler-ratio-tiny", "3traceidratio\0" "1e-400"),
    ("sampler-ratio-space", "3traceidratio\0" " 0.5 "), ("sampler-ratio-empty", "3traceidratio\0"),
    ("sampler-pb-off", "3parentbased_always_off"), ("sampler-unknown", "3jaeger_remote\0" "x"),
    ("sampler-case", "3AlwaysOn"),
    # The same under an app's decimal-comma or Turkish locale.
    ("sampler-ratio-comma", "3traceidratio\0" "0,5"),
    ("sampler-ratio-half", "3parentbased_traceidratio\0" "0.5"),
    ("bool-TRUE-dotted", "1TRUE"), ("prop-upper", "2TRACECONTEXT,BAGGAGE,NONE"),
    ("int-nbsp", "0\xa0" "5"), ("int-arabic", "0\xd9\xa5"),
    # Control bytes a log line must not echo raw.
    ("bool-forged", "1x\nkotel: error: forged\r\x1b[2J"),
    ("sampler-forged", "3x\nkotel: info: forged\x1b[31m\x7f"),
]
for n, v in sc:
    seed("env_scalars", n, v)

# --- whole environment: lines "<c><value>", chr(100 + i) picks variable i ---
V = ["OTEL_SDK_DISABLED", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
     "OTEL_PROPAGATORS", "KOTEL_PROCESS_PARENT", "KOTEL_MAX_LIVE_MESSAGES",
     "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL",
     "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_ENDPOINT",
     "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS",
     "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_COMPRESSION",
     "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_TIMEOUT",
     "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_CERTIFICATE",
     "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
     "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_BSP_SCHEDULE_DELAY",
     "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
     "OTEL_BSP_EXPORT_TIMEOUT", "KOTEL_SHUTDOWN_TIMEOUT"]


def env(**kv):
    return "\n".join(chr(100 + V.index(k)) + v for k, v in kv.items())


es = [
    ("empty", ""),
    ("typical", env(OTEL_TRACES_SAMPLER="parentbased_traceidratio",
                    OTEL_TRACES_SAMPLER_ARG="0.1",
                    OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318/",
                    OTEL_EXPORTER_OTLP_HEADERS="api-key=abc",
                    OTEL_EXPORTER_OTLP_COMPRESSION="gzip")),
    ("traces-wins", env(OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/json",
                        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="https://x/v1/traces",
                        OTEL_EXPORTER_OTLP_TIMEOUT="5000",
                        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT="0")),
    ("bad-values", env(OTEL_SDK_DISABLED="yes", OTEL_PROPAGATORS="b3,xray",
                       KOTEL_PROCESS_PARENT="child", KOTEL_MAX_LIVE_MESSAGES="1e6",
                       OTEL_TRACES_EXPORTER="zipkin",
                       OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318",
                       OTEL_EXPORTER_OTLP_COMPRESSION="br")),
    ("batch-over-queue", env(OTEL_BSP_MAX_QUEUE_SIZE="10",
                             OTEL_BSP_MAX_EXPORT_BATCH_SIZE="100",
                             OTEL_BSP_SCHEDULE_DELAY="0",
                             OTEL_BSP_EXPORT_TIMEOUT="0",
                             KOTEL_SHUTDOWN_TIMEOUT="600001")),
    ("console-link", env(OTEL_TRACES_EXPORTER="console", KOTEL_PROCESS_PARENT="LINK",
                         OTEL_SDK_DISABLED="TRUE")),
    ("headers-injection", env(OTEL_EXPORTER_OTLP_TRACES_HEADERS="k=a%0D%0AX: 1,ok=1")),
    ("tls-files", env(OTEL_EXPORTER_OTLP_CERTIFICATE="/etc/ca.pem",
                      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY="/k.pem",
                      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="/c.pem")),
    ("endpoint-root", env(OTEL_EXPORTER_OTLP_ENDPOINT="HTTPS://h")),
    # Credentials and a query: joined before the query, never logged.
    ("endpoint-credentials", env(OTEL_EXPORTER_OTLP_ENDPOINT="http://u:s3cret@h:4318/?api_key=k#f")),
    ("traces-endpoint-credentials",
     env(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="https://tok@h/x/v1/traces?sig=abc")),
    ("endpoint-malformed", env(OTEL_EXPORTER_OTLP_ENDPOINT="http://u:pa?ss@h/")),
    ("endpoint-control", env(OTEL_EXPORTER_OTLP_ENDPOINT="http://h/\x1b[2J\x07")),
    ("headers-framing", env(OTEL_EXPORTER_OTLP_HEADERS="Content-Length=0,HOST=x,"
                                                        "transfer-encoding=chunked,k=v")),
    ("forged-values", env(OTEL_TRACES_EXPORTER="x\rkotel: error: forged",
                          OTEL_EXPORTER_OTLP_PROTOCOL="\x1b]0;title\x07",
                          OTEL_EXPORTER_OTLP_COMPRESSION="gzip\x1b[0m")),
    # grpc: the method path replaces path, query and fragment.
    ("grpc-endpoint", env(OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                          OTEL_EXPORTER_OTLP_ENDPOINT="https://u:p@h:4317/x?k=v#f")),
    ("grpc-schemeless", env(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc",
                            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="collector:4317",
                            OTEL_EXPORTER_OTLP_HEADERS="grpc-timeout=1S,k=v")),
]
for n, v in es:
    seed("env_settings", n, v)

# --- Retry-After header lines ----------------------------------------------
ra_lines = [
    ("seconds", "Retry-After: 120\r\n"), ("zero", "Retry-After: 0\r\n"),
    ("lower-no-space", "retry-after:7"), ("day", "Retry-After: 86400\r\n"),
    ("over-day", "Retry-After: 86401\r\n"), ("huge", "Retry-After: 99999999999999999999\r\n"),
    ("negative", "Retry-After: -5\r\n"), ("fraction", "Retry-After: 1.5\r\n"),
    ("plus", "Retry-After: +5\r\n"), ("tab", "Retry-After:\t5\t\r\n"),
    ("imf-date", "Retry-After: Wed, 26 Nov 2025 00:00:00 GMT\r\n"),
    ("imf-past", "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n"),
    ("rfc850", "Retry-After: Sunday, 06-Nov-94 08:49:37 GMT\r\n"),
    ("asctime", "Retry-After: Sun Nov  6 08:49:37 1994\r\n"),
    ("far-future", "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\n"),
    ("garbage-date", "Retry-After: soon\r\n"), ("empty", "Retry-After:\r\n"),
    ("name-only", "Retry-After:"), ("other-header", "Content-Type: application/x-protobuf\r\n"),
    ("long", "Retry-After: " + "9" * 200 + "\r\n"),
    ("status-line", "HTTP/1.1 429 Too Many Requests\r\n"),
    # Found by fuzzing: the value alone, too long for an int64.
    ("value-overflow", "744444444444444444444444450"),
    ("value-seconds", "120"),
    ("value-date", "Wed, 26 Nov 2025 00:00:00 GMT"),
]
for n, v in ra_lines:
    seed("retry_after", n, v)


# --- ExportTraceServiceResponse, protobuf ----------------------------------
def varint(v):
    v &= (1 << 64) - 1
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wt, payload):
    key = varint(num << 3 | wt)
    if wt == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def partial(rej=None, msg=None):
    body = b""
    if rej is not None:
        body += field(1, 0, rej)
    if msg is not None:
        body += field(2, 2, msg)
    return field(1, 2, body)


rp = [
    ("empty", b""),
    ("partial-empty", partial()),
    ("rejected-2", partial(2, b"quota exceeded")),
    ("rejected-only", partial(5)),
    ("message-only", partial(None, b"all fine, really")),
    ("negative", partial(-3, b"odd")),
    ("huge", partial((1 << 63) - 1)),
    ("ctl-message", partial(1, b"line1\nline2\x1b[31m\x00tail")),
    ("long-message", partial(1, b"m" * 600)),
    ("unknown-field", field(7, 0, 1) + partial(1, b"x")),
    ("truncated", partial(2, b"quota")[:-2]),
    ("wrong-wiretype", field(1, 0, 5)),
    ("bad-varint", b"\x0a\x0b\x08" + b"\xff" * 10),
    ("json-as-proto", b'{"partialSuccess":{"rejectedSpans":"1"}}'),
    ("twice", partial(1, b"a") + partial(2, b"b")),
]
for n, v in rp:
    seed("response_proto", n, v)

rj = [
    ("empty-object", "{}"), ("partial-empty", '{"partialSuccess":{}}'),
    ("rejected-2", '{"partialSuccess":{"rejectedSpans":"2","errorMessage":"quota exceeded"}}'),
    ("rejected-number", '{"partialSuccess":{"rejectedSpans":3}}'),
    ("spaced", '{ "partialSuccess" : { "rejectedSpans" : "4" ,\n "errorMessage" : "x" } }'),
    ("negative", '{"partialSuccess":{"rejectedSpans":"-1"}}'),
    ("huge", '{"partialSuccess":{"rejectedSpans":"99999999999999999999999"}}'),
    ("escapes", '{"partialSuccess":{"errorMessage":"a\\"b\\\\c\\n\\u00e9"}}'),
    ("ctl", '{"partialSuccess":{"errorMessage":"a\x01b\nc"}}'),
    ("unterminated", '{"partialSuccess":{"errorMessage":"abc'),
    ("trailing-backslash", '{"errorMessage":"abc\\'),
    ("long-message", '{"partialSuccess":{"errorMessage":"' + "m" * 600 + '"}}'),
    ("key-no-colon", '{"rejectedSpans" "2"}'),
    ("key-at-end", '{"rejectedSpans"'),
    ("not-json", "<html>502 Bad Gateway</html>"), ("empty", ""), ("blank", " \r\n\t"),
    ("array", "[1,2]"),
    # Found by fuzzing: the 19th digit was dropped.
    ("int64-max", '{"partialSuccess":{"rejectedSpans":"9223372036854775807"}}'),
    ("int64-max-plus-1", '{"partialSuccess":{"rejectedSpans":"9223372036854775808"}}'),
]
for n, v in rj:
    seed("response_json", n, v)

# --- otlp_trace_enc ----------------------------------------------------------
# Byte streams read by tests/unit/otlp_gen.h (zeros once exhausted): the
# world (4 resources, then clients), the span count, then each span's
# fields. Hand-made shapes rather than specification text: an empty batch,
# a one-span minimum, every flag set, long strings, many links.
def enc_seed(world, n, span):
    return bytes(world) + bytes([n]) + bytes(span) * max(n, 1)


ote = [
    ("empty", b""),
    ("one-span-zeros", enc_seed([0] * 4 + [0, 0], 1, [0] * 40)),
    ("all-flags", enc_seed([1, 0, 0x41, 0, 0, 0, 0, 0, 0, 1, 0x0f, 0, 0, 0, 0], 3,
                           [0xff, 0xff] + list(range(1, 41)))),
    ("ones", b"\x01" * 600),
    ("ff", b"\xff" * 4000),
    ("ramp", bytes(i % 256 for i in range(6000))),
]
for n, v in ote:
    seed("otlp_trace_enc", n, v)

# --- otlp_metrics_enc --------------------------------------------------------
# Byte streams for tests/fuzz/otlp_metrics_enc.c's request generator: the
# resource count and resources, 8 clients, the fallback, then five metrics'
# point counts and points. No points at all; one resource, every client on
# it; five resources with clients spread and points on every metric; and
# longer runs of 0x01, 0xff and a ramp.
omt = [
    ("empty", b""),
    ("one-resource", bytes([1, 3]) + b"svc" + bytes([0, 0, 0, 0, 0]) + bytes([0, 1]) * 8
     + bytes([0]) + bytes([1, 0, 0]) * 5),
    ("five-resources", bytes([5]) + b"".join(bytes([64 + 2]) + b"s%d" % i + bytes([i, 0, 0, 0, 1])
                                             for i in range(5))
     + b"".join(bytes([i, 1, 1, 0, 0]) for i in range(8)) + bytes([0x81])
     + bytes([3] + [7, 0x37, 70, 1, 2, 3, 4] * 3) * 5),
    ("ones", b"\x01" * 800),
    ("ff", b"\xff" * 5000),
    ("ramp", bytes(i % 256 for i in range(8000))),
]
for n, v in omt:
    seed("otlp_metrics_enc", n, v)


# grpc_status: google.rpc.Status bytes (and, as the target also reads
# them, header values).
RETRY_URL = b"type.googleapis.com/google.rpc.RetryInfo"


def retry_status(secs, nanos=0, url=RETRY_URL):
    dur = field(1, 0, secs) + field(2, 0, nanos)
    anyv = field(1, 2, url) + field(2, 2, field(1, 2, dur))
    return field(1, 0, 8) + field(2, 2, b"slow down") + field(3, 2, anyv)


gs = [
    ("empty", b""),
    ("retry-2s", retry_status(2)),
    ("retry-nanos", retry_status(0, 500000000)),
    ("retry-negative", retry_status(-1)),
    ("retry-huge", retry_status((1 << 63) - 1)),
    ("other-detail", retry_status(1, url=b"type.googleapis.com/google.rpc.DebugInfo")),
    ("truncated", retry_status(2)[:-3]),
    ("status-14", b"14"),
    ("message", b"busy%20now%0A%zz"),
    ("framed", b"\x00\x00\x00\x00\x02\x0a\x00"),
]
for n, v in gs:
    seed("grpc_status", n, v)


# --- kafka_log_broker --------------------------------------------------------
# The first byte: bit 0 passes a client name (the next byte >> 4 bytes of
# the line); librdkafka's line shapes (rd_kafka_log0, rd_rkb_log) follow.
klb = [
    ("thread-line", "\x00[thrd:127.0.0.1:9092/bootstrap]: 127.0.0.1:9092/bootstrap: "
                    "Connect to ipv4#127.0.0.1:9092 failed: Connection refused"),
    ("error-line-name", "\x91rdkafka#p: rdkafka#p: 127.0.0.1:1/1: Connect failed"),
    ("scheme", "\x00sasl_ssl://kafka-0.example:9093/3: Disconnected"),
    ("ipv6", "\x00[::1]:9092/bootstrap: Connect failed"),
    ("no-broker", "\x00[thrd:main]: 1/1 brokers are down"),
    ("internal", "\x00:0/internal: Enter main broker thread"),
    ("port-too-big", "\x00host:99999/1: x"),
    ("port-zero", "\x00host:0/1: x"),
    ("no-id", "\x00host:9092/: x"),
    ("spaces", "\x00Group \"g\": join with 1 subscribed topic(s)"),
    ("thrd-unclosed", "\x00[thrd:app: host:1/1: x"),
    ("long-host", "\x00" + "h" * 200 + ":9092/1: x"),
]
for n, v in klb:
    seed("kafka_log_broker", n, v)


# --- librdkafka statistics JSON (the fields kotel reads) --------------------
ks = [
    ("consumer", '{"name": "rdkafka#consumer-1", "client_id": "rdkafka", "type": "consumer",'
     ' "msg_cnt": 0, "msg_size": 0, "brokers": {"127.0.0.1:9092/1": {"name":'
     ' "127.0.0.1:9092/1", "nodeid": 1, "nodename": "127.0.0.1:9092", "source":'
     ' "configured", "rtt": {"min": 90, "max": 500000, "avg": 250000, "cnt": 2}},'
     ' "GroupCoordinator": {"nodeid": 1, "nodename": "127.0.0.1:9092", "source":'
     ' "logical", "rtt": {"avg": 7, "cnt": 1}}}, "topics": {"orders": {"topic":'
     ' "orders", "partitions": {"0": {"partition": 0, "consumer_lag": 13,'
     ' "consumer_lag_stored": 0}, "-1": {"partition": -1, "consumer_lag": -1}}}}}'),
    ("producer", '{"name": "app#producer-2", "type": "producer", "msg_cnt": 9,'
     ' "msg_size": 900, "brokers": {"[::1]:9092/3": {"nodeid": 3, "nodename":'
     ' "[::1]:9092", "rtt": {"avg": 1500, "cnt": 4}}}}'),
    ("deep", '{"name": "x", "type": "consumer", "a": ' + "[" * 40 + "]" * 40 + "}"),
    ("odd-shapes", '{"name": "x", "type": "consumer", "topics": {"t": 5, "u":'
     ' {"partitions": [1]}}, "brokers": {"b": {"nodeid": "1"}}}'),
    ("big-numbers", '{"name": "x", "type": "producer", "msg_cnt": 99999999999999999999,'
     ' "msg_size": -1, "brokers": {"b": {"nodeid": 1, "nodename": "h:99999999",'
     ' "rtt": {"avg": 1e300, "cnt": 1}}}}'),
    ("truncated", '{"name": "x", "type": "consumer", "topics": {"t": {"partitions":'),
]
for n, v in ks:
    seed("kafka_stats", n, v)


def main():
    for target, seeds in corpora.items():
        d = os.path.join(ROOT, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in seeds:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    print(f"{sum(len(s) for s in corpora.values())} seeds in {len(corpora)} corpora",
          file=sys.stderr)


if __name__ == "__main__":
    main()

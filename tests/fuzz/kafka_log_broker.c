/* kotel_kafka_log_parse_broker on any line (librdkafka's lines carry
 * broker names and texts that brokers and the network supply). The input's
 * first byte picks the client name passed (none, or the start of the
 * input). Accepted: the broker is a space-free, printable run of the line
 * that ends with ":<port>/<id>" and contains the host; the port is
 * 1..65535; both outputs are NUL-terminated within their buffer.
 * Refused: both outputs empty, port 0. Never a read past the line. */
#include "agent/kafka_log.h"
#include "fuzz.h"

#define SZ 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *line, *name = NULL, broker[SZ], host[SZ];
        const char *slash, *colon;
        int port = -1;
        bool ok;

        if (!size)
                return 0;
        line = fuzz_cstr(data + 1, size - 1);
        if (data[0] & 1)
                name = strndup(line, data[0] >> 4);
        ok = kotel_kafka_log_parse_broker(line, name, broker, host, SZ, &port);
        FUZZ_ASSERT(strnlen(broker, SZ) < SZ && strnlen(host, SZ) < SZ);
        if (!ok) {
                FUZZ_ASSERT(!broker[0] && !host[0] && port == 0);
        } else {
                FUZZ_ASSERT(broker[0] && host[0]);
                FUZZ_ASSERT(port >= 1 && port <= 65535);
                FUZZ_ASSERT(strstr(line, broker) != NULL);
                FUZZ_ASSERT(strstr(broker, host) != NULL);
                for (const char *p = broker; *p; p++)
                        FUZZ_ASSERT(*p > 0x20 && *p < 0x7f);
                slash = strrchr(broker, '/');
                FUZZ_ASSERT(slash && slash[1]);
                for (colon = slash - 1; colon > broker && *colon != ':';
                     colon--)
                        FUZZ_ASSERT(*colon >= '0' && *colon <= '9');
                FUZZ_ASSERT(*colon == ':' && atoi(colon + 1) == port);
        }
        free(name);
        free(line);
        return 0;
}

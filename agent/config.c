#include "config.h"

#include <string.h>

#include "exporter/exporter.h"

struct kotel_config kotel_cfg;

int kotel_config_parse_propagators(const char *v, bool *tracecontext,
                                   bool *baggage)
{
        int bad = 0;

        *tracecontext = false;
        *baggage      = false;
        while (*v) {
                const char *end = strchr(v, ',');
                size_t n;

                if (!end)
                        end = v + strlen(v);
                while (v < end && (*v == ' ' || *v == '\t'))
                        v++;
                n = (size_t)(end - v);
                while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                        n--;
                if (n == 12 && !kotel_env_ncasecmp(v, "tracecontext", 12))
                        *tracecontext = true;
                else if (n == 7 && !kotel_env_ncasecmp(v, "baggage", 7))
                        *baggage = true;
                else if (n == 4 && !kotel_env_ncasecmp(v, "none", 4))
                        ;
                else if (n)
                        bad++;
                v = *end ? end + 1 : end;
        }
        return bad;
}

void kotel_config_load(void)
{
        struct kotel_log_value q;
        const char *v;

        memset(&kotel_cfg, 0, sizeof(kotel_cfg));
        kotel_cfg.disabled = kotel_env_bool("OTEL_SDK_DISABLED", false);
        kotel_sampler_init(&kotel_cfg.sampler,
                           kotel_env_str("OTEL_TRACES_SAMPLER"),
                           kotel_env_str("OTEL_TRACES_SAMPLER_ARG"));

        kotel_cfg.tracecontext = true;
        kotel_cfg.baggage      = true;
        v                      = kotel_env_str("OTEL_PROPAGATORS");
        if (v) {
                int bad = kotel_config_parse_propagators(
                    v, &kotel_cfg.tracecontext, &kotel_cfg.baggage);
                if (bad)
                        kotel_log(KOTEL_LOG_ERROR,
                                  "OTEL_PROPAGATORS: %d unsupported entr%s "
                                  "ignored (kotel supports tracecontext, "
                                  "baggage, none)",
                                  bad, bad == 1 ? "y" : "ies");
        }

        kotel_cfg.process_parent = KOTEL_PROCESS_PARENT_PARENT;
        v                        = kotel_env_str("KOTEL_PROCESS_PARENT");
        if (v) {
                if (!kotel_env_casecmp(v, "link"))
                        kotel_cfg.process_parent = KOTEL_PROCESS_PARENT_LINK;
                else if (kotel_env_casecmp(v, "parent"))
                        kotel_log(KOTEL_LOG_ERROR,
                                  "KOTEL_PROCESS_PARENT: '%s' is not parent "
                                  "or link; using parent",
                                  kotel_log_value(&q, v));
        }
        kotel_cfg.live_max = (size_t)kotel_env_int("KOTEL_MAX_LIVE_MESSAGES",
                                                   65536, 16, 1 << 22);
}

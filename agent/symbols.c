#include "symbols.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "dlhooks.h"
#include "exporter/exporter.h"

#define KOTEL_DEFINE_REAL(name) __typeof__(name) *real_##name;
KOTEL_RDKAFKA_SYMBOLS(KOTEL_DEFINE_REAL)
#undef KOTEL_DEFINE_REAL

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool resolved;

/* true when @p lies in this library (a lookup that found our own wrapper). */
static bool is_ours(void *p)
{
        Dl_info self, other;

        if (!p || !dladdr((void *)kotel_symbols_resolve, &self) ||
            !dladdr(p, &other))
                return false;
        return self.dli_fbase == other.dli_fbase;
}

struct search {
        void *handle;
};

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
        struct search *s = arg;
        void *h, *p;

        (void)size;
        if (!info->dlpi_name || !info->dlpi_name[0])
                return 0;
        h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
        if (!h)
                return 0;
        p = kotel_dl_sym(h, "rd_kafka_version");
        if (p && !is_ours(p)) {
                s->handle = h;
                return 1;
        }
        dlclose(h);
        return 0;
}

/* Through the real dlsym (dlhooks.c): the agent's interposed dlsym would
 * answer a hooked name with the hook itself. */
static void *lookup(void *handle, const char *name)
{
        void *p = kotel_dl_sym(handle ? handle : RTLD_NEXT, name);

        return is_ours(p) ? NULL : p;
}

static void resolve(void)
{
        struct search s = {0};
        void *handle    = NULL;
        bool ok         = true;

        if (!lookup(NULL, "rd_kafka_version")) {
                dl_iterate_phdr(visit, &s);
                if (!s.handle) {
                        kotel_log(KOTEL_LOG_ERROR,
                                  "librdkafka not found among the loaded "
                                  "libraries; tracing is off");
                        return;
                }
                handle = s.handle; /* kept open: librdkafka stays loaded */
        }
#define KOTEL_RESOLVE(name)                                                    \
        real_##name = (__typeof__(name) *)lookup(handle, #name);               \
        if (!real_##name) {                                                    \
                kotel_log(KOTEL_LOG_ERROR, "librdkafka lacks %s; tracing is off", \
                          #name);                                              \
                ok = false;                                                    \
        }
        KOTEL_RDKAFKA_SYMBOLS(KOTEL_RESOLVE)
#undef KOTEL_RESOLVE
        __atomic_store_n(&resolved, ok, __ATOMIC_RELEASE);
}

bool kotel_symbols_resolve(void)
{
        if (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE))
                return true;
        pthread_once(&once, resolve);
        return __atomic_load_n(&resolved, __ATOMIC_ACQUIRE);
}

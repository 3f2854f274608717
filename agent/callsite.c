/* Call sites for the code.* attributes (see callsite.h).
 *
 * A wrapper stores its return address (KOTEL_CALLSITE_MARK). When a
 * sampled span starts, the address says which object the app called
 * from:
 *   - the app's own code (a C or C++ program calling librdkafka's C API):
 *     that address is the call site, at the cost of a table lookup;
 *   - a binding layer (librdkafka++, confluent-kafka-python's cimpl, a
 *     Node addon, libffi): libunwind walks this thread's stack from here
 *     and the first frame outside librdkafka, kotel and the bindings is;
 *   - an interpreter (Python, Node): the app's code is not machine code,
 *     so there is no call site to name, and none is recorded.
 * Names, files and lines are found later, off the hot path, by the
 * exporter thread (exporter/symbolize.c).
 *
 * Objects are classified once each: a table of text ranges, appended
 * under a mutex on the first sight of an address outside every known
 * range and read without a lock (entries are written before the count
 * that publishes them is). An object unloaded and another loaded at the
 * same place would keep the first one's class: dlclose of a library that
 * calls librdkafka is rare enough to accept that.
 *
 * libunwind is loaded with dlopen(RTLD_LOCAL), never linked: its shared
 * object also defines _Unwind_* and backtrace(), which would take over
 * the process's C++ exception unwinding and glibc's backtrace() if they
 * were in the global scope of a preloaded library. */
#include "callsite.h"

#include <dlfcn.h>
#include <errno.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "exporter/env.h"
#include "exporter/log.h"
#include "exporter/symbolize.h"

bool kotel_callsite_on;

enum cls { CLS_APP = 1, CLS_SKIP, CLS_STOP };

#define RANGES_MAX 128
#define FRAMES_MAX 32

static struct range {
        uintptr_t start, end;
        uint8_t cls;
} ranges[RANGES_MAX];
static unsigned n_ranges; /* published with release */
static pthread_mutex_t ranges_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t self_base;

static int (*p_unw_backtrace)(void **, int);

static bool has_prefix(const char *s, const char *p)
{
        return strncmp(s, p, strlen(p)) == 0;
}

/* The class of the object called @path (empty: the main program). */
static enum cls classify_name(const char *path)
{
        const char *b = strrchr(path, '/');

        b = b ? b + 1 : path;
        if (!*b)
                b = program_invocation_short_name;
        /* librdkafka and librdkafka++; the Python, Node and FFI bindings. */
        if (has_prefix(b, "librdkafka") || has_prefix(b, "cimpl.") ||
            has_prefix(b, "node-librdkafka") || has_prefix(b, "koffi") ||
            has_prefix(b, "libffi.so") || has_prefix(b, "_ctypes.") ||
            has_prefix(b, "_cffi_backend."))
                return CLS_SKIP;
        /* Interpreters: the app's code is theirs to name. */
        if (has_prefix(b, "libpython") || has_prefix(b, "python") ||
            !strcmp(b, "node") || has_prefix(b, "libnode.so"))
                return CLS_STOP;
        return CLS_APP;
}

struct find {
        uintptr_t ip;
        struct range r;
        bool found;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
        struct find *f = arg;
        uintptr_t lo = UINTPTR_MAX, hi = 0;

        (void)size;
        for (int i = 0; i < info->dlpi_phnum; i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                uintptr_t s          = info->dlpi_addr + ph->p_vaddr;

                if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
                        continue;
                if (s < lo)
                        lo = s;
                if (s + ph->p_memsz > hi)
                        hi = s + ph->p_memsz;
        }
        if (f->ip < lo || f->ip >= hi)
                return 0;
        f->r = (struct range){
            .start = lo,
            .end   = hi,
            .cls   = info->dlpi_addr == self_base
                         ? CLS_SKIP
                         : classify_name(info->dlpi_name ? info->dlpi_name
                                                         : ""),
        };
        f->found = true;
        return 1;
}

static enum cls classify_slow(uintptr_t ip)
{
        struct find f = {.ip = ip};
        enum cls c    = CLS_STOP;

        pthread_mutex_lock(&ranges_lock);
        for (unsigned i = 0; i < n_ranges; i++)
                if (ip >= ranges[i].start && ip < ranges[i].end) {
                        c = ranges[i].cls;
                        goto out;
                }
        dl_iterate_phdr(find_object, &f);
        if (!f.found)
                goto out; /* JIT code, a trampoline: nothing to name */
        c = f.r.cls;
        if (n_ranges < RANGES_MAX) {
                ranges[n_ranges] = f.r;
                __atomic_store_n(&n_ranges, n_ranges + 1, __ATOMIC_RELEASE);
        }
out:
        pthread_mutex_unlock(&ranges_lock);
        return c;
}

static enum cls classify(uintptr_t ip)
{
        unsigned n = __atomic_load_n(&n_ranges, __ATOMIC_ACQUIRE);

        for (unsigned i = 0; i < n; i++)
                if (ip >= ranges[i].start && ip < ranges[i].end)
                        return ranges[i].cls;
        return classify_slow(ip);
}

uintptr_t kotel_callsite_capture(void)
{
        uintptr_t ra = (uintptr_t)kotel_tls.caller;
        void *ips[FRAMES_MAX];
        int n;

        if (!kotel_callsite_on || !ra || !kotel_tls.in_hook)
                return 0;
        switch (classify(ra)) {
        case CLS_APP:
                return ra;
        case CLS_STOP:
                return 0;
        default:
                break;
        }
        if (!p_unw_backtrace)
                return 0;
        n = p_unw_backtrace(ips, FRAMES_MAX);
        /* ips[0] is in this function; the others are return addresses. */
        for (int i = 1; i < n; i++) {
                uintptr_t ip = (uintptr_t)ips[i];

                switch (classify(ip)) {
                case CLS_APP:
                        return ip;
                case CLS_STOP:
                        return 0;
                default:
                        break;
                }
        }
        return 0;
}

void kotel_callsite_init(void)
{
        Dl_info self;
        void *h;

        if (!kotel_env_bool("KOTEL_CODE_ATTRIBUTES", true))
                return;
        if (dladdr((void *)kotel_callsite_init, &self))
                self_base = (uintptr_t)self.dli_fbase;
        h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
        if (h)
                p_unw_backtrace = (int (*)(void **, int))dlsym(h,
                                                            "unw_backtrace");
        if (!p_unw_backtrace)
                kotel_log(KOTEL_LOG_WARN,
                          "libunwind.so.8 not found: call sites through "
                          "librdkafka++ and other bindings are not recorded");
        kotel_symbolize_init();
        kotel_callsite_on = true;
}

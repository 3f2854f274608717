/* Call-site symbolization, on the exporter thread (symbolize.h).
 *
 * elfutils' libdwfl reads the process's own modules (from /proc/self/maps)
 * and their symbol tables and DWARF line tables, including separate debug
 * files where the system has them: the function from .symtab (so static
 * functions of a program not linked with -rdynamic are named too), the
 * file and line from .debug_line of a program built with -g. Without
 * libdw.so.1, or for an address it cannot place, dladdr() still names
 * exported functions. C++ names are demangled with the process's own
 * __cxa_demangle when a C++ runtime is loaded.
 *
 * libdw is loaded with dlopen, and __cxa_demangle looked up, when the
 * agent starts (kotel_symbolize_init, from the app thread that makes the
 * first hooked call), never on the exporter thread: dlopen and dlsym hold
 * the dynamic loader's lock while they allocate, and a program that calls
 * exit() from a signal handler that interrupted malloc would then wait
 * forever in exit's _dl_fini for a lock the exporter thread holds while
 * it waits for the allocator's lock (seen under ASan:
 * test_sigterm_handler_calling_exit_never_hangs). With
 * KOTEL_CODE_ATTRIBUTES=false nothing is loaded. Lookups can be slow (a
 * module's DWARF is read on its first address); they happen here, never
 * on the app's threads, and at most once per address: the cache keeps
 * every answer, bounded by CACHE_MAX addresses, past which new addresses
 * get no call site. */
#include "symbolize.h"

#include <dlfcn.h>
#include <stdio.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define CACHE_MAX 4096 /* addresses; a power of two */
#define NAME_MAX_LEN 512

static struct entry {
        uintptr_t ip;
        const struct kotel_code_loc *loc; /* NULL: nothing known */
} cache[CACHE_MAX];
static size_t cache_n;

static struct {
        bool tried;
        Dwfl *dwfl;
        uint64_t reported_ns; /* last (re)reading of the module list */
        typeof(dwfl_begin) *begin;
        typeof(dwfl_report_begin) *report_begin;
        typeof(dwfl_report_end) *report_end;
        typeof(dwfl_linux_proc_report) *proc_report;
        typeof(dwfl_addrmodule) *addrmodule;
        typeof(dwfl_module_addrname) *addrname;
        typeof(dwfl_module_getsrc) *getsrc;
        typeof(dwfl_lineinfo) *lineinfo;
        typeof(dwfl_line_comp_dir) *comp_dir; /* optional */
        Dwfl_Callbacks cb;
} dw;

static char *(*cxa_demangle)(const char *, char *, size_t *, int *);

static bool load_libdw(void)
{
        void *h;

        dw.tried = true;
        if (!(h = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL))) {
                kotel_log(KOTEL_LOG_INFO, "libdw.so.1 not found: call sites "
                                          "get function names from dynamic "
                                          "symbols only, no file or line");
                return false;
        }
#define SYM(f, n)                                                              \
        if (!(dw.f = (typeof(dw.f))dlsym(h, n)))                               \
                return false
        SYM(begin, "dwfl_begin");
        SYM(report_begin, "dwfl_report_begin");
        SYM(report_end, "dwfl_report_end");
        SYM(proc_report, "dwfl_linux_proc_report");
        SYM(addrmodule, "dwfl_addrmodule");
        SYM(addrname, "dwfl_module_addrname");
        SYM(getsrc, "dwfl_module_getsrc");
        SYM(lineinfo, "dwfl_lineinfo");
        SYM(cb.find_elf, "dwfl_linux_proc_find_elf");
        SYM(cb.find_debuginfo, "dwfl_standard_find_debuginfo");
#undef SYM
        dw.comp_dir = (typeof(dw.comp_dir))dlsym(h, "dwfl_line_comp_dir");
        return (dw.dwfl = dw.begin(&dw.cb)) != NULL;
}

/* Reads the process's module list again (libraries loaded since). */
static void report_modules(void)
{
        dw.report_begin(dw.dwfl);
        dw.proc_report(dw.dwfl, getpid());
        dw.report_end(dw.dwfl, NULL, NULL);
        dw.reported_ns = kotel_clock_ns();
}

/* Cuts a demangled C++ name's parameter list (and any cv-qualifiers after
 * it): "ns::f(int) const" -> "ns::f", as code.function.name wants the
 * qualified name; "(anonymous namespace)::" inside is kept. */
static void cut_params(char *d)
{
        size_t len = strlen(d);
        int depth  = 0;

        while (len && d[len - 1] != ')')
                len--; /* " const", " &&" */
        for (size_t i = len; i-- > 0;) {
                if (d[i] == ')')
                        depth++;
                else if (d[i] == '(' && --depth == 0) {
                        if (i)
                                d[i] = '\0';
                        return;
                }
        }
}

static char *dup_name(const char *n)
{
        char *d = NULL;
        int st  = -1;

        if (!n || !*n)
                return NULL;
        /* Go's cgo trampolines are the binding, not the app. */
        if (!strncmp(n, "_cgo_", 5))
                return NULL;
        if (cxa_demangle && n[0] == '_' && n[1] == 'Z')
                d = cxa_demangle(n, NULL, NULL, &st);
        if (d && st == 0) {
                cut_params(d);
                return d;
        }
        free(d);
        return strndup(n, NAME_MAX_LEN);
}

/* @file as an absolute path where the compilation directory says where a
 * relative one was compiled; malloc'd. */
static char *full_path(const char *file, const char *comp_dir)
{
        char *p;

        if (file[0] == '/' || !comp_dir || comp_dir[0] != '/')
                return strndup(file, 4096);
        if (asprintf(&p, "%.2048s/%.2048s", comp_dir, file) < 0)
                return NULL;
        return p;
}

static struct kotel_code_loc *lookup(uintptr_t ip)
{
        /* A return address: the call is the instruction before it. */
        uintptr_t pc = ip - 1;
        struct kotel_code_loc *loc;
        const char *name = NULL, *file = NULL, *comp_dir = NULL;
        Dwfl_Module *mod = NULL;
        int line         = 0;
        Dl_info di;

        if (dw.dwfl && !dw.reported_ns)
                report_modules();
        if (dw.dwfl) {
                mod = dw.addrmodule(dw.dwfl, pc);
                /* A library loaded since: read the list again, at most
                 * once a second. */
                if (!mod && kotel_clock_ns() - dw.reported_ns > 1000000000ull) {
                        report_modules();
                        mod = dw.addrmodule(dw.dwfl, pc);
                }
        }
        if (mod) {
                Dwfl_Line *l = dw.getsrc(mod, pc);

                name = dw.addrname(mod, pc);
                if (l) {
                        file     = dw.lineinfo(l, NULL, &line, NULL, NULL,
                                               NULL);
                        comp_dir = dw.comp_dir ? dw.comp_dir(l) : NULL;
                }
        }
        if (!name && dladdr((void *)pc, &di))
                name = di.dli_sname;
        if (!(loc = calloc(1, sizeof(*loc))))
                return NULL;
        loc->function = dup_name(name);
        if (!loc->function) {
                /* No function (or a binding's trampoline): no call site. */
                free(loc);
                return NULL;
        }
        if (file && line > 0) {
                loc->file = full_path(file, mod ? comp_dir : NULL);
                loc->line = (uint32_t)line;
        }
        return loc;
}

void kotel_symbolize_init(void)
{
        if (!dw.tried)
                load_libdw();
        /* A C++ program has its runtime loaded by now; others have none. */
        cxa_demangle = (typeof(cxa_demangle))dlsym(RTLD_DEFAULT,
                                                    "__cxa_demangle");
}

const struct kotel_code_loc *kotel_symbolize(uintptr_t ip)
{
        size_t i = (size_t)((ip * 0x9e3779b97f4a7c15ull) >> 52) &
                   (CACHE_MAX - 1);

        if (!ip)
                return NULL;
        for (;; i = (i + 1) & (CACHE_MAX - 1)) {
                if (cache[i].ip == ip)
                        return cache[i].loc;
                if (!cache[i].ip)
                        break;
        }
        /* Keep a quarter free so probes stay short; past that, nothing new
         * is named (a program with thousands of call sites is rare). */
        if (cache_n >= CACHE_MAX * 3 / 4)
                return NULL;
        cache[i].ip  = ip;
        cache[i].loc = lookup(ip);
        cache_n++;
        return cache[i].loc;
}

void kotel_symbolize_spans(struct kotel_span *const *spans, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!spans[i]->code_resolved) {
                        spans[i]->code = kotel_symbolize(spans[i]->code_ip);
                        spans[i]->code_resolved = true;
                }
}

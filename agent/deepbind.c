/* Modules loaded with RTLD_DEEPBIND (PHP's extensions, some plugin hosts):
 * the loader binds such a module's symbols to its own dependencies before
 * the global scope, so its calls to librdkafka reach librdkafka's functions
 * and never the preloaded hooks.
 *
 * The agent's dlopen (dlhooks.c) passes every other dlopen straight
 * through; a dlopen with RTLD_DEEPBIND comes here. It is done as asked
 * (the flag is kept: the module still gets its own dependencies' symbols
 * first, for everything but the hooked functions), then, in each object
 * that load added (the module and its new dependencies, but not
 * librdkafka itself and not the agent), every GOT entry (JUMP_SLOT or
 * GLOB_DAT relocation) of a function the agent hooks is pointed at the
 * hook: exactly the binding the module would have had without
 * RTLD_DEEPBIND. Entries in RELRO (read-only after relocation) are made
 * writable for the store and read-only again. The hooks call the real
 * functions through real_<name>, never through these entries.
 *
 * Why not the alternatives: dropping RTLD_DEEPBIND changes which symbols
 * the module gets (the reason it asked for it); an LD_AUDIT module
 * (la_symbind64) needs LD_AUDIT set in the environment, which
 * LD_PRELOAD alone cannot do, and costs every program an audit pass on
 * every binding. Patching only the hooked entries after the load is local
 * to the modules that need it.
 *
 * The loader searches for a bare file name through the caller's RPATH and
 * RUNPATH; the real dlopen called from here would use the agent's. So a
 * bare name not yet loaded is first looked for along the caller's search
 * path (dlinfo RTLD_DI_SERINFO), and $ORIGIN is the caller's directory.
 * x86-64 only, as dlhooks.c. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"
#include "dlhooks.h"
#include "symbols.h"

#if defined(__x86_64__)

/* ---- the file, as the caller would have found it ------------------------ */

static const struct link_map *caller_map(const void *caller)
{
        Dl_info info;
        struct link_map *lm = NULL;

        if (!dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP))
                return NULL;
        return lm;
}

/* @file with $ORIGIN / ${ORIGIN} replaced by the caller's directory, into
 * @out; false when it does not fit or the caller is unknown. */
static bool expand_origin(const char *file, const struct link_map *lm,
                          char *out, size_t size)
{
        char origin[PATH_MAX];
        const char *name = lm && lm->l_name && lm->l_name[0] ? lm->l_name : NULL;
        size_t n = 0;

        if (!name) {
                ssize_t r = readlink("/proc/self/exe", origin, sizeof(origin) - 1);

                if (r <= 0)
                        return false;
                origin[r] = '\0';
        } else if (snprintf(origin, sizeof(origin), "%s", name) >=
                   (int)sizeof(origin)) {
                return false;
        }
        if (strrchr(origin, '/'))
                *strrchr(origin, '/') = '\0';
        while (*file) {
                size_t skip = !strncmp(file, "${ORIGIN}", 9)  ? 9
                              : !strncmp(file, "$ORIGIN", 7) ? 7
                                                              : 0;
                const char *add = skip ? origin : file;
                size_t len      = skip ? strlen(origin) : 1;

                if (n + len >= size)
                        return false;
                memcpy(out + n, add, len);
                n += len;
                file += skip ? skip : 1;
        }
        out[n] = '\0';
        return true;
}

/* A bare @file not loaded yet, along the caller's search path; false
 * when not found there (the loader's own search, which includes the
 * cache, then decides). */
static bool search_like_caller(const char *file, const struct link_map *lm,
                               char *out, size_t size)
{
        Dl_serinfo probe, *info;
        bool found = false;

        if (!lm || dlinfo((void *)lm, RTLD_DI_SERINFOSIZE, &probe) != 0)
                return false;
        info = malloc(probe.dls_size);
        if (!info)
                return false;
        info->dls_size = probe.dls_size;
        info->dls_cnt  = probe.dls_cnt;
        if (dlinfo((void *)lm, RTLD_DI_SERINFO, info) == 0)
                for (unsigned i = 0; !found && i < info->dls_cnt; i++)
                        found = snprintf(out, size, "%s/%s",
                                         info->dls_serpath[i].dls_name,
                                         file) < (int)size &&
                                access(out, F_OK) == 0;
        free(info);
        return found;
}

/* ---- rebinding ----------------------------------------------------------- */

struct relro {
        uintptr_t start, end;
};

/* Whether @info is a librdkafka: it defines rd_kafka_version itself (its
 * own GOT entries are librdkafka's internal calls, never the app's). */
static bool is_librdkafka(struct dl_phdr_info *info)
{
        void *h = info->dlpi_name && info->dlpi_name[0]
                      ? kotel_dl_open(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD)
                      : NULL;
        struct link_map *def = NULL;
        bool yes             = false;
        Dl_info di;
        void *p;

        if (!h)
                return false;
        /* The object comes first in its own lookup scope. */
        p   = kotel_dl_sym(h, "rd_kafka_version");
        yes = p && dladdr1(p, &di, (void **)&def, RTLD_DL_LINKMAP) && def &&
              def->l_addr == info->dlpi_addr;
        dlclose(h);
        return yes;
}

/* Points @slot at @hook, making the page writable for the store when it
 * lies in RELRO. */
static void store(uintptr_t slot, void *hook, const struct relro *r)
{
        long pg         = sysconf(_SC_PAGESIZE);
        uintptr_t page  = slot & ~(uintptr_t)(pg - 1);
        /* The loader makes read-only the whole pages of RELRO only (its
         * end rounded down): the last, partial page stays writable, and
         * must not be made read-only here. */
        uintptr_t ro_end = r->end & ~(uintptr_t)(pg - 1);
        bool ro          = slot >= (r->start & ~(uintptr_t)(pg - 1)) && slot < ro_end;

        if (*(void **)slot == hook)
                return;
        if (ro && mprotect((void *)page, (size_t)pg, PROT_READ | PROT_WRITE))
                return;
        __atomic_store_n((void **)slot, hook, __ATOMIC_RELEASE);
        if (ro)
                mprotect((void *)page, (size_t)pg, PROT_READ);
}

static int rebind(struct dl_phdr_info *info)
{
        const ElfW(Dyn) *dyn = NULL;
        const ElfW(Sym) *symtab = NULL;
        const char *strtab = NULL;
        const ElfW(Rela) *rel[2] = {NULL, NULL};
        size_t relsz[2] = {0, 0};
        struct relro r = {0, 0};
        uintptr_t base = info->dlpi_addr;
        int n = 0;

        for (int i = 0; i < info->dlpi_phnum; i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

                if (ph->p_type == PT_DYNAMIC)
                        dyn = (const ElfW(Dyn) *)(base + ph->p_vaddr);
                else if (ph->p_type == PT_GNU_RELRO)
                        r = (struct relro){base + ph->p_vaddr,
                                           base + ph->p_vaddr + ph->p_memsz};
        }
        if (!dyn)
                return 0;
        for (; dyn->d_tag != DT_NULL; dyn++) {
                uintptr_t p = dyn->d_un.d_ptr < base ? base + dyn->d_un.d_ptr
                                                     : dyn->d_un.d_ptr;

                switch (dyn->d_tag) {
                case DT_SYMTAB: symtab = (const ElfW(Sym) *)p; break;
                case DT_STRTAB: strtab = (const char *)p; break;
                case DT_JMPREL: rel[0] = (const ElfW(Rela) *)p; break;
                case DT_PLTRELSZ: relsz[0] = dyn->d_un.d_val; break;
                case DT_RELA: rel[1] = (const ElfW(Rela) *)p; break;
                case DT_RELASZ: relsz[1] = dyn->d_un.d_val; break;
                }
        }
        if (!symtab || !strtab)
                return 0;
        for (int t = 0; t < 2; t++) {
                for (size_t i = 0; rel[t] && i < relsz[t] / sizeof(ElfW(Rela)); i++) {
                        const ElfW(Rela) *e = &rel[t][i];
                        unsigned type       = ELF64_R_TYPE(e->r_info);
                        void *hook;

                        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
                                continue;
                        hook = kotel_dl_hook_for(
                            strtab + symtab[ELF64_R_SYM(e->r_info)].st_name);
                        if (hook) {
                                store(base + e->r_offset, hook, &r);
                                n++;
                        }
                }
        }
        return n;
}

struct walk {
        int index, first_new; /* objects before first_new were there before */
        uintptr_t module;     /* the dlopened object's base */
        uintptr_t self;
        int rebound;
};

static int count_objects(struct dl_phdr_info *info, size_t size, void *arg)
{
        (void)info;
        (void)size;
        (*(int *)arg)++;
        return 0;
}

static int visit_new(struct dl_phdr_info *info, size_t size, void *arg)
{
        struct walk *w = arg;

        (void)size;
        if ((w->index++ >= w->first_new || info->dlpi_addr == w->module) &&
            info->dlpi_addr != w->self && !is_librdkafka(info))
                w->rebound += rebind(info);
        return 0;
}

/* ---- dlopen with RTLD_DEEPBIND ------------------------------------------ */

/* Any thread, from the dlopen stub (dlhooks.c): what dlopen(@file, @mode)
 * returns, @caller being its caller's return address. */
__attribute__((visibility("hidden"), used)) void *
kotel_deepbind_open(const char *file, int mode, const void *caller)
{
        char path[PATH_MAX];
        const struct link_map *lm = caller_map(caller);
        const char *use          = file;
        struct walk w            = {0};
        struct link_map *mod     = NULL;
        Dl_info self;
        void *h;
        int saved = errno;

        if (file && strchr(file, '$') && expand_origin(file, lm, path, sizeof(path)))
                use = path;
        else if (file && !strchr(file, '/')) {
                void *already = kotel_dl_open(file, RTLD_LAZY | RTLD_NOLOAD);

                if (already)
                        dlclose(already); /* loaded: found by name, as is */
                else if (search_like_caller(file, lm, path, sizeof(path)))
                        use = path;
                dlerror();
        }
        dl_iterate_phdr(count_objects, &w.first_new);
        errno = saved; /* the search's failed access() calls are ours */
        h     = kotel_dl_open(use, mode);
        /* A set-uid/set-gid program is left alone (agent.c: init). */
        if (!h || getauxval(AT_SECURE))
                return h;
        saved = errno;
        if (kotel_symbols_resolve() && dlinfo(h, RTLD_DI_LINKMAP, &mod) == 0 &&
            dladdr((void *)kotel_deepbind_open, &self)) {
                w.module = mod ? mod->l_addr : 0;
                w.self   = (uintptr_t)self.dli_fbase;
                dl_iterate_phdr(visit_new, &w);
                if (w.rebound)
                        kotel_log(KOTEL_LOG_DEBUG,
                                  "%s (RTLD_DEEPBIND): %d librdkafka "
                                  "bindings pointed at kotel's hooks",
                                  file ? file : "(main program)", w.rebound);
        }
        dlerror();
        errno = saved;
        return h;
}

#endif

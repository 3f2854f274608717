/* dlsym and dlvsym, for FFI clients (see dlhooks.h for why and what), and
 * the dlopen entry point (RTLD_DEEPBIND loads go to deepbind.c).
 *
 * Entry (any thread, any time, even before the agent's first hook ran):
 * the assembly stubs below test the handle; RTLD_DEFAULT and RTLD_NEXT
 * jump straight to the real function, whose return address is then the
 * caller's own, exactly as without the agent. A real handle goes to
 * kotel_dl_sym_handle(), which calls the real function and, only when it
 * succeeded with a name the agent hooks, compares the result with
 * real_<name>. dlopen without RTLD_DEEPBIND jumps straight through too.
 *
 * The real functions are found once by looking their names up in the
 * dynamic symbol tables of the objects loaded after this library (GNU or
 * SysV hash), so the agent's own lookups never pass through dlsym: no
 * re-entry, no recursion into the once-only symbol resolution, and nothing
 * to break when a sanitizer runtime, loaded first, also wraps functions
 * (its own lookups reach our stub and jump through). */
#include "dlhooks.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>

#include "agent.h"
#include "symbols.h"

typedef void *(*dlsym_fn)(void *, const char *);
typedef void *(*dlvsym_fn)(void *, const char *, const char *);

/* Read by the stubs; set once (racing threads store the same values). */
__attribute__((visibility("hidden"))) void *kotel_dl_real_dlsym;
__attribute__((visibility("hidden"))) void *kotel_dl_real_dlvsym;
__attribute__((visibility("hidden"))) void *kotel_dl_real_dlopen;

/* ---- the real functions, from the symbol tables ------------------------
 *
 * This runs at the first dlsym of the process, which can be a sanitizer
 * runtime resolving its own interceptors before it has set itself up: so
 * nothing here is instrumented (NO_SAN), calls a function a runtime may
 * intercept (no dl_iterate_phdr, strcmp or memset), or allocates. The
 * loaded objects are read from the loader's debug list (_r_debug), in load
 * order, which is the global lookup order. */

#define NO_SAN __attribute__((no_sanitize("address", "thread", "undefined")))

extern ElfW(Dyn) _DYNAMIC[] __attribute__((visibility("hidden")));

NO_SAN static uint32_t gnu_hash(const char *s)
{
        uint32_t h = 5381;

        for (; *s; s++)
                h = h * 33 + (unsigned char)*s;
        return h;
}

NO_SAN static uint32_t sysv_hash(const char *s)
{
        uint32_t h = 0, g;

        for (; *s; s++) {
                h = (h << 4) + (unsigned char)*s;
                g = h & 0xf0000000u;
                if (g)
                        h ^= g >> 24;
                h &= ~g;
        }
        return h;
}

NO_SAN static bool same(const char *a, const char *b)
{
        while (*a && *a == *b)
                a++, b++;
        return *a == *b;
}

struct elf_dyn {
        uintptr_t base;
        const ElfW(Sym) * symtab;
        const char *strtab;
        const uint32_t *gnu, *sysv;
        const ElfW(Half) * versym;
};

/* A .dynamic pointer: glibc has relocated most of them in place, the
 * vDSO's are offsets. */
NO_SAN static uintptr_t dyn_ptr(uintptr_t base, ElfW(Addr) v)
{
        return v < base ? base + v : v;
}

NO_SAN static bool read_dyn(const struct link_map *l, struct elf_dyn *d)
{
        const ElfW(Dyn) *dyn = l->l_ld;

        d->base   = l->l_addr;
        d->symtab = NULL;
        d->strtab = NULL;
        d->gnu    = NULL;
        d->sysv   = NULL;
        d->versym = NULL;
        if (!dyn)
                return false;
        for (; dyn->d_tag != DT_NULL; dyn++) {
                uintptr_t p = dyn_ptr(d->base, dyn->d_un.d_ptr);

                switch (dyn->d_tag) {
                case DT_SYMTAB: d->symtab = (const ElfW(Sym) *)p; break;
                case DT_STRTAB: d->strtab = (const char *)p; break;
                case DT_GNU_HASH: d->gnu = (const uint32_t *)p; break;
                case DT_HASH: d->sysv = (const uint32_t *)p; break;
                case DT_VERSYM: d->versym = (const ElfW(Half) *)p; break;
                }
        }
        return d->symtab && d->strtab && (d->gnu || d->sysv);
}

/* A defined function named @name at its default version. */
NO_SAN static bool sym_ok(const struct elf_dyn *d, uint32_t i, const char *name)
{
        const ElfW(Sym) *s = &d->symtab[i];
        int type           = ELF64_ST_TYPE(s->st_info);

        return s->st_shndx != SHN_UNDEF && s->st_value &&
               (type == STT_FUNC || type == STT_GNU_IFUNC) &&
               (!d->versym || !(d->versym[i] & 0x8000)) &&
               same(d->strtab + s->st_name, name);
}

NO_SAN static void *find_sym(const struct elf_dyn *d, const char *name)
{
        uint32_t i = 0;

        if (d->gnu) {
                uint32_t nbuckets = d->gnu[0], symoff = d->gnu[1];
                uint32_t bloom_n = d->gnu[2], h = gnu_hash(name);
                const uint32_t *buckets =
                    d->gnu + 4 + bloom_n * (sizeof(ElfW(Addr)) / 4);
                const uint32_t *chain = buckets + nbuckets;

                if (!nbuckets || (i = buckets[h % nbuckets]) < symoff)
                        return NULL;
                for (;; i++) {
                        uint32_t ch = chain[i - symoff];

                        if ((ch | 1) == (h | 1) && sym_ok(d, i, name))
                                break;
                        if (ch & 1)
                                return NULL;
                }
        } else {
                uint32_t nbucket = d->sysv[0];
                const uint32_t *chain = d->sysv + 2 + nbucket;

                if (!nbucket)
                        return NULL;
                for (i = d->sysv[2 + sysv_hash(name) % nbucket]; i;
                     i = chain[i])
                        if (sym_ok(d, i, name))
                                break;
                if (!i)
                        return NULL;
        }
        return (void *)(d->base + d->symtab[i].st_value);
}

/* The first definition of @name in the objects loaded after this one (the
 * loader's "next"); if this library is not in the list (loaded in another
 * namespace), in any other object. */
NO_SAN void *kotel_dl_real(const char *name)
{
        const struct link_map *l;
        bool self_seen = false;
        struct elf_dyn d;
        void *p;

        for (l = _r_debug.r_map; l; l = l->l_next)
                if (l->l_ld == _DYNAMIC)
                        self_seen = true;
        for (l = _r_debug.r_map; l; l = l->l_next) {
                if (l->l_ld == _DYNAMIC) {
                        self_seen = false; /* from here on: after us */
                        continue;
                }
                if (self_seen || !read_dyn(l, &d))
                        continue;
                if ((p = find_sym(&d, name)) != NULL)
                        return p;
        }
        return NULL;
}

/* Called by the stubs (their registers saved) before the first jump. */
__attribute__((visibility("hidden"), used)) NO_SAN void kotel_dl_init(void)
{
        if (!__atomic_load_n(&kotel_dl_real_dlsym, __ATOMIC_ACQUIRE))
                __atomic_store_n(&kotel_dl_real_dlsym, kotel_dl_real("dlsym"),
                                 __ATOMIC_RELEASE);
        if (!__atomic_load_n(&kotel_dl_real_dlvsym, __ATOMIC_ACQUIRE))
                __atomic_store_n(&kotel_dl_real_dlvsym,
                                 kotel_dl_real("dlvsym"), __ATOMIC_RELEASE);
        if (!__atomic_load_n(&kotel_dl_real_dlopen, __ATOMIC_ACQUIRE))
                __atomic_store_n(&kotel_dl_real_dlopen,
                                 kotel_dl_real("dlopen"), __ATOMIC_RELEASE);
}

void *kotel_dl_open(const char *file, int mode)
{
        void *(*real)(const char *, int);

        if (!__atomic_load_n(&kotel_dl_real_dlopen, __ATOMIC_ACQUIRE))
                kotel_dl_init();
        real = (void *(*)(const char *, int))__atomic_load_n(
            &kotel_dl_real_dlopen, __ATOMIC_ACQUIRE);
        return real ? real(file, mode) : NULL;
}

void *kotel_dl_sym(void *handle, const char *name)
{
        dlsym_fn real;

        if (!__atomic_load_n(&kotel_dl_real_dlsym, __ATOMIC_ACQUIRE))
                kotel_dl_init();
        real = (dlsym_fn)__atomic_load_n(&kotel_dl_real_dlsym,
                                         __ATOMIC_ACQUIRE);
        return real ? real(handle, name) : NULL;
}

/* ---- redirection -------------------------------------------------------- */

struct hooked {
        const char *name;
        void **real; /* &real_<name> */
        void *hook;
};

#define KOTEL_HOOKED_ENTRY(n) {#n, (void **)&real_##n, (void *)&n},
static const struct hooked hooked[] = {KOTEL_HOOKED_SYMBOLS(KOTEL_HOOKED_ENTRY)};
#undef KOTEL_HOOKED_ENTRY

static bool is_ours(void *p)
{
        Dl_info self, other;

        return p && dladdr((void *)kotel_dl_real, &self) && dladdr(p, &other) &&
               self.dli_fbase == other.dli_fbase;
}

void *kotel_dl_hook_for(const char *name)
{
        if (strncmp(name, "rd_kafka_", 9))
                return NULL;
        for (size_t i = 0; i < sizeof(hooked) / sizeof(hooked[0]); i++)
                if (!strcmp(hooked[i].name, name))
                        return is_ours(hooked[i].hook) ? hooked[i].hook : NULL;
        return NULL;
}

void *kotel_dl_redirect(const char *name, void *p)
{
        const struct hooked *h = NULL;
        void *out              = p;
        int saved;

        if (!p || strncmp(name, "rd_kafka_", 9) || getauxval(AT_SECURE))
                return p;
        for (size_t i = 0; i < sizeof(hooked) / sizeof(hooked[0]); i++)
                if (!strcmp(hooked[i].name, name)) {
                        h = &hooked[i];
                        break;
                }
        if (!h)
                return p;
        saved = errno;
        /* The librdkafka the hooks call is the one this handle found: only
         * then is the hook a stand-in for @p. */
        kotel_symbols_resolve();
        if (__atomic_load_n(h->real, __ATOMIC_ACQUIRE) == p && is_ours(h->hook))
                out = h->hook;
        /* The lookup succeeded: no error of the agent's own lookups may be
         * left for the app's next dlerror(). */
        dlerror();
        errno = saved;
        return out;
}

__attribute__((visibility("hidden"), used)) void *
kotel_dl_sym_handle(void *handle, const char *name)
{
        return kotel_dl_redirect(name, kotel_dl_sym(handle, name));
}

__attribute__((visibility("hidden"), used)) void *
kotel_dl_vsym_handle(void *handle, const char *name, const char *version)
{
        dlvsym_fn real = (dlvsym_fn)__atomic_load_n(&kotel_dl_real_dlvsym,
                                                    __ATOMIC_ACQUIRE);

        return real ? kotel_dl_redirect(name, real(handle, name, version))
                    : NULL;
}

/* ---- the entry points --------------------------------------------------
 *
 * handle in %rdi: RTLD_NEXT is -1, RTLD_DEFAULT 0. Before the real
 * functions are known, the stub saves the argument registers (three
 * pushes: the stack is 16-byte aligned again at the call) and finds them.
 * If they cannot be found the lookup fails (NULL), as the agent has no
 * other way to answer it. */
#if defined(__x86_64__)
/* That first lookup, at label 2: of every stub, written once: after it
 * the argument registers hold what the caller passed, and @real is in %rax
 * or, still unknown, the stub goes on at its label 3: (returns NULL). */
#define KOTEL_DL_STUB_INIT(real)                                               \
        "2:\n"                                                                 \
        "pushq %rdi\n"                                                         \
        ".cfi_adjust_cfa_offset 8\n"                                           \
        "pushq %rsi\n"                                                         \
        ".cfi_adjust_cfa_offset 8\n"                                           \
        "pushq %rdx\n"                                                         \
        ".cfi_adjust_cfa_offset 8\n"                                           \
        "call kotel_dl_init\n"                                                 \
        "popq %rdx\n"                                                          \
        ".cfi_adjust_cfa_offset -8\n"                                          \
        "popq %rsi\n"                                                          \
        ".cfi_adjust_cfa_offset -8\n"                                          \
        "popq %rdi\n"                                                          \
        ".cfi_adjust_cfa_offset -8\n"                                          \
        "movq " #real "(%rip), %rax\n"                                         \
        "testq %rax, %rax\n"                                                   \
        "jz 3f\n"

#define KOTEL_DL_STUB(sym, real, handler)                                      \
        ".globl " #sym "\n"                                                    \
        ".type " #sym ",@function\n" #sym ":\n"                                \
        ".cfi_startproc\n"                                                     \
        "cmpq $-1, %rdi\n"                                                     \
        "je 1f\n"                                                              \
        "testq %rdi, %rdi\n"                                                   \
        "je 1f\n"                                                              \
        "movq " #real "(%rip), %rax\n"                                         \
        "testq %rax, %rax\n"                                                   \
        "jz 2f\n"                                                              \
        "jmp " #handler "\n"                                                   \
        "1:\n"                                                                 \
        "movq " #real "(%rip), %rax\n"                                         \
        "testq %rax, %rax\n"                                                   \
        "jz 2f\n"                                                              \
        "jmp *%rax\n"                                                          \
        KOTEL_DL_STUB_INIT(real)                                               \
        "cmpq $-1, %rdi\n"                                                     \
        "je 4f\n"                                                              \
        "testq %rdi, %rdi\n"                                                   \
        "je 4f\n"                                                              \
        "jmp " #handler "\n"                                                   \
        "4:\n"                                                                 \
        "jmp *%rax\n"                                                          \
        "3:\n"                                                                 \
        "xorl %eax, %eax\n"                                                    \
        "ret\n"                                                                \
        ".cfi_endproc\n"                                                       \
        ".size " #sym ", .-" #sym "\n"

/* dlopen: without RTLD_DEEPBIND (0x8, in %esi) straight to the real one;
 * with it, to deepbind.c, with the caller's return address as a third
 * argument (the loader searches for a bare name as the caller would). */
#define KOTEL_DL_OPEN_STUB                                                     \
        ".globl dlopen\n"                                                      \
        ".type dlopen,@function\n"                                             \
        "dlopen:\n"                                                            \
        ".cfi_startproc\n"                                                     \
        "testl $8, %esi\n"                                                     \
        "jnz 5f\n"                                                             \
        "movq kotel_dl_real_dlopen(%rip), %rax\n"                              \
        "testq %rax, %rax\n"                                                   \
        "jz 2f\n"                                                              \
        "jmp *%rax\n"                                                          \
        KOTEL_DL_STUB_INIT(kotel_dl_real_dlopen)                               \
        "jmp *%rax\n"                                                          \
        "3:\n"                                                                 \
        "xorl %eax, %eax\n"                                                    \
        "ret\n"                                                                \
        "5:\n"                                                                 \
        "movq (%rsp), %rdx\n"                                                  \
        "jmp kotel_deepbind_open\n"                                            \
        ".cfi_endproc\n"                                                       \
        ".size dlopen, .-dlopen\n"

__asm__(".text\n" KOTEL_DL_OPEN_STUB);

__asm__(".text\n" KOTEL_DL_STUB(dlsym, kotel_dl_real_dlsym, kotel_dl_sym_handle)
            KOTEL_DL_STUB(dlvsym, kotel_dl_real_dlvsym,
                          kotel_dl_vsym_handle));
#endif

/* The dynamic loader's lookups, seen by the agent.
 *
 * FFI clients (Python ctypes/cffi, Node koffi, Ruby FFI, .NET P/Invoke)
 * never bind rd_kafka_* through the dynamic linker: they dlopen librdkafka
 * and dlsym each function on its handle, which finds librdkafka's own
 * definition, not the preloaded hook. So the agent interposes dlsym and
 * dlvsym: a lookup on a real handle that yields one of librdkafka's hooked
 * functions (KOTEL_HOOKED_SYMBOLS, the very function the agent resolved as
 * real_<name>) gets the hook instead; every other lookup is returned as
 * is. Lookups on RTLD_DEFAULT and RTLD_NEXT are not touched at all: the
 * entry points jump (not call) to the real function, so that the loader
 * still sees the caller's return address, which decides what "next" and
 * which scope mean (sanitizer runtimes and other preloads rely on it).
 *
 * dlopen is interposed the same way, for modules loaded with
 * RTLD_DEEPBIND (deepbind.c); every other dlopen jumps straight through.
 *
 * The agent's own lookups of real functions must not meet its hooks: they
 * use kotel_dl_sym(), which calls the real dlsym found once by reading the
 * C library's dynamic symbol table (the first definition after this
 * library in the load order: libc.so.6 since glibc 2.34, libdl.so.2
 * before), never through dlsym itself. x86-64 only (the jump is written
 * in assembly); elsewhere dlsym is not interposed and FFI clients are not
 * traced. */
#ifndef KOTEL_DLHOOKS_H
#define KOTEL_DLHOOKS_H

#include <stdbool.h>

/* Any thread: the real dlsym and dlopen called from the agent (NULL when
 * they cannot be found), and kotel_dl_real(): the address of @name in the
 * first object loaded after the agent that defines it. */
void *kotel_dl_sym(void *handle, const char *name);
void *kotel_dl_open(const char *file, int mode);
void *kotel_dl_real(const char *name);
/* The agent's hook named @name, or NULL when it hooks no such function. */
void *kotel_dl_hook_for(const char *name);

/* Any thread: the hook for @name when @p is librdkafka's definition of a
 * hooked function, else @p. */
void *kotel_dl_redirect(const char *name, void *p);

#endif

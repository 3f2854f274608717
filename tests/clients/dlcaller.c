/* dlcaller: lookups whose answer depends on who calls dlsym, for
 * test_ffi.py: kotel's dlsym must keep the caller's own view.
 *
 *   dlcaller next      dlsym(RTLD_NEXT, "dlcaller_marker") from the program:
 *                      found when a library after the program defines it
 *                      (the test preloads dlcaller_mod.so before kotel)
 *   dlcaller default MODULE
 *                      dlopen MODULE RTLD_LOCAL, and let it look up, with
 *                      RTLD_DEFAULT, a function of its own dependency
 *                      (found only in its local scope)
 * Prints "found" or "missing". */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
        void *p = NULL;

        if (argc >= 2 && !strcmp(argv[1], "next")) {
                p = dlsym(RTLD_NEXT, "dlcaller_marker");
        } else if (argc >= 3 && !strcmp(argv[1], "default")) {
                void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
                void *(*lookup)(const char *);

                if (!h) {
                        printf("fail %s\n", dlerror());
                        return 1;
                }
                *(void **)&lookup = dlsym(h, "dlcaller_lookup");
                p                 = lookup ? lookup("dlcaller_dep_fn") : NULL;
        } else {
                return 2;
        }
        printf("%s\n", p ? "found" : "missing");
        return 0;
}

/* deepbind_host: a plugin host that loads a module with RTLD_DEEPBIND, as
 * PHP loads its extensions, and runs it. Not linked against librdkafka:
 * the module brings it in, bound to the module first.
 *
 *   deepbind_host MODULE now|lazy BROKERS TOPIC COUNT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
        int (*run)(const char *, const char *, int);
        void *h;

        if (argc != 6)
                return 2;
        setvbuf(stdout, NULL, _IOLBF, 0);
        h = dlopen(argv[1], RTLD_DEEPBIND | RTLD_LOCAL |
                                (strcmp(argv[2], "lazy") ? RTLD_NOW : RTLD_LAZY));
        if (!h) {
                printf("fail dlopen: %s\n", dlerror());
                return 1;
        }
        *(void **)&run = dlsym(h, "module_run");
        if (!run) {
                printf("fail dlsym: %s\n", dlerror());
                return 1;
        }
        return run(argv[3], argv[4], atoi(argv[5]));
}

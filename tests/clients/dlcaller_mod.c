/* dlcaller_mod.so (see dlcaller.c): defines the marker, and looks names up
 * with RTLD_DEFAULT from its own code; linked against dlcaller_dep.so. */
#include <dlfcn.h>

int dlcaller_dep_fn(void);

int dlcaller_marker(void)
{
        return dlcaller_dep_fn();
}

void *dlcaller_lookup(const char *name)
{
        return dlsym(RTLD_DEFAULT, name);
}

/* dlcaller_dep.so: dlcaller_mod.so's dependency (see dlcaller.c). */
int dlcaller_dep_fn(void)
{
        return 42;
}

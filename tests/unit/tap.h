/* Minimal TAP output for unit tests: every CHECK is one numbered test
 * line, so tests/run.py counts checks, and a failing check names its
 * expression and line. */
#ifndef KOTEL_TAP_H
#define KOTEL_TAP_H

#include <stdio.h>
#include <unistd.h>

static int tap_n, tap_failed;

#define CHECK(cond, name)                                                      \
        do {                                                                   \
                tap_n++;                                                       \
                if (cond) {                                                    \
                        printf("ok %d - %s\n", tap_n, name);                   \
                } else {                                                       \
                        tap_failed++;                                          \
                        printf("not ok %d - %s (%s:%d: %s)\n", tap_n, name,    \
                               __FILE__, __LINE__, #cond);                     \
                }                                                              \
        } while (0)

#define TAP_DONE()                                                             \
        do {                                                                   \
                printf("1..%d\n", tap_n);                                      \
                return tap_failed ? 1 : 0;                                     \
        } while (0)

/* Resident bytes of this process (/proc/self/statm), or -1. */
static inline long tap_resident_bytes(void)
{
        long size, resident = -1;
        FILE *f = fopen("/proc/self/statm", "r");

        if (!f)
                return -1;
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
                resident = -1;
        fclose(f);
        return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

#endif

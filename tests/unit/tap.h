/* Minimal TAP output for unit tests: every CHECK is one numbered test
 * line, so tests/run.py counts checks, and a failing check names its
 * expression and line. */
#ifndef KOTEL_TAP_H
#define KOTEL_TAP_H

#include <stdio.h>

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

#endif

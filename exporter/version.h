#ifndef KOTEL_VERSION_H
#define KOTEL_VERSION_H
#define KOTEL_VERSION "0.1.0"
#endif

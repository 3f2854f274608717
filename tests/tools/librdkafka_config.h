/*
 * The config.h that librdkafka's tests include (src/rd.h: "../config.h";
 * normally written by librdkafka's ./configure), for building its tests
 * against Debian's librdkafka 2.0.2 on Linux without configuring the
 * library: tests/librdkafka.mk copies it to config.h in the unpacked
 * source tree.
 *
 * The WITH_* features are those of Debian's build, as the installed
 * library reports them (builtin.features: gzip, snappy, ssl, sasl, regex,
 * lz4, sasl_gssapi, sasl_plain, sasl_scram, plugins, zstd,
 * sasl_oauthbearer); the test files compile their feature-specific checks
 * by them. The HAVE_* lines describe glibc, and WITH_C11THREADS that
 * Debian's library uses glibc's C11 threads (it imports thrd_create), as
 * the tests' own helpers then do. WITH_SOCKEM: the socket emulator, as
 * librdkafka's configure enables it on Linux (only tests not flagged local
 * use it). WITH_RAPIDJSON is left out: only 0053_stats, not a local test,
 * validates its JSON with rapidjson (a header-only library not installed).
 */
#ifndef _CONFIG_H_
#define _CONFIG_H_

#define WITH_ZLIB 1
#define WITH_SNAPPY 1
#define WITH_ZSTD 1
#define WITH_LZ4_EXT 1
#define WITH_SSL 1
#define WITH_SASL 1
#define WITH_SASL_CYRUS 1
#define WITH_SASL_SCRAM 1
#define WITH_SASL_OAUTHBEARER 1
#define WITH_PLUGINS 1
#define WITH_LIBDL 1
#define WITH_C11THREADS 1
#define WITH_SOCKEM 1

#define HAVE_ATOMICS_32 1
#define HAVE_ATOMICS_32_ATOMIC 1
#define ATOMIC_OP32(OP1, OP2, PTR, VAL)                                        \
        __atomic_##OP1##_##OP2(PTR, VAL, __ATOMIC_SEQ_CST)
#define HAVE_ATOMICS_64 1
#define HAVE_ATOMICS_64_ATOMIC 1
#define ATOMIC_OP64(OP1, OP2, PTR, VAL)                                        \
        __atomic_##OP1##_##OP2(PTR, VAL, __ATOMIC_SEQ_CST)
#define ATOMIC_OP(OP1, OP2, PTR, VAL)                                          \
        __atomic_##OP1##_##OP2(PTR, VAL, __ATOMIC_SEQ_CST)

#define HAVE_STRNDUP 1
#define HAVE_STRERROR_R 1
#define HAVE_STRCASESTR 1
#define HAVE_GETRUSAGE 1
#define HAVE_PTHREAD_SETNAME_GNU 1
#define HAVE_REGEX 1

#endif /* _CONFIG_H_ */

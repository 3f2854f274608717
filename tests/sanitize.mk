# Sanitizer and valgrind runs of the suite (see docs/testing.md).
#
#   make test-asan      ASan+UBSan build of the agent in build-asan/: unit
#                       tests and the whole integration suite
#   make test-tsan      TSan build in build-tsan/: unit tests and the
#                       integration suite (the subset below)
#   make test-valgrind  memcheck over real clients with the plain build
#
# Each sanitizer target builds the agent's objects, libkotel.so and the unit
# tests with SAN=... into its own BUILD directory (the test clients are
# built there too, uninstrumented), then runs tests/run.py with:
#   KOTEL_BUILD      that directory
#   KOTEL_PRELOAD    the sanitizer runtime first, then that libkotel.so
#   KOTEL_SAN_LOGS   where every process writes its reports (log_path); the
#                    runner fails the running test for any report file, so
#                    a report from a child whose stderr or exit code no test
#                    looks at still fails the suite
#   KOTEL_TIMEOUT_SCALE  every test timeout and wait is multiplied by it
#
# Between the runtime and the agent, KOTEL_PRELOAD has thrd_shim.so
# (tests/tools/thrd_shim.c): librdkafka's threads start with thrd_create(),
# which the runtimes do not intercept; the shim makes them visible (without
# it every librdkafka client segfaults under TSan, and ASan reports false
# errors on stacks reused after fork()).
#
# P11_KIT_DEBUG is set (empty) in every run: libcurl pulls in gnutls and
# p11-kit, and with a preloaded ASan or TSan runtime and P11_KIT_DEBUG unset,
# p11-kit's constructor leaves glibc's __libc_setlocale_lock held, so the
# program's first setlocale()/mbstowcs() deadlocks (python3, timeout, ls;
# reproduce with LD_PRELOAD=$(LIBASAN):/lib/x86_64-linux-gnu/libp11-kit.so.0
# python3 -c pass). With the variable set p11-kit takes another path and
# prints nothing.

ASAN_BUILD := build-asan
TSAN_BUILD := build-tsan
ASAN_SAN   := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
TSAN_SAN   := -fsanitize=thread -fno-omit-frame-pointer
LIBASAN     = $(shell $(CC) -print-file-name=libasan.so)
LIBTSAN     = $(shell $(CC) -print-file-name=libtsan.so)
SAN_SUPP   := $(CURDIR)/tests/sanitizers

# Any report fails: ASan halts at the first error with exit code 1 (its
# default); UBSan is built not to recover; LSan reports at exit (in the
# test's own C clients and the unit tests only; see leak_checked() in
# tests/lib/kotel_test.py for why not in python and kcat). log_path is
# added per job by tests/run.py.
# Skipped under ASan and TSan (KOTEL_SKIP): test_bench_quick* runs the
# benchmark driver (make bench-quick), whose programs are not built in the
# sanitizer builds and whose callgrind step cannot run a sanitized program.
ASAN_ENV = KOTEL_SKIP=test_bench_quick \
           ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:halt_on_error=1:exitcode=23:abort_on_error=0:verify_asan_link_order=0 \
           LSAN_OPTIONS=suppressions=$(SAN_SUPP)/lsan.supp:print_suppressions=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=23 \
           KOTEL_PRELOAD=$(LIBASAN):$(CURDIR)/$(ASAN_BUILD)/tests/thrd_shim.so:$(CURDIR)/$(ASAN_BUILD)/libkotel.so \
           KOTEL_UNIT_PRELOAD=$(CURDIR)/$(ASAN_BUILD)/tests/thrd_shim.so \
           KOTEL_BUILD=$(CURDIR)/$(ASAN_BUILD) KOTEL_SAN_LOGS=$(CURDIR)/$(ASAN_BUILD)/sanlogs \
           KOTEL_TIMEOUT_SCALE=3 P11_KIT_DEBUG=

# TSan reports every race (halt_on_error=0) and then exits 66. Thread
# leaks are not reported: librdkafka leaves its threads unjoined when the
# app destroys a client that cannot reach its broker, and kotel's exporter
# thread is, by design, not joined past its exit deadline. die_after_fork=0:
# the fork tests' children start librdkafka clients (threads) after forking
# a threaded parent, which TSan refuses by default.
#
# Skipped under TSan (KOTEL_SKIP), for reasons outside kotel:
#   test_sdk_disabled_is_pass_through  compares thread counts with a run
#       without LD_PRELOAD; the TSan runtime adds a background thread.
#   test_sigterm_handler_calling_exit_never_hangs  calls exit() from a
#       signal handler on purpose (programs do; it is what the test pins),
#       and TSan reports every free() the exit handlers of the process's
#       libraries then make as a signal-unsafe call. It runs in make test
#       and make test-asan.
# Every hook still runs: all produce APIs (test_produce_apis), all consume
# APIs and the event API (test_consume_apis), the forwarding patterns incl.
# the worker thread (test_forwarding), and the exporter with its failure
# and retry paths (test_exporter_*).
TSAN_ENV = KOTEL_SKIP=test_sdk_disabled_is_pass_through,test_bench_quick,test_sigterm_handler_calling_exit_never_hangs \
           TSAN_OPTIONS=halt_on_error=0:exitcode=66:report_thread_leaks=0:die_after_fork=0:second_deadlock_stack=1:suppressions=$(SAN_SUPP)/tsan.supp \
           KOTEL_PRELOAD=$(LIBTSAN):$(CURDIR)/$(TSAN_BUILD)/tests/thrd_shim.so:$(CURDIR)/$(TSAN_BUILD)/libkotel.so \
           KOTEL_UNIT_PRELOAD=$(CURDIR)/$(TSAN_BUILD)/tests/thrd_shim.so \
           KOTEL_BUILD=$(CURDIR)/$(TSAN_BUILD) KOTEL_SAN_LOGS=$(CURDIR)/$(TSAN_BUILD)/sanlogs \
           KOTEL_TIMEOUT_SCALE=4 P11_KIT_DEBUG=

.PHONY: test-asan-run test-tsan-run test-valgrind-run

$(TEST_BIN)/thrd_shim.so: tests/tools/thrd_shim.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $< -lpthread

test-asan: deps
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) SAN="$(ASAN_SAN)" test-asan-run

test-asan-run: $(LIB) tools $(TEST_BIN)/thrd_shim.so
	rm -rf $(ASAN_BUILD)/sanlogs
	$(ASAN_ENV) $(PYTHON) tests/run.py -j $(JOBS)

# TSan: the whole suite, except (-k cannot exclude, so by module) none so
# far; see docs/testing.md for what runs.
test-tsan: deps
	@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) SAN="$(TSAN_SAN)" test-tsan-run

test-tsan-run: $(LIB) tools $(TEST_BIN)/thrd_shim.so
	rm -rf $(TSAN_BUILD)/sanlogs
	$(TSAN_ENV) $(PYTHON) tests/run.py -j $(JOBS)

# valgrind: the plain build, real clients (tests/valgrind/test_*.py).
test-valgrind: deps
	@$(MAKE) --no-print-directory test-valgrind-run

test-valgrind-run: $(LIB) tools
	KOTEL_TIMEOUT_SCALE=6 $(PYTHON) tests/run.py -j $(JOBS) --integration-only --suite valgrind

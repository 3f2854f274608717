# librdkafka's own test suite as a guard (docs/testing.md, "librdkafka's
# own test suite"):
#
#   make test-librdkafka   fetch Debian's source package of the installed
#                          librdkafka into build/librdkafka-suite/ (once;
#                          scripts/librdkafka-source.sh), build its
#                          test-runner linked against the system
#                          librdkafka.so.1 and librdkafka++.so.1, then run
#                          every local test without and with
#                          LD_PRELOAD=$(KOTEL_LIB) and compare
#                          (tests/tools/librdkafka_suite.py)
#
#   KOTEL_LIB=path  the libkotel.so under test (default: build/libkotel.so,
#                   built first)
#   LRK_JOBS=N      test processes at a time (default 4: most tests wait
#                   on timers and the mock cluster, not on the CPU)
#   LRK_ARGS=...    more runner options, e.g. LRK_ARGS="-k 0072,0105"
#
# Nothing of librdkafka is built but its tests: the test programs call
# only the exported API (rd_kafka_*, incl. rd_kafka_unittest and the mock
# cluster's), so kotel interposes on every call they make. The tests'
# helpers compile a few of librdkafka's internal sources into the runner
# itself (tinycthread, rdlist: thread and list utilities, no rd_kafka_*
# symbols). config.h is tests/tools/librdkafka_config.h, not ./configure's.

LRK_DIR   := $(BUILD)/librdkafka-suite
KOTEL_LIB ?= $(LIB)
LRK_JOBS  ?= 4
LRK_ARGS  ?=

.PHONY: test-librdkafka test-librdkafka-run

# deps: the build's packages and dpkg-dev (apt-get source runs
# dpkg-source). The source tree's path, which names its version, is known
# only once it is unpacked, so the build is a second make (with $(JOBS)
# compilers unless make was given -j).
test-librdkafka: deps
	@src=$$(scripts/librdkafka-source.sh $(LRK_DIR)) && \
	  $(MAKE) --no-print-directory $(if $(findstring j,$(MAKEFLAGS)),,-j$(JOBS)) \
	    LRK_SRC=$$src test-librdkafka-run

ifdef LRK_SRC
LRK_T      := $(LRK_SRC)/tests
LRK_OBJ    := $(LRK_DIR)/obj
LRK_RUNNER := $(LRK_T)/test-runner
# Where test 0066 loads it from (plugin.library.paths, relative to the
# tests directory, the runner's working directory).
LRK_PLUGIN := $(LRK_T)/interceptor_test/interceptor_test.so

LRK_TEST_C   := $(notdir $(wildcard $(LRK_T)/[08]*-*.c)) \
                test.c rusage.c sockem.c sockem_ctrl.c
LRK_TEST_CXX := $(notdir $(wildcard $(LRK_T)/[08]*-*.cpp)) testcpp.cpp
LRK_HELPERS  := tinycthread.c tinycthread_extra.c rdlist.c
LRK_OBJS := $(patsubst %.c,$(LRK_OBJ)/tests/%.o,$(LRK_TEST_C)) \
            $(patsubst %.cpp,$(LRK_OBJ)/tests/%.o,$(LRK_TEST_CXX)) \
            $(patsubst %.c,$(LRK_OBJ)/src/%.o,$(LRK_HELPERS))

# The installed headers first: the tests see the API of the library they
# run against. -w: not our code to lint.
LRK_INC    := -I$(shell pkg-config --variable=includedir rdkafka)/librdkafka \
              -I$(LRK_SRC)/src -I$(LRK_T)
LRK_CFLAGS := -O1 -g -w -D_GNU_SOURCE -fPIC $(LRK_INC)
LRK_LIBS   := $(shell pkg-config --libs rdkafka++ rdkafka) -lpthread -ldl -lm

test-librdkafka-run: $(LRK_RUNNER) $(LRK_PLUGIN) \
                     $(if $(filter $(LIB),$(KOTEL_LIB)),$(LIB))
	$(PYTHON) tests/tools/librdkafka_suite.py --tests-dir $(LRK_T) \
	    --lib $(KOTEL_LIB) --logs $(LRK_DIR)/logs -j $(LRK_JOBS) $(LRK_ARGS)

$(LRK_SRC)/config.h: tests/tools/librdkafka_config.h
	cp $< $@

$(LRK_OBJ)/tests/%.o: $(LRK_T)/%.c $(LRK_SRC)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(LRK_CFLAGS) -c -o $@ $<

$(LRK_OBJ)/tests/%.o: $(LRK_T)/%.cpp $(LRK_SRC)/config.h
	@mkdir -p $(dir $@)
	$(CXX) $(LRK_CFLAGS) -c -o $@ $<

$(LRK_OBJ)/src/%.o: $(LRK_SRC)/src/%.c $(LRK_SRC)/config.h
	@mkdir -p $(dir $@)
	$(CC) $(LRK_CFLAGS) -c -o $@ $<

# Dynamically linked: librdkafka.so.1 is the system's, so a preloaded
# libkotel.so interposes on every rd_kafka_* call. -rdynamic as upstream.
$(LRK_RUNNER): $(LRK_OBJS)
	$(CXX) -rdynamic -o $@ $(LRK_OBJS) $(LRK_LIBS)

$(LRK_PLUGIN): $(LRK_T)/interceptor_test/interceptor_test.c $(LRK_SRC)/config.h
	$(CC) $(LRK_CFLAGS) -shared -o $@ $< $(shell pkg-config --libs rdkafka)
endif

# Benchmarks (docs/performance.md). Not part of `make test`.
#   make bench                        everything, ~13 minutes on 2 cores
#   make bench-exit                   only exit/destroy with unacked messages
#   make bench BENCH_RUNS=7 BENCH_SECONDS=3 BENCH_LONG_SECONDS=300
#   make bench-quick                  (or BENCH_QUICK=1) one short round of
#                                     everything but bench-exit: a smoke
#                                     check, ~1 minute
# The table goes to stdout and to $(BENCH_OUT).

BENCH_BIN          := $(BUILD)/bench
BENCH_RUNS         ?= 5
BENCH_SECONDS      ?= 2
BENCH_LONG_SECONDS ?= 60
BENCH_DROP_SECONDS ?= 8
BENCH_OUT          ?= $(BUILD)/bench/results.md
BENCH_QUICK        ?=
BENCH_CFLAGS       := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
                      -D_GNU_SOURCE -I. -I$(BUILD)/gen -Iexporter $(PKG_CFLAGS)

BENCH_PROGS := $(BENCH_BIN)/kbench $(BENCH_BIN)/otlpsink $(BENCH_BIN)/hotpath \
               $(BENCH_BIN)/callsite \
               $(BENCH_BIN)/expbench $(BENCH_BIN)/metricsbench $(BENCH_BIN)/conbench

# The test suite runs the driver's quick mode (tests/integration/test_bench.py);
# not in the sanitizer builds, which skip that test.
ifeq ($(SAN),)
tools: $(BENCH_PROGS)
endif

.PHONY: bench bench-quick bench-tools bench-run bench-exit bench-callsite

bench-tools: $(LIB) $(TEST_BIN)/mockbroker $(TEST_BIN)/exitclient $(PYGEN) $(BENCH_PROGS)

$(BENCH_BIN)/kbench: tests/bench/kbench.c tests/bench/benchcpu.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

$(BENCH_BIN)/otlpsink: tests/bench/otlpsink.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -lpthread

bench: deps
	@$(MAKE) --no-print-directory bench-run

bench-quick: deps
	@$(MAKE) --no-print-directory BENCH_QUICK=1 bench-run

bench-run: bench-tools
	KOTEL_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/bench.py --runs $(BENCH_RUNS) --seconds $(BENCH_SECONDS) \
	    --long-seconds $(BENCH_LONG_SECONDS) \
	    --drop-seconds $(BENCH_DROP_SECONDS) --out $(BENCH_OUT) $(if $(BENCH_QUICK),--quick)
	$(if $(BENCH_QUICK),,KOTEL_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/bench_exit.py \
	    --runs $(BENCH_RUNS) --out $(BENCH_OUT))
	$(if $(BENCH_QUICK),,KOTEL_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/bench_callsite.py \
	    --runs $(BENCH_RUNS) --out $(BENCH_OUT))

# What the call site (code.* attributes) costs a sampled span (~1 minute).
bench-callsite: $(LIB) $(BENCH_BIN)/callsite
	KOTEL_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/bench_callsite.py --runs $(BENCH_RUNS) \
	    --out $(BENCH_BIN)/callsite.md

# Exit and rd_kafka_destroy with 2 M unacknowledged messages, alone (~2 min).
bench-exit: $(LIB) $(TEST_BIN)/exitclient
	KOTEL_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/bench_exit.py --runs $(BENCH_RUNS) \
	    --out $(BENCH_BIN)/exit.md

# The micro-benchmarks link the agent's objects, like the unit tests.

$(BENCH_BIN)/hotpath: tests/bench/hotpath.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LIB_OBJ) $(RDKAFKA_LIBS) $(PKG_LIBS) -lpthread -ldl -lm

$(BENCH_BIN)/callsite: tests/bench/callsite.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -o $@ $< $(RDKAFKACPP_LIBS) $(RDKAFKA_LIBS)

$(BENCH_BIN)/metricsbench: tests/bench/metricsbench.c tests/bench/benchcpu.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LIB_OBJ) $(PKG_LIBS) -lpthread -ldl -lm

$(BENCH_BIN)/conbench: tests/bench/conbench.c tests/bench/benchcpu.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LIB_OBJ) $(RDKAFKA_LIBS) $(PKG_LIBS) -lpthread -ldl -lm

$(BENCH_BIN)/expbench: tests/bench/expbench.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LIB_OBJ) $(PKG_LIBS) -lpthread -ldl -lm

# Test programs, generated Python protobuf classes, and test targets.

TEST_BIN   := $(BUILD)/tests
PYGEN      := $(BUILD)/py/.stamp
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(TEST_BIN)/unit/%,$(UNIT_SRC))
# Unit tests link the agent's objects directly (no LD_PRELOAD involved; the
# hooks' rd_kafka_* definitions clash with nothing, as librdkafka is not
# linked in).
UNIT_OBJ   := $(LIB_OBJ)
TEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
               -D_GNU_SOURCE -I. -I$(BUILD)/gen -Iexporter $(PKG_CFLAGS)
RDKAFKA_LIBS := $(shell pkg-config --libs rdkafka 2>/dev/null)
PYTHON     := /usr/bin/python3
JOBS       ?= 2

tools: $(TEST_BIN)/mockbroker $(TEST_BIN)/kclient $(TEST_BIN)/kclient_linked \
       $(TEST_BIN)/logclient \
       $(PYGEN) $(UNIT_BIN)

$(TEST_BIN)/mockbroker: tests/tools/mockbroker.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

$(TEST_BIN)/kclient: tests/clients/kclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -Wno-vla -o $@ $< $(RDKAFKA_LIBS) -lpthread

$(TEST_BIN)/logclient: tests/clients/logclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS) -lpthread

# kclient linked against libkotel.so (needed before librdkafka, absolute
# RUNPATH), loaded as /etc/ld.so.preload would load it: the set-uid test
# runs it where the dynamic loader ignores LD_PRELOAD.
$(TEST_BIN)/kclient_linked: tests/clients/kclient.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -Wno-vla -o $@ $< -Wl,--no-as-needed -L$(BUILD) \
	    -lkotel -Wl,-rpath,$(abspath $(BUILD)) $(RDKAFKA_LIBS) -lpthread

$(TEST_BIN)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(UNIT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SAN) -o $@ $< $(UNIT_OBJ) $(PKG_LIBS) -lpthread -ldl -lm

# The OTLP/gRPC test server's npm packages (tests/lib/otlp_grpc_server.js),
# at the versions tests/package-lock.json pins; no install scripts run.
NPM_STAMP  := tests/node_modules/.kotel-stamp

tools: $(NPM_STAMP)

$(NPM_STAMP): tests/package.json tests/package-lock.json
	cd tests && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

$(PYGEN): $(PROTOS)
	@mkdir -p $(BUILD)/py
	protoc --python_out=$(BUILD)/py -I$(PROTO_DIR) $(PROTOS)
	@touch $@

test: deps
	@$(MAKE) --no-print-directory test-run

test-run: $(LIB) tools
	$(PYTHON) tests/run.py -j $(JOBS)

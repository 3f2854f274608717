# kotel: build/libkotel.so, the tests, benchmarks and the demo.
#   make            the library
#   make test       build and run the whole suite (unit + integration)
#   make test-asan  the suite with ASan+UBSan builds of the agent
#   make test-tsan  the suite with a TSan build of the agent
#   make demo       the end-to-end demo (installs its own dependencies)
#   make bench      benchmarks (see docs/performance.md)
#   make fuzz       libFuzzer targets, longer runs (make fuzz-smoke: short,
#                   for CI; see docs/fuzzing.md)

CC        ?= cc
BUILD     ?= build
SAN       ?=
PKGS      := libprotobuf-c libcurl zlib libdeflate libcrypto json-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) rdkafka 2>/dev/null)
PKG_LIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
OPT       ?= -O2 -g
CFLAGS_COMMON := -std=gnu11 -fPIC -D_GNU_SOURCE $(OPT) $(PKG_CFLAGS) \
                 -I. -I$(BUILD)/gen -Iexporter
# initial-exec TLS: the library is preloaded (loaded at start-up, so its
# thread-locals sit in the static TLS block); each access is then one
# fs-relative load instead of a __tls_get_addr call.
AGENT_CFLAGS := $(CFLAGS_COMMON) $(WARN) -fvisibility=hidden \
                -ftls-model=initial-exec $(SAN)

PROTO_DIR := exporter/proto
PROTOS    := $(shell find $(PROTO_DIR) -name '*.proto' | sort)
PROTO_C   := $(patsubst $(PROTO_DIR)/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
PROTO_H   := $(PROTO_C:.c=.h)

AGENT_SRC    := $(wildcard agent/*.c)
EXPORTER_SRC := $(wildcard exporter/*.c)
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(AGENT_SRC) $(EXPORTER_SRC)) \
           $(patsubst %.c,%.o,$(PROTO_C))

LIB := $(BUILD)/libkotel.so

.SECONDARY:

.PHONY: all clean test test-asan test-tsan test-valgrind bench demo fuzz tools deps deps-build

all: $(LIB)

# Installs missing Debian packages (sudo when not root); the user-facing
# targets run it first, then re-enter make so pkg-config sees the packages.
deps:
	@scripts/install-deps.sh all

deps-build:
	@scripts/install-deps.sh build

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: $(PROTO_DIR)/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -I$(PROTO_DIR) $<

# Generated code is not ours to lint: no -Werror there.
$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c $(PROTO_H)
	$(CC) $(CFLAGS_COMMON) -fvisibility=hidden $(SAN) -w -c $< -o $@

$(BUILD)/obj/%.o: %.c $(PROTO_H) $(wildcard agent/*.h exporter/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	$(CC) -shared -o $@ $(LIB_OBJ) $(SAN) $(PKG_LIBS) -lpthread -ldl \
	    -Wl,--no-undefined -Wl,-z,defs -Wl,--as-needed

clean:
	rm -rf $(BUILD)

include tests/tests.mk
# Each area (sanitizers, fuzzing, benchmarks, demo) keeps its targets in its
# own .mk file.
include $(filter-out tests/tests.mk,$(wildcard tests/*.mk scripts/*.mk))

# libFuzzer targets (tests/fuzz/*.c), built with clang and ASan+UBSan into
# $(BUILD)/fuzz/, from their own clang-built copy of the agent's objects so
# that the gcc build is untouched. See docs/fuzzing.md.
#   make fuzz              every target FUZZ_SECONDS (120) each
#   make fuzz-smoke        seed regression, then FUZZ_SMOKE_SECONDS (20) each
#   make fuzz-regress      every target once over its seed corpus
#   make fuzz-build        the binaries only
# FUZZ_TARGETS=traceparent,baggage limits any of them to some targets.

FUZZ_CC            ?= clang
FUZZ_DIR           := $(BUILD)/fuzz
FUZZ_SECONDS       ?= 120
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O1 -g $(PKG_CFLAGS) -I. \
               -I$(BUILD)/gen -Iexporter -fvisibility=hidden $(FUZZ_SAN)
FUZZ_SRC    := $(wildcard tests/fuzz/*.c)
FUZZ_BIN    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_OBJ    := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(AGENT_SRC) $(EXPORTER_SRC)) \
               $(patsubst $(BUILD)/gen/%.c,$(FUZZ_DIR)/obj/gen/%.o,$(PROTO_C))
# An archive: each target links only the objects it reaches.
FUZZ_ARCHIVE := $(FUZZ_DIR)/libkotel-fuzz.a

.PHONY: fuzz fuzz-smoke fuzz-regress fuzz-build

$(FUZZ_DIR)/obj/gen/%.o: $(BUILD)/gen/%.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -w -c $< -o $@

$(FUZZ_DIR)/obj/%.o: %.c $(PROTO_H) $(wildcard agent/*.h exporter/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_ARCHIVE): $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJ)

$(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz.h tests/unit/otlp_gen.h $(FUZZ_ARCHIVE)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_ARCHIVE) $(PKG_LIBS) -lpthread -ldl -lm

fuzz-build: $(FUZZ_BIN)

fuzz-regress: fuzz-build
	@scripts/fuzz.sh regress 0 $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@scripts/fuzz.sh smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz: fuzz-build
	@scripts/fuzz.sh fuzz $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZ_TARGETS)

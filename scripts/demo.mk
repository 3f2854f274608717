# The end-to-end demo (scripts/demo.py): `make demo` installs what is
# missing, builds the agent and the programs the demo runs, then runs it.

DEMO_BIN  := $(BUILD)/demo
# e.g. make demo DEMO_ARGS="--timeout 60 --spans-out spans.jsonl"
DEMO_ARGS ?=

demo: deps-build
	@$(MAKE) --no-print-directory demo-run

demo-run: $(LIB) $(TEST_BIN)/mockbroker $(DEMO_BIN)/billing $(PYGEN)
	@KOTEL_BUILD=$(abspath $(BUILD)) $(PYTHON) scripts/demo.py $(DEMO_ARGS)

# billing, the demo's C consumer: an ordinary librdkafka program.
$(DEMO_BIN)/billing: scripts/billing.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

# tests/integration/test_demo.py runs scripts/demo.py after `make tools`.
tools: $(DEMO_BIN)/billing

.PHONY: demo-run

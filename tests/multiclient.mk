# tests/clients/multiclient.c: one process, several clients (the
# per-client service name tests, tests/integration/test_service_name.py).

$(TEST_BIN)/multiclient: tests/clients/multiclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

tools: $(TEST_BIN)/multiclient

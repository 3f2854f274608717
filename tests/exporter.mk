# The exporter's own test programs.

$(TEST_BIN)/forker: tests/clients/forker.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

tools: $(TEST_BIN)/forker

$(TEST_BIN)/exitclient: tests/clients/exitclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

tools: $(TEST_BIN)/exitclient

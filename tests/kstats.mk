# The statistics tests' client program (tests/clients/statsclient.c).

$(TEST_BIN)/statsclient: tests/clients/statsclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

tools: $(TEST_BIN)/statsclient

# The semantics tests' own client programs (tests/clients/semclient.c,
# tests/clients/newfail.c).

$(TEST_BIN)/semclient: tests/clients/semclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

$(TEST_BIN)/newfail: tests/clients/newfail.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

tools: $(TEST_BIN)/semclient $(TEST_BIN)/newfail

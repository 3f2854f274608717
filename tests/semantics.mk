# The semantics tests' own client program (tests/clients/semclient.c).

$(TEST_BIN)/semclient: tests/clients/semclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

tools: $(TEST_BIN)/semclient

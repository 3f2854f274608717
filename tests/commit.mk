# The commit spans' test client (tests/clients/commitclient.c): it runs its
# own mock cluster in-process, to inject OffsetCommit errors.

$(TEST_BIN)/commitclient: tests/clients/commitclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

tools: $(TEST_BIN)/commitclient

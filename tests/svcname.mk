# Programs of the per-client resource and metrics-encoding tests:
# tests/clients/multiclient.c (one process, several clients;
# tests/integration/test_service_name.py) and metrics_enc_dump below.

$(TEST_BIN)/multiclient: tests/clients/multiclient.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_LIBS)

tools: $(TEST_BIN)/multiclient

# Both metrics encoders on the same random requests (test_metrics_json.py).
$(TEST_BIN)/metrics_enc_dump: tests/tools/metrics_enc_dump.c $(UNIT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SAN) -o $@ $< $(UNIT_OBJ) $(PKG_LIBS) -lpthread -ldl -lm

tools: $(TEST_BIN)/metrics_enc_dump

# Test programs for kotel-run (tests/integration/test_kotel_run.py).
#
# static_rdkafka links Debian's librdkafka.a in, and librdkafka's own
# dependencies as the shared objects librdkafka.so.1 uses (by path: their
# -dev packages, with the unversioned .so names, need not be installed);
# the stripped copy has no symbol table left, only librdkafka's strings.
RDKAFKA_A        = $(shell $(CC) -print-file-name=librdkafka.a)
RDKAFKA_SO_DEPS  = $(shell ldd $(shell $(CC) -print-file-name=librdkafka.so.1) 2>/dev/null | \
                     awk '/=>/ && $$3 !~ /lib(c|m|pthread|dl|rt)\.so|ld-linux/ { print $$3 }')

tools: $(TEST_BIN)/static_rdkafka $(TEST_BIN)/static_rdkafka_stripped

$(TEST_BIN)/static_rdkafka: tests/clients/static_rdkafka.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(RDKAFKA_A) $(RDKAFKA_SO_DEPS) -lm -ldl -lpthread -lrt

$(TEST_BIN)/static_rdkafka_stripped: $(TEST_BIN)/static_rdkafka
	strip -o $@ $<

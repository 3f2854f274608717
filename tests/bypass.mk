# Programs that reach librdkafka past LD_PRELOAD's usual path, for
# tests/integration/test_deepbind.py: a plugin host (not linked against
# librdkafka) and the module it loads with RTLD_DEEPBIND.
tools: $(TEST_BIN)/deepbind_host $(TEST_BIN)/deepbind_module.so

# RUNPATH $ORIGIN: a bare module name is found next to the host (kotel must
# search the host's path, not its own).
$(TEST_BIN)/deepbind_host: tests/clients/deepbind_host.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -ldl -Wl,--enable-new-dtags,-rpath,'$$ORIGIN'

$(TEST_BIN)/deepbind_module.so: tests/clients/deepbind_module.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $< $(RDKAFKA_LIBS)

# The same module with full RELRO (-z now): its GOT is read-only once
# loaded, so kotel must make the page writable to rebind it.
tools: $(TEST_BIN)/deepbind_module_relro.so

$(TEST_BIN)/deepbind_module_relro.so: tests/clients/deepbind_module.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -Wl,-z,relro,-z,now -o $@ $< $(RDKAFKA_LIBS)

# dlsym lookups that depend on the caller (test_ffi.py): the program, a
# module, and the module's own dependency (found through RUNPATH $ORIGIN).
tools: $(TEST_BIN)/dlcaller $(TEST_BIN)/dlcaller_mod.so

$(TEST_BIN)/dlcaller: tests/clients/dlcaller.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< -ldl

$(TEST_BIN)/dlcaller_dep.so: tests/clients/dlcaller_dep.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

$(TEST_BIN)/dlcaller_mod.so: tests/clients/dlcaller_mod.c $(TEST_BIN)/dlcaller_dep.so
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $< -L$(TEST_BIN) -l:dlcaller_dep.so \
	    -ldl -Wl,--enable-new-dtags,-rpath,'$$ORIGIN'

# The compatibility suite (docs/testing.md): real programs from Debian and
# npm under kotel against the mock broker (tests/compat/test_*.py).
#
#   make test-compat   install the programs, build the Go and Node.js
#                      clients into $(BUILD)/compat, run the suite

COMPAT_DIR   := $(BUILD)/compat
COMPAT_GO    := $(COMPAT_DIR)/kotelgo
NODE_RDKAFKA := $(COMPAT_DIR)/node/node_modules/node-rdkafka/build/Release/node-librdkafka.node
# Debian's node-gyp, or the one npm bundles (NodeSource's nodejs).
NODE_GYP ?= $(or $(shell command -v node-gyp 2>/dev/null),node $(firstword \
    $(wildcard /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js \
               /usr/share/nodejs/node-gyp/bin/node-gyp.js)))

.PHONY: test-compat test-compat-run

test-compat: deps
	@scripts/install-compat-deps.sh
	@$(MAKE) --no-print-directory test-compat-run

test-compat-run: $(LIB) tools $(COMPAT_GO) $(NODE_RDKAFKA)
	$(PYTHON) tests/run.py -j $(JOBS) --integration-only --suite compat

# Debian's confluent-kafka-go (GOPATH mode, offline: no module proxy), cgo
# against the system librdkafka.
$(COMPAT_GO): tests/compat/go/kotelgo.go
	@mkdir -p $(dir $@)
	cd tests/compat/go && env GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= \
	    GOPROXY=off GOCACHE=$(abspath $(COMPAT_DIR))/gocache \
	    go build -o $(abspath $@) .

# node-rdkafka at the version package-lock.json pins, its install script
# left unrun (--ignore-scripts: it would build its bundled librdkafka), then
# built against the system librdkafka and Node's installed headers.
$(NODE_RDKAFKA): tests/compat/node/package.json tests/compat/node/package-lock.json
	rm -rf $(COMPAT_DIR)/node
	mkdir -p $(COMPAT_DIR)/node
	cp tests/compat/node/package.json tests/compat/node/package-lock.json $(COMPAT_DIR)/node/
	cd $(COMPAT_DIR)/node && npm ci --ignore-scripts --no-audit --no-fund
	cd $(COMPAT_DIR)/node/node_modules/node-rdkafka && \
	    BUILD_LIBRDKAFKA=0 $(NODE_GYP) rebuild --nodedir=/usr -j 2

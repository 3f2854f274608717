# The C++ (librdkafka++) test client.

CXX        ?= c++
RDKAFKACPP_LIBS := $(shell pkg-config --libs rdkafka++ 2>/dev/null || echo -lrdkafka++)

tools: $(TEST_BIN)/kclient_cpp

$(TEST_BIN)/kclient_cpp: tests/clients/kclient_cpp.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O1 -g -Wall -Wextra -Werror -o $@ $< $(RDKAFKACPP_LIBS)

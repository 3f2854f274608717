#!/usr/bin/env bash
# Installs what kotel needs from Debian's packages, only when something is
# missing (so it is fast on a prepared machine).
#   scripts/install-deps.sh build   the build and the demo
#   scripts/install-deps.sh [all]   that, and what the test suite adds
set -euo pipefail

# What the build and the demo need...
PKGS=(
  gcc g++ make pkg-config git
  librdkafka-dev librdkafka++1 kcat
  python3 python3-confluent-kafka python3-protobuf
  libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libcurl4-openssl-dev libssl-dev libunwind-dev libdw-dev zlib1g-dev libdeflate-dev
  libjson-c-dev
)
# ...and what the tests add: sanitizers, fuzzing, valgrind, a test CA, the
# locale sources the decimal-comma tests compile with localedef, dpkg-source
# for librdkafka's source package (make test-librdkafka), node and npm for
# the OTLP/gRPC test server (its npm packages: tests/package.json) and
# the koffi (FFI) client of test_ffi.
TEST_PKGS=(clang llvm libclang-rt-dev valgrind openssl locales dpkg-dev nodejs npm)

case "${1:-all}" in
  build) ;;
  all) PKGS+=("${TEST_PKGS[@]}") ;;
  *) echo "usage: $0 [build|all]" >&2; exit 2 ;;
esac

# shellcheck source=scripts/apt-missing.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-missing.sh"
apt_install_missing install-deps "${PKGS[@]}"

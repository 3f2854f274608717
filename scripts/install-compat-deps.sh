#!/usr/bin/env bash
# Installs what the compatibility suite (make test-compat) adds to
# install-deps.sh: the real programs it runs under kotel and the tool
# chains that build its Go and Node.js programs. Only what is missing is
# installed, so it is fast on a prepared machine.
set -euo pipefail

PKGS=(
  collectd-core
  proftpd-core proftpd-mod-kafka
  clickhouse-server clickhouse-client
  golang-go golang-github-confluentinc-confluent-kafka-go-dev
  g++ make python3
  nodejs npm
)
# Node.js: a machine with its own node and npm (e.g. NodeSource's nodejs,
# which bundles npm and node-gyp and ships the headers in /usr/include/node)
# keeps them (apt-missing.sh leaves nodejs and npm out); otherwise Debian's.
# node-gyp builds against the headers in /usr/include/node (--nodedir=/usr):
# Debian's come with libnode-dev.
if ! command -v node-gyp >/dev/null &&
   [ ! -e /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js ]; then
  PKGS+=(node-gyp)
fi
[ -e /usr/include/node/node_api.h ] || PKGS+=(libnode-dev)

# shellcheck source=scripts/apt-missing.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-missing.sh"
apt_install_missing install-compat-deps "${PKGS[@]}"

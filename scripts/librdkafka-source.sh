#!/usr/bin/env bash
# Unpacks Debian's source package of the installed librdkafka into DIR and
# prints the path of the source tree (DIR/librdkafka-<upstream version>).
#   scripts/librdkafka-source.sh DIR
#
# The source is that of the installed librdkafka-dev, version for version:
# its tests are then built against, and exercise, the very library the
# system (and kotel's users) run. A tree already unpacked in DIR is reused
# without touching apt.
#
# apt needs a deb-src entry to find the source. When none offers that
# version, this adds one (APT_SRC_LIST) for the registry the machine
# already uses: every "deb" entry of /etc/apt/sources.list.d/debian.sources
# (deb822) or, failing that, of /etc/apt/sources.list, with the same URIs,
# suites, components and options (Signed-By...), as "deb-src". Then only
# that entry's indexes are fetched (the machine's other lists are left as
# they are). Needs root (or sudo) only for that, and for installing
# dpkg-dev (dpkg-source, which apt-get source runs) through
# scripts/install-deps.sh when it is missing.
set -euo pipefail

dest=${1:?usage: $0 DIR}
pkg=librdkafka
APT_DEB822=/etc/apt/sources.list.d/debian.sources
APT_SRC_LIST=/etc/apt/sources.list.d/kotel-librdkafka-src

version=$(dpkg-query -W -f='${Version}' librdkafka-dev 2>/dev/null) || {
  echo "librdkafka-source: librdkafka-dev is not installed" >&2
  exit 1
}
upstream=${version#*:}
upstream=${upstream%-*}
tree=$dest/$pkg-$upstream
stamp=$tree/.kotel-source-$version

if [ -f "$stamp" ]; then
  echo "$tree"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

if ! command -v dpkg-source >/dev/null; then
  echo "librdkafka-source: installing dpkg-dev" >&2
  "$(dirname "$0")/install-deps.sh" all
fi

# Whether apt knows a source package of exactly this version.
has_source() {
  apt-cache showsrc "$pkg" 2>/dev/null | grep -Fqx "Version: $version"
}

# The machine's "deb" entries, turned into deb-src entries (deb822).
deb_src_entries() {
  if [ -f "$APT_DEB822" ]; then
    # Stanzas are separated by blank lines: keep the enabled ones whose
    # Types lists "deb", as "Types: deb-src".
    awk -v RS= '{
      n = split($0, l, "\n"); deb = 0; off = 0
      for (i = 1; i <= n; i++) {
        if (l[i] ~ /^Types:/ && (" " substr(l[i], 7) " ") ~ /[ \t]deb[ \t]/)
          deb = 1
        if (l[i] ~ /^Enabled:[ \t]*no/) off = 1
      }
      if (!deb || off) next
      for (i = 1; i <= n; i++) print (l[i] ~ /^Types:/ ? "Types: deb-src" : l[i])
      print ""
    }' "$APT_DEB822"
  elif [ -f /etc/apt/sources.list ]; then
    # One-line format: "deb [options] URI suite components...".
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list
  fi
}

if ! has_source; then
  entries=$(deb_src_entries)
  if [ -z "$entries" ]; then
    echo "librdkafka-source: no deb entry in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2
    exit 1
  fi
  if [ -f "$APT_DEB822" ]; then
    APT_SRC_LIST=$APT_SRC_LIST.sources
  else
    APT_SRC_LIST=$APT_SRC_LIST.list
  fi
  echo "librdkafka-source: adding $APT_SRC_LIST and fetching its indexes" >&2
  printf '# Added by kotel (scripts/librdkafka-source.sh) to fetch librdkafka'"'"'s\n# source: the machine'"'"'s own deb entries, as deb-src.\n\n%s\n' \
    "$entries" | $SUDO tee "$APT_SRC_LIST" >/dev/null
  # Only this list: List-Cleanup=0 keeps the other lists' indexes.
  $SUDO apt-get update -qq -o Dir::Etc::sourcelist="$APT_SRC_LIST" \
    -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
  if ! has_source; then
    echo "librdkafka-source: no source package $pkg $version in the registry" >&2
    exit 1
  fi
fi

mkdir -p "$dest"
rm -rf "$tree"
# apt-get source checks the files against the signed index; dpkg-source
# unpacks the upstream tarball and applies Debian's patches. As root, the
# download runs as root (DIR need not be readable by apt's _apt user).
sandbox=()
[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
(cd "$dest" && apt-get source -qq "${sandbox[@]}" "$pkg=$version" >&2)
[ -f "$tree/tests/test.c" ] || {
  echo "librdkafka-source: $tree/tests/test.c missing after apt-get source" >&2
  exit 1
}
touch "$stamp"
echo "$tree"

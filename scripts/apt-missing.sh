# shellcheck shell=bash
# Sourced (not run) by install-deps.sh and install-compat-deps.sh: the one
# place that finds which Debian packages are missing and installs them, so
# a prepared machine costs a dpkg-query per package and nothing else.
#
# apt_install_missing TAG PKG...: installs the PKGs not installed yet
# (through sudo unless run as root, as CI is), naming them on stderr after
# "TAG: installing". Returns at once when none is missing.
apt_install_missing() {
  local tag=$1 p
  local pkgs=("${@:2}") keep=() missing=()

  # Node.js from another source (NodeSource's nodejs bundles npm and
  # conflicts with Debian's npm package): a working node and npm are enough.
  if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
    for p in "${pkgs[@]}"; do
      case "$p" in nodejs|npm) ;; *) keep+=("$p") ;; esac
    done
    pkgs=("${keep[@]}")
  fi
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "$tag: installing ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

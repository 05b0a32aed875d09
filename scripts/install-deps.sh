#!/usr/bin/env bash
# Installs the Debian packages chaosdrill needs to build and test, only those missing.
# Non-interactive; safe to run again. Needs root for apt-get (prints what to run otherwise).
set -euo pipefail

pkgs=(
  build-essential cmake pkgconf
  libyaml-dev libnl-3-dev libnl-route-3-dev libseccomp-dev liburing-dev libcmocka-dev
  libfuse3-dev fuse3
  libmnl-dev libnftnl-dev
  libsqlite3-dev sqlite3
  libxml2-utils jq iproute2 nftables iptables procps util-linux valgrind libfaketime
  etcd-server etcd-client
  python3
  postgresql libpq-dev
  redis-server redis-tools libhiredis-dev
  clang libclang-rt-14-dev   # libFuzzer (tests/fuzz; clang -fsanitize=fuzzer)
  erlang-base erlang-mnesia
  chromium                   # report.html rendered headless in a test (tests/integration/reports)
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "chaosdrill: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "chaosdrill: not root; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# System programs the test suite runs for real: redis-server (the Redis store),
# redis-sentinel (the store behind Sentinel, with a failover), chromium (the browser
# tests), wrk (the benchmark's HTTP load generator), nginx (the round-robin balancer in
# front of several gates, tests/scale/), valgrind (the benchmark's instruction counts,
# bench/instructions.py). Installs the missing
# ones with apt-get when it can (root, or sudo without a password); otherwise says which
# to install and stops. Called by `make test` and `make bench`.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
command -v chromium >/dev/null || missing+=(chromium)
command -v wrk >/dev/null || missing+=(wrk)
command -v valgrind >/dev/null || missing+=(valgrind)
{ command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || missing+=(nginx-light)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  apt=(sudo apt-get)
else
  echo "install these packages first (Debian/Ubuntu): ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "no apt-get here: install ${missing[*]} with your package manager" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"

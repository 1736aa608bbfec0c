#!/bin/sh
# Debian packages the tests drive: headless Chromium (the browser tests; Playwright
# is pointed at it and downloads nothing) and HAProxy (the load-balancer test).
set -e
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v haproxy >/dev/null 2>&1 || need="$need haproxy"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "missing for some tests:$need (as root: apt-get install$need); those tests will skip" >&2
  exit 0
fi
echo "installing$need for the tests..."
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null

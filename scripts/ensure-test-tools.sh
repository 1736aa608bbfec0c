#!/bin/sh
# What the tests drive besides Python: Debian packages (headless Chromium for the browser
# tests, Playwright is pointed at it and downloads nothing; HAProxy for the
# load-balancer test) and the npm packages of the real ChurchApps client
# (tests/apphelper, pinned in its package-lock.json).
set -e
sh "$(dirname "$0")/ensure-npm-packages.sh"
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

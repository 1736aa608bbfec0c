#!/bin/sh
# Headless Chromium from Debian for the browser tests (nothing is downloaded by Playwright).
set -e
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing: install Debian's 'chromium' package (as root: apt-get install chromium)" >&2
  exit 0
fi
echo "installing Debian's chromium for the browser tests..."
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null

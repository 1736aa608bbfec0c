#!/bin/sh
# `npm ci` for the Node-side tests, only when the lock changed since the last install
# (npm writes node_modules/.package-lock.json at the end of an install). Without npm the
# tests that need it skip, or fail under CI=true.
set -e
dir="$(dirname "$0")/../tests/apphelper"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: the @churchapps/apphelper tests will skip (fail under CI=true)" >&2
  exit 0
fi
installed="$dir/node_modules/.package-lock.json"
if [ -f "$installed" ] && [ ! "$dir/package-lock.json" -nt "$installed" ]; then
  exit 0
fi
echo "installing the npm packages of tests/apphelper..."
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error

#!/bin/sh
# `npm ci` for the Node-side tests, only when node_modules was not installed from this
# very lock (a copy of the lock is kept in node_modules after each install; contents
# are compared, not times, so a checkout that rewrites the file changes nothing).
# Without npm the tests that need it skip, or fail under CI=true.
set -e
dir="$(dirname "$0")/../tests/apphelper"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: the @churchapps/apphelper tests will skip (fail under CI=true)" >&2
  exit 0
fi
stamp="$dir/node_modules/.installed-package-lock.json"
if cmp -s "$dir/package-lock.json" "$stamp"; then
  exit 0
fi
echo "installing the npm packages of tests/apphelper..."
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
cp "$dir/package-lock.json" "$stamp"

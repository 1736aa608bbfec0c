#!/bin/sh
# Build the code bundle that template.yaml's CodeUri points at (deploy/aws/.build):
# steeple with its [aws] extra, from manylinux wheels for Lambda's Python, so the
# bundle runs on Lambda whatever machine builds it. Then:
#   sam deploy --guided --template-file deploy/aws/template.yaml
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
lambda_python=${LAMBDA_PYTHON_VERSION:-3.12}      # keep in step with Runtime in template.yaml
platform=${LAMBDA_PLATFORM:-manylinux2014_x86_64}  # manylinux2014_aarch64 for arm64
out="$here/.build"
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT

"$python" -m pip wheel --quiet --no-deps --wheel-dir "$wheels" "$root"
rm -rf "$out"
"$python" -m pip install --quiet --target "$out" --platform "$platform" \
  --implementation cp --python-version "$lambda_python" --only-binary=:all: \
  "$(ls "$wheels"/steeple-*.whl)[aws]"
echo "built $out"

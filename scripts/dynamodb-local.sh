#!/usr/bin/env bash
# dynamodb-local.sh makes sure DynamoDB Local (the official DynamoDBLocal.jar
# and its native libraries) is unpacked in .cache/dynamodb-local/ and prints
# that directory. It is idempotent: once the jar is there it does nothing.
#
# The jar comes from the npm package amplify-dynamodb-simulator, which ships
# the official AWS build under package/emulator/. Only `npm pack` is used (no
# install, no other download). Set AURUM_DYNAMODB_LOCAL_DIR to use another
# directory.
set -euo pipefail

version="2.9.30"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${AURUM_DYNAMODB_LOCAL_DIR:-$root/.cache/dynamodb-local}"

if [[ -f "$dir/DynamoDBLocal.jar" && -d "$dir/DynamoDBLocal_lib" ]]; then
  echo "$dir"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "dynamodb-local.sh: npm is needed to fetch DynamoDB Local" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$version" >/dev/null)
tarball="$(ls "$tmp"/amplify-dynamodb-simulator-*.tgz)"
tar -xzf "$tarball" -C "$tmp" package/emulator
[[ -f "$tmp/package/emulator/DynamoDBLocal.jar" ]] || { echo "dynamodb-local.sh: DynamoDBLocal.jar missing from the package" >&2; exit 1; }

mkdir -p "$(dirname "$dir")"
rm -rf "$dir.partial"
mv "$tmp/package/emulator" "$dir.partial"
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "$dir"

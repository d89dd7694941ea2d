#!/usr/bin/env bash
# Build FerretDB (MongoDB wire protocol over SQLite) into .footy/bin, once.
#
# `go install ...@v1.24.2` produces a binary that panics at start: the module archive lacks
# build/version/version.txt (it is generated in FerretDB's own repo). So we copy the module
# source, write that file, and build it ourselves.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${FERRETDB_VERSION:-v1.24.2}"
BIN="$ROOT/.footy/bin/ferretdb"

# Capture first: `--version | grep -q` dies of SIGPIPE under pipefail and would rebuild.
if [ -x "$BIN" ] && [[ "$("$BIN" --version 2>&1)" == *"version: ${VERSION}"* ]]; then
  exit 0
fi
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "install-ferretdb: the Go toolchain is required" >&2; exit 1; }

echo "install-ferretdb: building FerretDB $VERSION (first run only, ~1-2 min)" >&2
src_dir="$(go mod download -json "github.com/FerretDB/FerretDB@${VERSION}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
build_dir="$(mktemp -d)"
trap 'chmod -R u+w "$build_dir" 2>/dev/null; rm -rf "$build_dir"' EXIT
cp -r "$src_dir/." "$build_dir/"
chmod -R u+w "$build_dir"
echo "$VERSION" > "$build_dir/build/version/version.txt"
mkdir -p "$(dirname "$BIN")"
(cd "$build_dir" && CGO_ENABLED=0 go build -trimpath -o "$BIN.tmp" ./cmd/ferretdb)
mv "$BIN.tmp" "$BIN"
"$BIN" --version >&2

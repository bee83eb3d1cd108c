#!/usr/bin/env bash
# Build the embedded FerretDB launcher (MongoDB wire-compatible server, SQLite backend).
# Usage: deploy/local/ferretdb/build.sh <output-binary-path>
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 <output-binary-path>" >&2
  exit 2
fi

if ! command -v go >/dev/null 2>&1; then
  echo "gridstream: missing prerequisite: Go 1.24+ — install golang" >&2
  exit 1
fi

out=$1
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# go.sum is committed: -mod=readonly fetches what is missing from the module proxy
# into an empty module cache but never rewrites go.mod/go.sum.
export CGO_ENABLED=0 GOFLAGS="-mod=readonly"

# FerretDB v1.24.2 carries bugs and gaps gridstream hits, fixed by the whole-file replacements
# under patches/ (same paths as in the module; the changes are marked "gridstream patch"), and
# one file of gridstream's own (internal/handler/views.go, copied in the same way).
# patches/README.md lists them: what each bug is and what it did to gridstream.
# Go refuses -overlay on module-cache files, so build against a patched copy of the
# module (3 MB) through a temporary -modfile with a replace directive; go.mod and
# go.sum stay untouched. patches/upstream.sha256 pins the files the patches replace.
ferret_dir="$(go mod download -json github.com/FerretDB/FerretDB | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "$ferret_dir" ]] || ! (cd "$ferret_dir" && sha256sum --check --quiet --status) <patches/upstream.sha256; then
  echo "gridstream: FerretDB module is not the v1.24.2 that deploy/local/ferretdb/patches/ was made from; refresh the patches" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/gridstream-ferretdb-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -R "$ferret_dir" "$work/FerretDB"
chmod -R u+w "$work/FerretDB"
(cd patches && find internal ferretdb -type f -name '*.go' -exec cp {} "$work/FerretDB/{}" \;)
cp go.mod "$work/build.mod"
cp go.sum "$work/build.sum"
printf '\nreplace github.com/FerretDB/FerretDB => %s\n' "$work/FerretDB" >>"$work/build.mod"

go build -modfile "$work/build.mod" -trimpath -o "$out" .

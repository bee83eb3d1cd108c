#!/usr/bin/env bash
# Builds Helm from its Go module into the cache, once, and prints the binary's path on stdout.
# The chart's test (packages/cli/src/helm-chart.int.spec.ts) calls it, so `./gridstream test`
# on a fresh machine gets Helm without a download from anywhere but the Go module proxy. Helm's
# release binaries come from get.helm.sh, which this project's machines do not reach; `go install`
# needs only Go. The first build takes minutes (deploy/helm/README.md); later calls find the
# stamp and return at once. Say where with GS_CACHE (default ~/.cache/gridstream).
set -euo pipefail

HELM_MODULE=helm.sh/helm/v4/cmd/helm
HELM_VERSION=v4.3.2
GS_CACHE="${GS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gridstream}"
DEST="$GS_CACHE/helm/$HELM_VERSION"
STAMP="$DEST/.installed"

say() { printf 'gridstream: %s\n' "$*" >&2; }

installed() { [[ -x "$DEST/helm" && "$(cat "$STAMP" 2>/dev/null)" == "$HELM_MODULE@$HELM_VERSION" ]]; }

if installed; then
  echo "$DEST/helm"
  exit 0
fi

if ! command -v go >/dev/null; then
  say "missing prerequisite: go, to build Helm $HELM_VERSION ($HELM_MODULE); install Go (Debian: golang)"
  exit 1
fi

mkdir -p "$GS_CACHE/helm"
# Two callers at once (two test runs) wait for one build rather than race over the folder.
exec 9>"$GS_CACHE/helm/.lock"
flock 9
if installed; then
  echo "$DEST/helm"
  exit 0
fi

tmp="$(mktemp -d "$GS_CACHE/helm/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# As Helm's own Makefile builds it: CGO off (a static binary, no C compiler needed), and the
# version stamped in, else `helm version` says only v4.3.
ldflags="-w -s -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
say "building Helm: GOBIN=$DEST CGO_ENABLED=0 go install -trimpath -ldflags '$ldflags' $HELM_MODULE@$HELM_VERSION ($(go version | cut -d' ' -f3); the first build takes a few minutes)"
started=$SECONDS
GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "$HELM_MODULE@$HELM_VERSION" >&2
built="$("$tmp/helm" version --template '{{.Version}}')"
if [[ "$built" != "$HELM_VERSION" ]]; then
  say "the Helm just built says it is $built, not $HELM_VERSION"
  exit 1
fi
rm -rf "$DEST"
mv "$tmp" "$DEST"
trap - EXIT
echo "$HELM_MODULE@$HELM_VERSION" >"$STAMP"
say "Helm $HELM_VERSION built in $((SECONDS - started)) s: $DEST/helm"
echo "$DEST/helm"

#!/usr/bin/env bash
# The dashboard's end-to-end test drives Debian's chromium with playwright-core (which
# downloads no browser). `./gridstream test` runs this first: it installs the package with
# apt-get when no chromium is on PATH, and says in one line what is missing when it cannot.
set -euo pipefail

say() { printf 'gridstream: %s\n' "$*" >&2; }

for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null; then exit 0; fi
done
if ! command -v apt-get >/dev/null; then
  say "missing prerequisite: chromium (the dashboard test's browser); install it, or set GS_CHROMIUM to its path"
  exit 0 # the dashboard test then fails naming what is missing; the other tests still run
fi
sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    say "missing prerequisite: chromium; install it with: sudo apt-get install -y chromium"
    exit 0
  fi
fi
say "installing Debian's chromium for the dashboard test (apt-get install -y chromium)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2 || true
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >&2 ||
  say "could not install chromium with apt-get; the dashboard test will fail naming it"

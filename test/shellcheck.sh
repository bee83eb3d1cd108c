#!/usr/bin/env bash
# Lints every shell script of the repository with ShellCheck (Debian's `shellcheck`), as part
# of `pnpm run lint` and so of `./gridstream test`. Where it is missing it is installed with
# apt-get (as root or with password-less sudo); where that cannot be done, the lint fails
# saying so, since an unchecked script would pass silently.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'gridstream: %s\n' "$*" >&2; }

if ! command -v shellcheck >/dev/null; then
  sudo=()
  if ((EUID != 0)) && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); fi
  if command -v apt-get >/dev/null && { ((EUID == 0)) || ((${#sudo[@]} > 0)); }; then
    say "installing Debian's shellcheck for the lint (apt-get install -y shellcheck)"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -qq shellcheck >&2 ||
      { "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" apt-get install -y -qq shellcheck >&2; } ||
      true
  fi
fi
if ! command -v shellcheck >/dev/null; then
  say "missing prerequisite: shellcheck, to lint the shell scripts; install it (apt-get install shellcheck)"
  exit 1
fi

# Every tracked file that starts with a shell's #! line.
mapfile -t scripts < <(git ls-files -z | xargs -0 grep -lE '^#!/(usr/)?bin/(env )?(ba)?sh' 2>/dev/null || true)
shellcheck --severity=style "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"

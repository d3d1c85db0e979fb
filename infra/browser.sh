#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the dashboard's browser test (Debian's packages).
#   browser.sh up    install chromium and chromium-driver if either is missing; quick
#                    (no apt at all) once both are on the PATH.
set -euo pipefail
# shellcheck source=infra/lib.sh
. "$(dirname "$0")/lib.sh"

up() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return 0
  fi
  log "installing chromium and chromium-driver (once)"
  # Teammates' set-ups may hold dpkg's lock for a while: wait for it rather than fail.
  apt_install -o DPkg::Lock::Timeout=600 chromium chromium-driver
  command -v chromium >/dev/null && command -v chromedriver >/dev/null \
    || die "chromium or chromedriver still missing after the install"
  log "$(chromium --version 2>/dev/null | head -n1)"
}

case "${1:-}" in
  up) up ;;
  *) echo "usage: $0 up" >&2; exit 2 ;;
esac

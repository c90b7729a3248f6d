# Chromium for the browser tests of /docs and /redoc, sourced by scripts/test:
#
#   ensure_chromium   exports SHIPWISE_TEST_CHROMIUM (the browser's path) or fails
#
# Playwright drives it; Playwright's own browser download is never used (it needs hosts
# beyond the package registries). Found as SHIPWISE_TEST_CHROMIUM, on PATH (chromium,
# chromium-browser) or as /usr/bin/chromium; missing, Debian's chromium package is
# installed when running as root.

ensure_chromium() {
  local binary
  if ! binary="$(_chromium_binary)"; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
      echo "Chromium was not found. Install it (Debian: sudo apt-get install chromium;" \
        "Ubuntu: a chromium without snap; macOS: brew install chromium) or set" \
        "SHIPWISE_TEST_CHROMIUM to a Chromium or Chrome binary." >&2
      return 1
    fi
    echo "==> Installing Chromium (Debian package chromium)"
    if ! { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium >/dev/null; }; then
      echo "apt-get install chromium failed" >&2
      return 1
    fi
    binary="$(_chromium_binary)" || {
      echo "chromium not found after installing" >&2
      return 1
    }
  fi
  export SHIPWISE_TEST_CHROMIUM="$binary"
  echo "==> $("$binary" --version 2>/dev/null | head -n 1) at $binary"
}

_chromium_binary() {
  if [ -n "${SHIPWISE_TEST_CHROMIUM:-}" ] && [ -x "$SHIPWISE_TEST_CHROMIUM" ]; then
    echo "$SHIPWISE_TEST_CHROMIUM"
  elif command -v chromium >/dev/null; then
    command -v chromium
  elif command -v chromium-browser >/dev/null; then
    command -v chromium-browser
  elif [ -x /usr/bin/chromium ]; then
    echo /usr/bin/chromium
  else
    return 1
  fi
}

# Prometheus for the metric-source tests, sourced by scripts/test:
#
#   ensure_prometheus   exports SHIPWISE_TEST_PROMETHEUS (the binary's path) or fails
#
# Only the binary is needed: each test module starts its own server on a free loopback
# port with a throw-away TSDB (tests/support/prometheus.py), and stops it afterwards.
# Found on PATH or as /usr/bin/prometheus; missing, Debian's prometheus package is
# installed when running as root. The package's own service is never started (its
# post-install may enable it for systemd; nothing here starts or needs it).

ensure_prometheus() {
  local binary
  if ! binary="$(_prometheus_binary)"; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
      echo "The prometheus binary was not found. Install it (Debian or Ubuntu: sudo" \
        "apt-get install prometheus; macOS: brew install prometheus) or put it on PATH." >&2
      return 1
    fi
    echo "==> Installing Prometheus (Debian package prometheus)"
    # policy-rc.d exit 101: the package's service must not start here (no init, or one
    # we must not disturb); the tests run their own servers.
    local policy=/usr/sbin/policy-rc.d created_policy=""
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=yes
    fi
    local status=0
    { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        prometheus >/dev/null; } || status=$?
    if [ -n "$created_policy" ]; then rm -f "$policy"; fi
    if [ "$status" -ne 0 ]; then
      echo "apt-get install prometheus failed" >&2
      return 1
    fi
    binary="$(_prometheus_binary)" || {
      echo "prometheus not found after installing" >&2
      return 1
    }
  fi
  local version
  version="$("$binary" --version 2>&1 | head -n 1)" || {
    echo "$binary --version failed: $version" >&2
    return 1
  }
  export SHIPWISE_TEST_PROMETHEUS="$binary"
  echo "==> ${version%% (*} at $binary"
}

_prometheus_binary() {
  if [ -n "${SHIPWISE_TEST_PROMETHEUS:-}" ] && [ -x "$SHIPWISE_TEST_PROMETHEUS" ]; then
    echo "$SHIPWISE_TEST_PROMETHEUS"
  elif command -v prometheus >/dev/null; then
    command -v prometheus
  elif [ -x /usr/bin/prometheus ]; then
    echo /usr/bin/prometheus
  else
    return 1
  fi
}

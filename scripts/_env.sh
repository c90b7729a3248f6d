# Shared set-up for scripts/start and scripts/test: a virtual environment in .venv with
# the project installed (editable) and the extras asked for. Re-installs only when
# pyproject.toml or the extras change, so a second run starts at once.

ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Shipwise needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 2
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "==> Creating .venv with $("$python" --version)"
    "$python" -m venv .venv
  fi
  local stamp=".venv/.shipwise-installed"
  local want
  want="$(cat pyproject.toml | sha256sum | cut -c1-16) [$extras]"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> Installing shipwise[$extras] into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
    echo "$want" > "$stamp"
  fi
}

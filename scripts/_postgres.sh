# PostgreSQL for the test suite, sourced by scripts/test after ensure_venv:
#
#   ensure_postgres   exports SHIPWISE_TEST_POSTGRES_URL (a SQLAlchemy URL) or fails
#
# Already set: that server is used as it is (its user must be allowed to CREATE DATABASE,
# as every PostgreSQL test gets a fresh database of its own).
# Not set: this checkout gets a private cluster in .cache/postgres, created once, started
# when it is not running and left running, so the next run only connects. It listens on
# 127.0.0.1, port SHIPWISE_TEST_POSTGRES_PORT, or else 54329 or the next free port when
# another checkout's cluster holds it, with trust authentication and fsync off: throw-away
# test data. The server binaries come from /usr/lib/postgresql/<version>/bin (Debian) or
# PATH; missing, Debian's postgresql package is installed when running as root. As root,
# the cluster belongs to the `postgres` user, because initdb refuses to run as root.
#
#   stop it:   runuser -u postgres -- /usr/lib/postgresql/*/bin/pg_ctl -D .cache/postgres/data stop
#   reset it:  stop it, then rm -rf .cache/postgres

_PG_DEFAULT_PORT=54329
_PG_DATABASE=shipwise_test

ensure_postgres() {
  if [ -n "${SHIPWISE_TEST_POSTGRES_URL:-}" ]; then
    local version
    version="$(_pg_external_version "$SHIPWISE_TEST_POSTGRES_URL")" || return 1
    echo "==> PostgreSQL $version at $(_pg_masked "$SHIPWISE_TEST_POSTGRES_URL")" \
      "(SHIPWISE_TEST_POSTGRES_URL)"
    export SHIPWISE_TEST_POSTGRES_URL
    return 0
  fi

  local bindir
  if ! bindir="$(_pg_bindir "")"; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
      echo "PostgreSQL server binaries (pg_ctl, initdb) not found. Install them (Debian or" \
        "Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql) or set" \
        "SHIPWISE_TEST_POSTGRES_URL to a server where you may CREATE DATABASE." >&2
      return 1
    fi
    echo "==> Installing PostgreSQL (Debian package postgresql)"
    if ! { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
      echo "apt-get install postgresql failed" >&2
      return 1
    fi
    bindir="$(_pg_bindir "")" || { echo "pg_ctl not found after installing" >&2; return 1; }
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "Running as root needs a 'postgres' user to own the test cluster (initdb refuses" \
      "root); Debian's postgresql package creates it." >&2
    return 1
  fi

  local base data run log
  base="$(_pg_base)" || return 1
  data="$base/data" run="$base/run" log="$base/postgres.log"

  # One set-up at a time per checkout (the server does not inherit the lock: _pg_start).
  local lock
  exec {lock}>"$base/lock"
  if command -v flock >/dev/null; then flock "$lock"; fi
  _pg_up "$bindir" "$data" "$run" "$log"
  local status=$?
  exec {lock}>&-
  return "$status"
}

# The cluster of $data, initialised, running and with its database; exports the URL.
_pg_up() {
  local bindir="$1" data="$2" run="$3" log="$4"
  if [ -f "$data/PG_VERSION" ] && [ "$(cat "$data/PG_VERSION")" != "$(_pg_major "$bindir")" ]; then
    local wanted
    wanted="$(cat "$data/PG_VERSION")"
    if ! bindir="$(_pg_bindir "$wanted")"; then
      echo "==> Removing the PostgreSQL $wanted test cluster: no PostgreSQL $wanted here"
      _pg_running_port "$data" "$run" >/dev/null && { echo "...but it is running" >&2; return 1; }
      rm -rf "$data"
    fi
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    echo "==> Creating a PostgreSQL test cluster in $data"
    rm -rf "$data"
    _pg_as "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
      >"$data.initdb.log" 2>&1 || { cat "$data.initdb.log" >&2; return 1; }
    _pg_as sh -c 'echo "include_if_exists = '\''shipwise.conf'\''" >> "$1/postgresql.conf"' \
      sh "$data" || return 1
  elif [ "$(id -u)" -eq 0 ] && [ "$(stat -c %U "$data")" != postgres ]; then
    chown -R postgres: "$data" || return 1  # copied from another machine
  fi

  local port quoted_run="${run//\'/\'\'}"
  if ! port="$(_pg_running_port "$data" "$run")"; then
    port="$(_pg_free_port)" || return 1
    _pg_as sh -c 'rm -f "$1"/.s.PGSQL.*; cat > "$2"' sh "$run" "$data/shipwise.conf" <<EOF || return 1
# Written by scripts/_postgres.sh before each start: a private, throw-away test cluster.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$quoted_run'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    echo "==> Starting PostgreSQL in $data on port $port (log: $log)"
    if ! _pg_start "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -s start; then
      echo "PostgreSQL did not start; the end of $log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
  fi

  local tries=0
  until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
    if [ $((tries += 1)) -gt 60 ]; then
      echo "PostgreSQL on port $port does not accept connections; see $log" >&2
      return 1
    fi
    sleep 0.5
  done

  local psql=("$bindir/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
  local version exists
  version="$("${psql[@]}" -d postgres -c 'SHOW server_version')" || return 1
  exists="$("${psql[@]}" -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = '$_PG_DATABASE'")" || return 1
  if [ -z "$exists" ]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE $_PG_DATABASE" || return 1
  fi
  export SHIPWISE_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/$_PG_DATABASE"
  echo "==> PostgreSQL ${version%% *} at $SHIPWISE_TEST_POSTGRES_URL"
}

# The directory with pg_ctl, initdb, pg_isready and psql: major version $1 if given, else
# the newest of Debian's, else PATH's.
_pg_bindir() {
  local dir candidates
  if [ -n "$1" ]; then
    candidates="/usr/lib/postgresql/$1/bin"
  else
    candidates="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)"
    if command -v pg_ctl >/dev/null; then
      candidates+=$'\n'"$(dirname "$(command -v pg_ctl)")"
    fi
  fi
  while IFS= read -r dir; do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_isready" ] &&
      [ -x "$dir/psql" ] && { [ -z "$1" ] || [ "$(_pg_major "$dir")" = "$1" ]; }; then
      echo "$dir"
      return 0
    fi
  done <<<"$candidates"
  return 1
}

_pg_major() {  # "pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> 15
  local version
  version="$("$1/pg_ctl" --version)" || return 1
  version="${version#*) }"
  echo "${version%%.*}"
}

# Runs a command as the cluster's owner: postgres when we are root, else ourselves.
_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# _pg_as for starting the server, which outlives this script: it must hold none of our
# descriptors but 0-2 (pg_ctl points those at the log), neither the lock nor a pipe the
# caller inherited (a CI runner would wait for the pipe's end, for ever).
_pg_start() (
  local path fd
  for path in "/proc/$BASHPID/fd/"*; do  # Linux; elsewhere the pattern stays as it is
    fd="${path##*/}"
    case "$fd" in *[!0-9]*) continue ;; esac
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
  done
  _pg_as "$@"
)

# .cache/postgres, or a directory under /tmp when the postgres user cannot reach the
# checkout (say, under /root) or the socket path would pass the 107-byte limit.
_pg_base() {
  local base="$PWD/.cache/postgres"
  if ! _pg_base_usable "$base"; then
    base="/tmp/shipwise-postgres-$(printf %s "$PWD" | sha256sum | cut -c1-12)"
    _pg_base_usable "$base" || { echo "Cannot set up $base for PostgreSQL" >&2; return 1; }
  fi
  echo "$base"
}

_pg_base_usable() {
  [ $((${#1} + 19)) -le 107 ] || return 1  # + "/run/.s.PGSQL.54329"
  mkdir -p "$1/run" 2>/dev/null || return 1
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$1" "$1/run" || return 1; fi
  _pg_as sh -c '[ -w "$1" ] && [ -x "$1" ] && [ -w "$1/run" ]' sh "$1"
}

# The port of this cluster's server when it is running. A postmaster.pid whose process is
# gone, or is not a server of this data directory (the file came from another machine or
# a crash, and the number now belongs to something else), is removed.
_pg_running_port() {
  local data="$1" run="$2" pid port ours=""
  [ -f "$data/postmaster.pid" ] || return 1
  { read -r pid && read -r _ && read -r _ && read -r port; } <"$data/postmaster.pid" || true
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    if [ -d "/proc/$pid" ]; then
      [ "$(readlink "/proc/$pid/cwd")" = "$(cd "$data" && pwd -P)" ] && ours=yes
    else
      case "$(ps -o comm= -p "$pid")" in *postgres* | *postmaster*) ours=yes ;; esac
    fi
  fi
  if [ -n "$ours" ]; then
    echo "$port"
    return 0
  fi
  echo "==> Removing a stale $data/postmaster.pid (PID $pid is not its server)" >&2
  _pg_as rm -f "$data/postmaster.pid"
  return 1
}

# SHIPWISE_TEST_POSTGRES_PORT, else the first free port from 54329 on.
_pg_free_port() {
  .venv/bin/python - "${SHIPWISE_TEST_POSTGRES_PORT:-}" "$_PG_DEFAULT_PORT" <<'PY'
import socket
import sys

wanted, default = sys.argv[1], int(sys.argv[2])
candidates = [int(wanted)] if wanted else list(range(default, default + 20))
for port in candidates:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    sys.exit(0)
if wanted:
    sys.exit(f"Port {wanted} (SHIPWISE_TEST_POSTGRES_PORT) is in use on 127.0.0.1")
sys.exit(f"Ports {default}-{default + 19} are all in use: set SHIPWISE_TEST_POSTGRES_PORT")
PY
}

# The server version behind a SQLAlchemy URL, through the maintenance database the test
# fixtures connect to.
_pg_external_version() {
  .venv/bin/python - "$1" <<'PY'
import sys

import psycopg
from sqlalchemy.engine import make_url

url = make_url(sys.argv[1])
dsn = url.set(drivername="postgresql", database="postgres")
try:
    with psycopg.connect(dsn.render_as_string(hide_password=False), connect_timeout=10) as conn:
        print(conn.info.parameter_status("server_version").split()[0])
except psycopg.Error as error:
    sys.exit(f"SHIPWISE_TEST_POSTGRES_URL: cannot connect to {dsn.render_as_string()}: {error}")
PY
}

_pg_masked() {  # hides a password in a URL
  sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"
}

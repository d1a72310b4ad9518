#!/usr/bin/env bash
# Runs a command beside a private PostgreSQL server, then stops the server (also when the command
# fails or is interrupted): `scripts/with-postgres.sh swift test …`. `make test` runs the test
# suite through it, so the PostgreSQL tests always run there.
#
# The server is a new cluster (initdb) in a temporary directory, run as the `postgres` user when
# this script runs as root (PostgreSQL refuses to run as root), listening on 127.0.0.1 only, on a
# free port, with trust authentication (loopback only; nothing else can connect). The command gets
# its URL in BURNRATE_TEST_POSTGRES_URL (the `postgres` database; tests create their own).
# PostgreSQL is installed with apt-get when missing; when it cannot be, this script says so and
# fails: the PostgreSQL tests never pass by being skipped here.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGUMENTS…]" >&2
  exit 2
fi

find_bin() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then best="$d"; fi
  done
  # The newest major version (the glob sorts 15 before 16; 9.x never ships on current Debian).
  echo "$best"
}

PGBIN="$(find_bin)"
if [ -z "$PGBIN" ]; then
  echo "PostgreSQL is not installed; installing it for the tests (apt-get install postgresql)…" >&2
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q postgresql >/dev/null 2>&1 \
      || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q postgresql >/dev/null; } || true
  fi
  PGBIN="$(find_bin)"
fi
if [ -z "$PGBIN" ]; then
  echo "error: PostgreSQL is not available (no initdb under /usr/lib/postgresql/*/bin, and apt-get install postgresql failed): the PostgreSQL tests cannot run" >&2
  exit 1
fi

# As root, the server runs as `postgres` (the Debian package creates that user).
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "error: running as root, but there is no 'postgres' user to run the server as" >&2
    exit 1
  fi
  as_server=(runuser -u postgres --)
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/burnrate-pg.XXXXXX")"
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
chmod 700 "$dir"

started=0
cleanup() {
  if [ "$started" -eq 1 ]; then
    "${as_server[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

"${as_server[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
  echo "error: initdb failed:" >&2
  cat "$dir/initdb.log" >&2
  exit 1
}
# fsync stays on: the tests and the load figures are of durable commits.
"${as_server[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null || {
  echo "error: the PostgreSQL server did not start:" >&2
  cat "$dir/server.log" >&2
  exit 1
}
started=1

export BURNRATE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') for the tests at $BURNRATE_TEST_POSTGRES_URL (data in $dir)" >&2
# The command runs in the background so that a signal to this script is acted on at once (bash
# runs traps only between foreground commands): it is passed on, then the server is stopped.
child=
trap 'if [ -n "$child" ]; then kill -INT "$child" 2>/dev/null; wait "$child"; fi; exit 130' INT
trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; exit 143' TERM
set +e
"$@" &
child=$!
wait "$child"
status=$?
set -e
exit "$status"

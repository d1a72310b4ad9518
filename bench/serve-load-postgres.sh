#!/bin/sh
# Durable debits/s through two `burnrate serve` instances on one PostgreSQL ledger, beside the
# single SQLite instance in the same run (bench/serve-load.sh): 64 connections in all each time
# (SQLite: one wrk, 2 threads x 64 connections; PostgreSQL: two wrk at once, one per instance,
# 1 thread x 32 connections each), every request a new keyed debit (bench/wrk-debits.lua).
# Usage: bench/serve-load-postgres.sh [BURNRATE_BINARY] [SECONDS]
# Without BURNRATE_TEST_POSTGRES_URL it runs itself through scripts/with-postgres.sh (a private
# PostgreSQL server on loopback, stopped afterwards).
set -eu
BIN=${1:-.build/release/burnrate}
SECONDS_=${2:-20}
if [ -z "${BURNRATE_TEST_POSTGRES_URL:-}" ]; then exec scripts/with-postgres.sh "$0" "$BIN" "$SECONDS_"; fi
URL=$BURNRATE_TEST_POSTGRES_URL
DIR=$(mktemp -d)
A=; B=
trap 'kill $A $B 2>/dev/null || true; wait $A $B 2>/dev/null || true; rm -rf "$DIR"' EXIT

echo "== one instance on SQLite =="
bench/serve-load.sh "$BIN" "$SECONDS_"

echo "== two instances on one PostgreSQL =="
"$BIN" ledger init --store "$URL" >/dev/null
"$BIN" ledger pool add --store "$URL" load >/dev/null
"$BIN" ledger fund --store "$URL" --pool load --amount 1000000 --key fund-1 >/dev/null
"$BIN" ledger identity add --store "$URL" gateway --pool load >/dev/null
KEY=$("$BIN" ledger key create --store "$URL" --identity gateway --json | sed 's/.*"secret":"\([^"]*\)".*/\1/')
"$BIN" serve --store "$URL" --listen 127.0.0.1:8089 2>"$DIR/a.log" & A=$!
"$BIN" serve --store "$URL" --listen 127.0.0.1:8090 2>"$DIR/b.log" & B=$!
for _ in $(seq 100); do grep -q listening "$DIR/a.log" 2>/dev/null && grep -q listening "$DIR/b.log" 2>/dev/null && break; sleep 0.1; done
BURNRATE_RUN=a-$$ BURNRATE_KEY=$KEY BURNRATE_POOL=load wrk -t1 -c32 -d"${SECONDS_}s" --latency -s bench/wrk-debits.lua http://127.0.0.1:8089 >"$DIR/wrk-a.txt" &
WA=$!
BURNRATE_RUN=b-$$ BURNRATE_KEY=$KEY BURNRATE_POOL=load wrk -t1 -c32 -d"${SECONDS_}s" --latency -s bench/wrk-debits.lua http://127.0.0.1:8090 >"$DIR/wrk-b.txt"
wait $WA
echo "-- instance A (port 8089)"; cat "$DIR/wrk-a.txt"
echo "-- instance B (port 8090)"; cat "$DIR/wrk-b.txt"
TOTAL=$(cat "$DIR/wrk-a.txt" "$DIR/wrk-b.txt" | awk '/^Requests\/sec:/ { s += $2 } END { printf "%.0f", s }')
echo "both instances: $TOTAL requests/s"
for port in 8089 8090; do
  curl -s "http://127.0.0.1:$port/v1/pools/load/balance" -H "Authorization: Bearer $KEY"; echo
  curl -s "http://127.0.0.1:$port/metrics" | grep -E '^burnrate_ledger_commit(s_total|_batch_size_(sum|count))'
done
kill -TERM $A $B; wait $A $B || true; A=; B=
"$BIN" ledger verify --store "$URL"

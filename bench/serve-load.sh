#!/bin/sh
# The README's load run of `burnrate serve`: a fresh ledger with a funded pool `load` and an
# identity key, the server on 127.0.0.1:8088, then wrk (Debian's) with bench/wrk-debits.lua,
# 2 threads x 64 connections for 20 s. Usage: bench/serve-load.sh [BURNRATE_BINARY] [SECONDS]
# With PERF=1 the server is also sampled by `perf record -g` (report: perf report -i DIR/perf.data).
set -eu
BIN=${1:-.build/release/burnrate}
SECONDS_=${2:-20}
DIR=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
"$BIN" ledger init --db "$DIR/load.db" >/dev/null
"$BIN" ledger pool add --db "$DIR/load.db" load >/dev/null
"$BIN" ledger fund --db "$DIR/load.db" --pool load --amount 1000000 --key fund-1 >/dev/null
"$BIN" ledger identity add --db "$DIR/load.db" gateway --pool load >/dev/null
KEY=$("$BIN" ledger key create --db "$DIR/load.db" --identity gateway --json | sed 's/.*"secret":"\([^"]*\)".*/\1/')
"$BIN" serve --db "$DIR/load.db" --listen 127.0.0.1:8088 2>"$DIR/serve.log" &
SERVER=$!
for _ in $(seq 50); do grep -q listening "$DIR/serve.log" 2>/dev/null && break; sleep 0.1; done
if [ "${PERF:-0}" = 1 ]; then perf record -e cpu-clock -F 499 -g -p $SERVER -o "$DIR/perf.data" >/dev/null 2>&1 & PERFPID=$!; fi
BURNRATE_KEY=$KEY BURNRATE_POOL=load wrk -t2 -c64 -d"${SECONDS_}s" --latency -s bench/wrk-debits.lua http://127.0.0.1:8088
if [ "${PERF:-0}" = 1 ]; then kill -INT $PERFPID; wait $PERFPID || true; echo "perf data: $DIR/perf.data"; fi
# What was acknowledged is in the ledger: stop the server (gracefully), then the pool's balance
# (1,000,000 credits less 0.000001 a debit) and the journal's check.
kill -TERM $SERVER; wait $SERVER || true
"$BIN" ledger balance --db "$DIR/load.db" --pool load
"$BIN" ledger verify --db "$DIR/load.db"

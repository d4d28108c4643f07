#!/usr/bin/env bash
# What the JIT does in a key-auth gateway after start-up: bash bench/jit.sh [rounds] [off]
# (default 16 rounds, about 4 minutes; `off`: the same gateway with key auth off, for a
# baseline's compilation log).
#
# Starts one gateway with key auth (in-process hits on one key, configuration (3)) and the JVM's
# compilation log, loads it in 10 s rounds, and prints per round the requests/s and the JIT
# compiler's cumulative seconds (jstat); then bench/jit_traps.py lists the deoptimizations after
# the first minute, those that involved the plugin's code, and the bursts of traps that periodic
# background work sets off.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${1:-16}
MODE=${2:-hit}
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
NAME=jit
LOG=$OUT/jit-compilation-$MODE.log
rm -f "$LOG"
GATEWAY_JAVA_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=$LOG"
source bench/side-by-side.sh
if [ "$MODE" = off ]; then
  start 8190 off --keyauth.enabled=false
  await 8190
  python3 bench/keys.py valid 1 > "$OUT/jit-one.key"
else
  start 8190 hit
  await 8190
  create_key 8191 '{"consumerId":"bench"}' > "$OUT/jit-one.key"
fi
pid=${GATEWAY_PID[8190]}
echo "round requests/s JIT-seconds-so-far"
for round in $(seq 1 "$ROUNDS"); do
  rps=$(KEYS_FILE=$OUT/jit-one.key wrk -t1 -c32 -d10s -s bench/keys.lua http://127.0.0.1:8190/bench/x 2>&1 \
    | grep '^RESULT' | tr ' ' '\n' | awk -F= '$1 == "rps" { printf "%.0f", $2 }')
  echo "$round $rps $(jstat -compiler "$pid" | awk 'NR == 2 { print $4 }')"
done
python3 bench/jit_traps.py "$LOG" 60 --methods dev.keyauth --bursts
# The JVM merges its compiler threads' part of the log (the inlining decisions) into the file only
# when it exits.
kill "$pid" && wait "$pid" 2>/dev/null || true
# Which shared call sites the plugin's side (Lettuce, R2DBC, its own background work) reached in
# the JIT's type profiles, and, once both logs exist, the Netty call sites whose profiles differ
# from the baseline's (bench/type_profiles.py).
if [ "$MODE" != off ]; then
  python3 bench/type_profiles.py "$LOG"
  [ ! -f "$OUT/jit-compilation-off.log" ] || python3 bench/type_profiles.py "$OUT/jit-compilation-off.log" "$LOG"
fi

#!/usr/bin/env bash
# What each gateway configuration costs while it serves nothing:
#   bash bench/idle.sh [SECONDS] ['label:gateway args[:jar]' ...] (about 3 minutes with the defaults).
#
# The background work of a gateway (heartbeats, timers, the JIT compiling what they run) takes
# CPU from its own request path under load, and from the other gateways on a shared machine.
# Idle, it is the only CPU the gateway uses, so it can be measured exactly: the gateways start
# side by side, settle for IDLE_SETTLE seconds (default 60) after the last is ready, and then
# each thread's CPU time (jstack's cpu=) is read twice, SECONDS apart (default 60). Prints each
# gateway's CPU per second and the threads that used the most.
set -euo pipefail
export LC_ALL=C # sort and join must agree on the order of thread names
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SECONDS_APART=${1:-60}
shift || true
SETTLE=${IDLE_SETTLE:-60}
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
NAME=idle
source bench/side-by-side.sh
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=('off:--keyauth.enabled=false' 'on:'
  'on, heartbeat 1 s:--keyauth.cache.invalidation.heartbeat-interval=1s --keyauth.cache.invalidation.unconfirmed-trust=3s'
  'on, no Redis:--keyauth.cache.redis.enabled=false')
LABELS=(); PORTS=()
port=8180
DEFAULT_JAR=$JAR
for spec in "${specs[@]}"; do
  IFS=: read -r label args jar <<< "$spec"
  JAR=${jar:-$DEFAULT_JAR} start "$port" "idle$port" $args
  LABELS+=("$label"); PORTS+=("$port")
  port=$((port + 10))
done
await "${PORTS[@]}"
log "settling for $SETTLE s"
sleep "$SETTLE"
threads() { # port -> "thread name|native id<TAB>CPU ms" per thread (names repeat)
  jstack "${GATEWAY_PID[$1]}" | sed -nE 's/^"([^"]*)".* cpu=([0-9.]+)ms .* nid=(0x[0-9a-f]+) .*/\1|\3\t\2/p' | sort
}
for p in "${PORTS[@]}"; do threads "$p" > "$OUT/idle-$p-before.txt"; done
sleep "$SECONDS_APART"
for p in "${PORTS[@]}"; do threads "$p" > "$OUT/idle-$p-after.txt"; done
{
  echo "Idle gateways: thread CPU over $SECONDS_APART s, $SETTLE s after the last was ready ($(date -u +%Y-%m-%dT%H:%MZ)," \
    "$(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo
  echo "| gateway | CPU ms per second | threads with the most CPU (ms per second) |"
  echo "|---|---:|---|"
  for i in "${!PORTS[@]}"; do
    p=${PORTS[$i]}
    # Threads that started between the two readings count from zero.
    join -t$'\t' -a2 -e0 -o 0,1.2,2.2 "$OUT/idle-$p-before.txt" "$OUT/idle-$p-after.txt" |
      awk -F'\t' -v label="${LABELS[$i]}" -v secs="$SECONDS_APART" '
        { d = ($3 - $2) / secs; total += d; sub(/\|[^|]*$/, "", $1); top[$1] += d }
        END {
          n = asorti(top, names, "@val_num_desc"); line = ""
          for (k = 1; k <= n && k <= 5 && top[names[k]] >= 0.1; k++) line = line (k > 1 ? ", " : "") names[k] sprintf(" %.1f", top[names[k]])
          printf "| %s | %.1f | %s |\n", label, total, line
        }'
  done
} | tee "$OUT/idle.md"

#!/usr/bin/env bash
# Builds (or settings) side by side, for the before and after of a hot-path change:
#   bash bench/builds.sh ROUNDS SECONDS 'label:jar:gateway args:JVM options:keys:path' ...
# e.g. (copy the jar of each build somewhere first; keys is "one" or "limited", default "one";
# path is the request path, default /bench/x, /public/x for the route that opts out of key auth):
#   bash bench/builds.sh 40 3 'off:/tmp/before.jar:--keyauth.enabled=false' \
#     'before:/tmp/before.jar' 'after:/tmp/after.jar' 'limited:/tmp/after.jar:::limited'
#
# JVM options with a colon (-XX:...) cannot be written in a specification: put them in a java
# argument file and pass that ('hit:/tmp/after.jar::@/tmp/jvm.args').
#
# Every specification gets its own gateway, all side by side as in compare.sh. After a 60 s
# warm-up each (BUILDS_WARMUP), every round loads each gateway for SECONDS, in a new random order
# per round so that no configuration always follows the same one, and the summary gives, for
# each, the median and quartiles of its per-round ratio to the first: requests/s and gateway CPU
# per request. Short windows and many rounds: on this VM the speed changes within seconds, so a
# ratio is only fair between windows close together.
#
# Identical gateways can differ for their whole lifetime (each JVM compiles its own way): in one
# run two of four key-auth gateways of one jar ran at the baseline's speed and two 9-11% below
# it, round after round (bench/results/builds-2026-12-01-r-forks.md). Label several gateways of
# each configuration group#fork ('off#1' 'off#2' ... 'hit#1' 'hit#2' ...) and the summary adds
# each group's median over its forks and the spread between them (bench/builds_forks.py).
#
# Latency: BUILDS_CONNECTIONS=4 loads each gateway with 4 connections instead of 32, where the
# machine is not saturated and p99 measures the gateway rather than the queue. The summary gives
# each gateway's p99 and, per round, its difference from the first's: a machine whose own tail
# moves by milliseconds from one minute to the next (p99 of 2.5 to 16 ms for the same baseline)
# cannot resolve 0.5 ms between configurations measured minutes apart, but can between windows
# seconds apart.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=$1
WINDOW=$2
shift 2
WARMUP=${BUILDS_WARMUP:-60}
export MEASURE_CONNECTIONS=${BUILDS_CONNECTIONS:-32}
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
NAME=builds
source bench/side-by-side.sh
LABELS=()
PORTS=()
KEYS=()
PATHS=()
port=8180
for spec in "$@"; do
  IFS=: read -r label jar args opts keys path <<< "$spec"
  JAR=$jar GATEWAY_JAVA_OPTS=$opts start "$port" "$label" $args
  LABELS+=("$label"); PORTS+=("$port"); KEYS+=("${keys:-one}"); PATHS+=("${path:-/bench/x}")
  port=$((port + 10))
done
await "${PORTS[@]}"
# Any key-auth gateway's admin endpoint will do: they share the bench database.
admin=""
for p in "${PORTS[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$((p + 1))/actuator/apikeys")
  [ "$code" = 200 ] && { admin=$((p + 1)); break; }
done
if [ -n "$admin" ]; then
  create_key "$admin" '{"consumerId":"bench"}' > "$OUT/builds-one.key"
  create_key "$admin" '{"consumerId":"bench-limited","rateLimit":{"requestsPerSecond":100000,"burst":1000000}}' \
    > "$OUT/builds-limited.key"
else
  # Only gateways without key auth (calibrate.sh): they forward whatever key they get.
  python3 bench/keys.py valid 1 > "$OUT/builds-one.key"
  cp "$OUT/builds-one.key" "$OUT/builds-limited.key"
fi
log "warming up each gateway for $WARMUP s"
for i in "${!PORTS[@]}"; do measure "${PORTS[$i]}" "$OUT/builds-${KEYS[$i]}.key" "$WARMUP" "${PATHS[$i]}" > /dev/null; done
: > "$OUT/builds-rounds.txt"
for round in $(seq 1 "$ROUNDS"); do
  declare -A RPS=() CPU=() P99=()
  for i in $(printf '%s\n' "${!PORTS[@]}" | shuf); do
    read -r rps cpu failed _ _ p99 < <(measure "${PORTS[$i]}" "$OUT/builds-${KEYS[$i]}.key" "$WINDOW" "${PATHS[$i]}")
    RPS[$i]=$rps; CPU[$i]=$cpu; P99[$i]=$p99
    [ "$failed" = 0 ] || log "round $round: $failed responses >= 400 from ${LABELS[$i]}"
  done
  line="$round"; for i in "${!PORTS[@]}"; do line+=" ${LABELS[$i]}=${RPS[$i]}/${CPU[$i]}/${P99[$i]}"; done
  echo "$line" >> "$OUT/builds-rounds.txt"
done
{
  echo "$ROUNDS rounds of $WINDOW s per gateway at $MEASURE_CONNECTIONS connections, random order, after $WARMUP s warm-ups ($(date -u +%Y-%m-%dT%H:%MZ)," \
    "$(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)); specifications: $*"
  echo
  python3 - "$OUT/builds-rounds.txt" "${LABELS[@]}" <<'PY'
import statistics, sys
rows = [dict(cell.split("=") for cell in line.split()[1:]) for line in open(sys.argv[1])]
labels = sys.argv[2:]
value = lambda row, label, i: float(row[label].split("/")[i])
def spread(values, digits):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values):.{digits}f} ({q[0]:.{digits}f}-{q[2]:.{digits}f})"
print(f"| gateway | requests/s (median) | CPU us per request (median) | requests/s over {labels[0]}: median (quartiles) "
      f"| CPU over {labels[0]}: median (quartiles) | p99 ms (median) | p99 minus {labels[0]}'s, ms: median (quartiles) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label in labels:
    cells = [spread([value(r, label, i) / value(r, labels[0], i) for r in rows], 3) for i in (0, 1)]
    p99 = [value(r, label, 2) / 1000 for r in rows]
    added = [(value(r, label, 2) - value(r, labels[0], 2)) / 1000 for r in rows]
    print(f"| {label} | {statistics.median(value(r, label, 0) for r in rows):.0f} | "
          f"{statistics.median(value(r, label, 1) for r in rows):.1f} | {cells[0]} | {cells[1]} | "
          f"{statistics.median(p99):.2f} | {spread(added, 2)} |")
PY
  # Labels written group#fork (off#1, off#2, hit#1, ...): several gateways of one configuration.
  case "$*" in *'#'*) echo; python3 bench/builds_forks.py "$OUT/builds-rounds.txt" ;; esac
} | tee "$OUT/builds.md"

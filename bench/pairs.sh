#!/usr/bin/env bash
# Paired comparison: bash bench/pairs.sh [rounds] (default 8, about 15 minutes).
#
# compare.sh runs one configuration at a time, so a change in the VM's speed between two 10 s
# runs (consecutive runs of the same gateway here differ by up to 25%) lands in the ratio. Here
# the two gateways of a pair are loaded at the same moment, each by its own wrk over its own 32
# connections: a slowdown of the machine hits both alike, and the ratios that count are
#   - requests/s of B over A (both get about the same share of the cores), and
#   - the gateway CPU time per request of B over A (from /proc), which does not depend on that
#     share at all.
# An A/A pair, two identical gateways without key auth, shows what the method itself reads for
# "no difference". Each round also reports the seconds each gateway's JIT compiler spent on
# compilations (jstat: elapsed time of the compile tasks, so on busy cores more than their CPU),
# because a gateway that keeps recompiling pays for it out of the same two cores.
#
# Pairs (PAIRS_ONLY="AA 3" runs only those; PAIRS_WARMUP sets the warm-up, default 120 s per
# pair), A always the gateway without key auth receiving the key header:
#   AA  another gateway without key auth
#   3   key auth, in-process hit, one key
#   3m  key auth, in-process hit, 100 keys taken in turn
#   6   key auth + per-key rate limit
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${1:-8}
WARMUP=${PAIRS_WARMUP:-120}
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
NAME=pairs
source bench/side-by-side.sh
jit_seconds() { jstat -compiler "$1" | awk 'NR == 2 { print $4 }'; }
result() { tr ' ' '\n' < "$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
pair() { # seconds portA keysA portB keysB -> "rpsA cpuA jitA rpsB cpuB jitB"
  local pa=${GATEWAY_PID[$2]} pb=${GATEWAY_PID[$4]} a0 b0 ja jb wa wb
  a0=$(cpu_ticks "$pa"); b0=$(cpu_ticks "$pb"); ja=$(jit_seconds "$pa"); jb=$(jit_seconds "$pb")
  KEYS_FILE=$3 wrk -t1 -c32 -d"$1s" -s bench/keys.lua "http://127.0.0.1:$2/bench/x" 2>&1 | grep '^RESULT' > "$OUT/pair-a.txt" &
  wa=$!
  KEYS_FILE=$5 wrk -t1 -c32 -d"$1s" -s bench/keys.lua "http://127.0.0.1:$4/bench/x" 2>&1 | grep '^RESULT' > "$OUT/pair-b.txt" &
  wb=$!
  wait "$wa" "$wb"
  awk -v ra="$(result "$OUT/pair-a.txt" rps)" -v na="$(result "$OUT/pair-a.txt" requests)" \
    -v rb="$(result "$OUT/pair-b.txt" rps)" -v nb="$(result "$OUT/pair-b.txt" requests)" \
    -v ca=$(($(cpu_ticks "$pa") - a0)) -v cb=$(($(cpu_ticks "$pb") - b0)) -v hz="$TICK" \
    -v ja0="$ja" -v ja1="$(jit_seconds "$pa")" -v jb0="$jb" -v jb1="$(jit_seconds "$pb")" \
    'BEGIN { printf "%.0f %.1f %.2f %.0f %.1f %.2f\n", ra, ca * 1e6 / hz / na, ja1 - ja0, rb, cb * 1e6 / hz / nb, jb1 - jb0 }'
}

start 8180 off --keyauth.enabled=false
start 8230 off-twin --keyauth.enabled=false
start 8190 hit
start 8240 hit-many
start 8200 limited
await 8180 8230 8190 8240 8200
create_key 8191 '{"consumerId":"bench"}' > "$OUT/pairs-one.key"
create_key 8191 '{"consumerId":"bench-limited","rateLimit":{"requestsPerSecond":100000,"burst":1000000}}' > "$OUT/pairs-limited.key"
: > "$OUT/pairs-many.key"
for i in $(seq 1 100); do create_key 8191 "{\"consumerId\":\"bench-$i\"}" >> "$OUT/pairs-many.key"; done
PAIRS=("AA 8180 $OUT/pairs-one.key 8230 $OUT/pairs-one.key" "3 8180 $OUT/pairs-one.key 8190 $OUT/pairs-one.key"
  "3m 8180 $OUT/pairs-one.key 8240 $OUT/pairs-many.key" "6 8180 $OUT/pairs-one.key 8200 $OUT/pairs-limited.key")
if [ -n "${PAIRS_ONLY:-}" ]; then # e.g. PAIRS_ONLY="AA 3": only those pairs
  KEPT=(); for p in "${PAIRS[@]}"; do set -- $p; [[ " $PAIRS_ONLY " == *" $1 "* ]] && KEPT+=("$p"); done; PAIRS=("${KEPT[@]}")
fi
log "warming up each pair for $WARMUP s"
for p in "${PAIRS[@]}"; do set -- $p; pair "$WARMUP" "$2" "$3" "$4" "$5" > /dev/null; done

{
  echo "Each cell: B/A requests/s ratio, B/A gateway CPU per request ratio; in brackets B's requests/s, CPU us per request and JIT seconds, then A's."
  echo
  labels=""; rule=""; for p in "${PAIRS[@]}"; do set -- $p; labels+=" $1 |"; rule+="---|"; done
  echo "| round |$labels"
  echo "|---:|$rule"
} > "$OUT/pairs.md"
declare -A RPS_RATIOS CPU_RATIOS
for round in $(seq 1 "$ROUNDS"); do
  row="| $round |"
  for p in "${PAIRS[@]}"; do
    set -- $p
    read -r ra ca ja rb cb jb < <(pair 10 "$2" "$3" "$4" "$5")
    r=$(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.3f", b / a }')
    c=$(awk -v a="$ca" -v b="$cb" 'BEGIN { printf "%.3f", b / a }')
    RPS_RATIOS[$1]+="$r "; CPU_RATIOS[$1]+="$c "
    row+=" $r, $c ($rb, $cb, $jb / $ra, $ca, $ja) |"
  done
  log "round $round: $row"
  echo "$row" >> "$OUT/pairs.md"
done
median() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
  echo
  echo "Medians of $ROUNDS rounds (10 s, pairs loaded together, after $WARMUP s warm-ups; $(date -u +%Y-%m-%dT%H:%MZ)," \
    "$(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)), requests/s B/A and CPU per request B/A:"
  for p in "${PAIRS[@]}"; do
    set -- $p
    echo "- $1: $(median "${RPS_RATIOS[$1]}") and $(median "${CPU_RATIOS[$1]}")"
  done
} >> "$OUT/pairs.md"
cat "$OUT/pairs.md"

#!/usr/bin/env bash
# Which threads carry the extra CPU of key auth: bash bench/threads.sh [ROUNDS] [SECONDS]
# (default 20 rounds of 3 s, about 6 minutes).
#
# Starts the gateway without key auth (2) and with an in-process hit (3) side by side, as
# compare.sh does, warms each up for 60 s (THREADS_WARMUP), then loads each in turn, in a new
# random order per round, reading every thread's CPU time from /proc before and after. Threads
# are grouped by name without their numbers (reactor-http-epoll, C2 CompilerThread, GC Thread,
# lettuce-epollEventLoop, parallel, ...); the table gives each group's median CPU microseconds
# per request in (2) and (3) and the median of the per-round differences. Profiles (profile.sh)
# say which frames cost what; this says whether the rest is request work (the event loops) or
# background work (JIT, GC, Redis heartbeats, usage flushes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${1:-20}
WINDOW=${2:-3}
WARMUP=${THREADS_WARMUP:-60}
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
NAME=threads
source bench/side-by-side.sh

thread_ticks() { # pid -> "group<TAB>ticks" per thread group
  local task
  for task in /proc/"$1"/task/*; do
    awk -v name="$(cat "$task/comm" 2>/dev/null)" '{ print name "\t" $14 + $15 }' "$task/stat" 2>/dev/null || true
  done | sed -E 's/[-#_ ]?[0-9]+\t/\t/' | awk -F'\t' '{ s[$1] += $2 } END { for (g in s) print g "\t" s[g] }' | LC_ALL=C sort -t $'\t' -k1,1
}

start 8180 off --keyauth.enabled=false
start 8190 hit
await 8180 8190
create_key 8191 '{"consumerId":"bench"}' > "$OUT/threads-one.key"
log "warming up each gateway for $WARMUP s"
for port in 8180 8190; do measure "$port" "$OUT/threads-one.key" "$WARMUP" /bench/x > /dev/null; done
: > "$OUT/threads-rows.txt"
for round in $(seq 1 "$ROUNDS"); do
  for port in $(printf '8180\n8190\n' | shuf); do
    pid=${GATEWAY_PID[$port]}
    thread_ticks "$pid" > "$OUT/threads-before.txt"
    read -r _ _ _ requests < <(measure "$port" "$OUT/threads-one.key" "$WINDOW" /bench/x)
    thread_ticks "$pid" > "$OUT/threads-after.txt"
    LC_ALL=C join -t $'\t' "$OUT/threads-before.txt" "$OUT/threads-after.txt" | awk -F'\t' -v r="$round" -v p="$port" \
      -v n="$requests" -v hz="$TICK" '{ printf "%s\t%s\t%s\t%.3f\n", r, p, $1, ($3 - $2) * 1e6 / hz / n }' \
      >> "$OUT/threads-rows.txt"
  done
done
{
  echo "$ROUNDS rounds of $WINDOW s per gateway, random order, after $WARMUP s warm-ups ($(date -u +%Y-%m-%dT%H:%MZ)," \
    "$(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo
  python3 - "$OUT/threads-rows.txt" <<'PY'
import collections, statistics, sys
cpu = collections.defaultdict(dict)  # (round, port) -> group -> us per request
for line in open(sys.argv[1]):
    round_, port, group, us = line.rstrip("\n").split("\t")
    cpu[(round_, port)][group] = float(us)
rounds = sorted({r for r, _ in cpu}, key=int)
groups = sorted({g for row in cpu.values() for g in row})
print("| thread group | (2) CPU us per request | (3) CPU us per request | (3) - (2), median of rounds |")
print("|---|---:|---:|---:|")
for group in groups + ["all threads"]:
    def value(r, port):
        row = cpu[(r, port)]
        return sum(row.values()) if group == "all threads" else row.get(group, 0.0)
    off = [value(r, "8180") for r in rounds]
    hit = [value(r, "8190") for r in rounds]
    if max(off + hit) < 0.005:
        continue
    diff = statistics.median(h - o for o, h in zip(off, hit))
    print(f"| {group} | {statistics.median(off):.2f} | {statistics.median(hit):.2f} | {diff:+.2f} |")
PY
} | tee "$OUT/threads.md"

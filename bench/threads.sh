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
# background work (JIT, GC, Redis heartbeats, usage flushes). A second table counts each group's
# context switches per 1000 requests from /proc/<pid>/task/*/status: voluntary ones are an event
# loop going to sleep in epoll_wait (and so, usually, a wake-up by another thread or the kernel
# later), involuntary ones the scheduler taking the core away.
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

thread_ticks() { # pid -> "group<TAB>ticks<TAB>voluntary switches<TAB>involuntary switches" per thread group
  python3 - "$1" <<'PY'
import collections, glob, re, sys
groups = collections.defaultdict(lambda: [0, 0, 0])
for task in glob.glob(f"/proc/{sys.argv[1]}/task/*"):
    try:
        stat = open(f"{task}/stat").read()
        status = dict(line.split(":", 1) for line in open(f"{task}/status").read().splitlines() if ":" in line)
    except OSError:
        continue  # the thread ended meanwhile
    # The name sits in parentheses and may hold spaces: count fields from the last ')'.
    name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
    group = groups[re.sub(r"[-#_ ]?[0-9]+$", "", name)]
    group[0] += int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15 of stat)
    group[1] += int(status["voluntary_ctxt_switches"])
    group[2] += int(status["nonvoluntary_ctxt_switches"])
for name in sorted(groups):
    print(name, *groups[name], sep="\t")
PY
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
    read -r _ _ _ requests _ < <(measure "$port" "$OUT/threads-one.key" "$WINDOW" /bench/x)
    thread_ticks "$pid" > "$OUT/threads-after.txt"
    LC_ALL=C join -t $'\t' "$OUT/threads-before.txt" "$OUT/threads-after.txt" | awk -F'\t' -v r="$round" -v p="$port" \
      -v n="$requests" -v hz="$TICK" '{ printf "%s\t%s\t%s\t%.3f\t%.2f\t%.2f\n", r, p, $1, ($5 - $2) * 1e6 / hz / n,
        ($6 - $3) * 1000 / n, ($7 - $4) * 1000 / n }' \
      >> "$OUT/threads-rows.txt"
  done
done
{
  echo "$ROUNDS rounds of $WINDOW s per gateway, random order, after $WARMUP s warm-ups ($(date -u +%Y-%m-%dT%H:%MZ)," \
    "$(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo
  python3 - "$OUT/threads-rows.txt" <<'PY'
import collections, statistics, sys
# (round, port) -> group -> (CPU us, voluntary switches, involuntary switches) per request or per 1000
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    round_, port, group, *values = line.rstrip("\n").split("\t")
    rows[(round_, port)][group] = [float(v) for v in values]
rounds = sorted({r for r, _ in rows}, key=int)
groups = sorted({g for row in rows.values() for g in row})

def table(column, title, unit, floor):
    print(f"| thread group | (2) {unit} | (3) {unit} | (3) - (2), median of rounds |")
    print("|---|---:|---:|---:|")
    for group in groups + ["all threads"]:
        def value(r, port):
            row = rows[(r, port)]
            if group == "all threads":
                return sum(v[column] for v in row.values())
            return row[group][column] if group in row else 0.0
        off = [value(r, "8180") for r in rounds]
        hit = [value(r, "8190") for r in rounds]
        if max(off + hit) < floor:
            continue
        diff = statistics.median(h - o for o, h in zip(off, hit))
        print(f"| {group} | {statistics.median(off):.2f} | {statistics.median(hit):.2f} | {diff:+.2f} |")
    print()

table(0, "CPU", "CPU us per request", 0.005)
print("Context switches per 1000 requests, voluntary (the thread went to sleep):")
print()
table(1, "voluntary", "voluntary", 0.5)
print("Involuntary (the scheduler took the core away):")
print()
table(2, "involuntary", "involuntary", 0.5)
PY
} | tee "$OUT/threads.md"

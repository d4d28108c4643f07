#!/usr/bin/env bash
# What key auth's background I/O costs the request path, without the filter's per-request work:
# bash bench/background.sh [ROUNDS] [FORKS] (about 35 minutes with the defaults, 25 and 3).
#
# Side by side, as builds.sh runs them, FORKS gateways each of four configurations:
#   off   key auth off, requests to /bench/x (the baseline, (2));
#   hit   key auth on, requests to /bench/x with a valid key (an in-process hit, (3));
#   offp  key auth off, requests to /public/x;
#   bgp   key auth on, requests to /public/x, a route that opts out of key auth, while a bench-only
#         driver (bench/background/BackgroundDriver.java) makes the plugin do the background I/O of
#         a busy key: its refresh-ahead through Redis and PostgreSQL, usage flushes every 30 s,
#         and the invalidation heartbeats that run anyway.
# hit/off is what key auth costs; bgp/offp what the same gateway costs when the filter does
# nothing per request but the plugin's background work still runs. The driver is compiled
# against the gateway jar's own libraries and put on every gateway's class path
# (GATEWAY_LOADER_PATH), so all gateways start the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${1:-25}
FORKS=${2:-3}
WINDOW=${BACKGROUND_WINDOW:-3}
OUT=${BENCH_OUT:-$ROOT/bench/target}
JAR=$ROOT/gateway-app/target/gateway-app.jar
[ -f "$JAR" ] && [ -z "${BENCH_REBUILD:-}" ] || ./mvnw -B -q -DskipTests package
WORK=$OUT/background
rm -rf "$WORK" && mkdir -p "$WORK/lib" "$WORK/classes/META-INF/spring"
(cd "$WORK/lib" && unzip -q "$JAR" 'BOOT-INF/lib/*')
javac -nowarn -d "$WORK/classes" -cp "$(find "$WORK/lib" -name '*.jar' | tr '\n' ':')" bench/background/*.java
echo dev.keyauth.bench.background.BackgroundDriverAutoConfiguration \
  > "$WORK/classes/META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports"
(cd "$WORK/classes" && jar cf "$WORK/background-driver.jar" .)
off=--keyauth.enabled=false
specs=()
for fork in $(seq 1 "$FORKS"); do
  specs+=("off#$fork:$JAR:$off" "hit#$fork:$JAR" "offp#$fork:$JAR:$off:::/public/x"
    "bgp#$fork:$JAR:--bench.background-driver=true:::/public/x")
done
GATEWAY_LOADER_PATH=$WORK/background-driver.jar BENCH_OUT=$OUT bash bench/builds.sh "$ROUNDS" "$WINDOW" "${specs[@]}" > /dev/null
{
  sed '/^| configuration | forks/,$d' "$OUT/builds.md"
  python3 - "$OUT/builds-rounds.txt" <<'PY'
import statistics, sys
sys.path.insert(0, "bench")
from builds_forks import read_rounds, fork_groups, pooled, value, REQUESTS, CPU
rows = read_rounds(sys.argv[1])
groups = fork_groups(rows)
print("| comparison | requests/s ratio: median of forks (lowest-highest fork) | CPU per request ratio | "
      "per round, mean of forks: requests/s ratio median (quartiles) |")
print("|---|---:|---:|---:|")
for name, group, reference in (("hit/off: key auth", "hit", "off"),
                               ("bgp/offp: background I/O only", "bgp", "offp"),
                               ("offp/off: the other route", "offp", "off")):
    cells = [pooled(rows, groups[group], groups[reference], i) for i in (REQUESTS, CPU)]
    per_round = [statistics.mean(value(r, l, REQUESTS) for l in groups[group])
                 / statistics.mean(value(r, l, REQUESTS) for l in groups[reference]) for r in rows]
    q = statistics.quantiles(per_round, n=4)
    print(f"| {name} | " + " | ".join(f"{m:.3f} ({lo:.3f}-{hi:.3f})" for m, lo, hi in cells)
          + f" | {statistics.median(per_round):.3f} ({q[0]:.3f}-{q[2]:.3f}) |")
PY
} | tee "$OUT/background.md"

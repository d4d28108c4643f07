#!/usr/bin/env bash
# What a known amount of filter work costs in throughput here: bash bench/calibrate.sh [ROUNDS]
# (about 20 minutes with the default 30 rounds).
#
# Starts, side by side as builds.sh does, gateways without key auth that differ only in a
# calibration filter (bench/calibration/WorkFilter.java) doing 0, 24 or 48 SHA-256 digests of a
# key-sized array per request, and gateways with key auth (an in-process hit), two gateways
# (forks) of each, because identical JVMs can differ by several percent for their whole
# lifetime. Then it fits throughput and gateway CPU to the work (bench/calibrate_fit.py): what
# one digest's worth of filter work costs in throughput and CPU, where key auth falls on that
# line, and how much work the 97% target leaves a filter. The levels are large so that the
# line stands out of the noise; small amounts of work are read off it, assuming it is straight.
# The filter is compiled against the gateway jar's own libraries and put on every gateway's
# class path (GATEWAY_LOADER_PATH), so all of them start the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${1:-30}
WINDOW=${CALIBRATE_WINDOW:-2}
OUT=${BENCH_OUT:-$ROOT/bench/target}
JAR=$ROOT/gateway-app/target/gateway-app.jar
[ -f "$JAR" ] && [ -z "${BENCH_REBUILD:-}" ] || ./mvnw -B -q -DskipTests package
WORK=$OUT/calibration
rm -rf "$WORK" && mkdir -p "$WORK/lib" "$WORK/classes/META-INF/spring"
(cd "$WORK/lib" && unzip -q "$JAR" 'BOOT-INF/lib/*')
javac -nowarn -d "$WORK/classes" -cp "$(find "$WORK/lib" -name '*.jar' | tr '\n' ':')" bench/calibration/*.java
echo dev.keyauth.bench.calibration.WorkFilterAutoConfiguration \
  > "$WORK/classes/META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports"
(cd "$WORK/classes" && jar cf "$WORK/work-filter.jar" .)
off=--keyauth.enabled=false
specs=()
for fork in 1 2; do
  for n in 0 24 48; do specs+=("w$n#$fork:$JAR:$off --bench.work-rounds=$n"); done
  specs+=("hit#$fork:$JAR")
done
GATEWAY_LOADER_PATH=$WORK/work-filter.jar BENCH_OUT=$OUT bash bench/builds.sh "$ROUNDS" "$WINDOW" "${specs[@]}" > /dev/null
{
  # builds.sh's own table of the gateways; calibrate_fit.py gives the per-configuration one.
  sed '/^| configuration | forks/,$d' "$OUT/builds.md"
  python3 bench/calibrate_fit.py "$OUT/builds-rounds.txt"
} | tee "$OUT/calibrate.md"

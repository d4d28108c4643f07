#!/usr/bin/env bash
# The long hardening checks of issue #7, not run by .ci/run: bash bench/hardening.sh [all|faults|timing|flood|soak]
#   faults  (~2 min) stops and restarts Redis and PostgreSQL under load, then 1000 concurrent key
#           creations (bench/faults.py). It stops this machine's PostgreSQL and Redis for a few
#           seconds at a time and starts them again.
#   timing  (~1 min) unknown keys similar to a real one vs unrelated ones (bench/timing.py)
#   flood   (~1 min) real keys used for the first time while invented, checksum-valid keys flood
#           the gateway (bench/flood.py)
#   soak    (SOAK_MINUTES, default 10, plus 1 of warm-up) steady load, heap flat (bench/soak.py)
# Each prints its checks and exits non-zero if one fails; output also goes to bench/target/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WHAT=${1:-all}
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
export BENCH_OUT=$OUT
DB=keyauth_hardening
JAR=$ROOT/gateway-app/target/gateway-app.jar
UP_PORT=9100

log() { printf '[hardening] %s\n' "$*" >&2; }
command -v wrk >/dev/null 2>&1 || { log "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
pg_isready -h 127.0.0.1 -q || { log "PostgreSQL is not running on 127.0.0.1:5432"; exit 1; }
redis-cli -h 127.0.0.1 ping >/dev/null || { log "Redis is not running on 127.0.0.1:6379"; exit 1; }
[ -f "$JAR" ] && [ -z "${BENCH_REBUILD:-}" ] || { log "building"; ./mvnw -B -q -DskipTests package; }
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null

UPSTREAM=
if ! curl -sf "http://127.0.0.1:$UP_PORT/" >/dev/null 2>&1; then
  java -cp "$JAR" -Dloader.main=dev.keyauth.gateway.demo.BenchUpstream \
    org.springframework.boot.loader.launch.PropertiesLauncher $UP_PORT > "$OUT/upstream.log" 2>&1 &
  UPSTREAM=$!
  trap 'kill $UPSTREAM 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$UP_PORT/" >/dev/null 2>&1 && break; sleep 0.5; done
fi

status=0
if [ "$WHAT" = all ] || [ "$WHAT" = faults ]; then
  log "faults under load, then 1000 concurrent creations"
  python3 bench/faults.py "$JAR" "$ROOT" "$DB" 2>&1 | tee "$OUT/hardening-faults.txt" || status=1
fi
if [ "$WHAT" = all ] || [ "$WHAT" = timing ]; then
  log "timing of refusals: keys near a real one vs unrelated keys"
  python3 bench/timing.py "$JAR" "$ROOT" "$DB" 2>&1 | tee "$OUT/hardening-timing.txt" || status=1
fi
if [ "$WHAT" = all ] || [ "$WHAT" = flood ]; then
  log "real keys during a flood of distinct invented keys"
  python3 bench/flood.py "$JAR" "$ROOT" "$DB" 2>&1 | tee "$OUT/hardening-flood.txt" || status=1
fi
if [ "$WHAT" = all ] || [ "$WHAT" = soak ]; then
  log "soak: ${SOAK_MINUTES:-10} minutes"
  python3 bench/soak.py "$JAR" "$ROOT" "$DB" "${SOAK_MINUTES:-10}" 2>&1 | tee "$OUT/hardening-soak.txt" || status=1
fi
exit $status

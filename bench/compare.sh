#!/usr/bin/env bash
# Interleaved comparison of the gateway without key auth, with key auth (in-process hit), with key
# auth plus a per-key rate limit, and with key auth on but the route opted out (the plugin present,
# the authentication itself skipped): bash bench/compare.sh [rounds] (default 6, ~9 minutes).
#
# Consecutive full runs on this 2-core VM differ by up to 25% (other tenants, the kernel's own
# threads), more than the effects measured. So both gateways run side by side (one without key
# auth, one with it; only the one under load uses CPU), each configuration is warmed up for 60 s,
# and then short runs alternate A, B, C, A, B, C, ...: drift hits neighbouring runs alike, and the
# median of the per-round ratios is the figure to quote.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${1:-6}
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
TOKEN=bench-token; DB=keyauth_bench; UP_PORT=9100
JAR=$ROOT/gateway-app/target/gateway-app.jar
PIDS=()
log() { printf '[compare] %s\n' "$*" >&2; }
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

command -v wrk >/dev/null 2>&1 || { log "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[ -f "$JAR" ] && [ -z "${BENCH_REBUILD:-}" ] || { log "building"; ./mvnw -B -q -DskipTests package; }
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
java -cp "$JAR" -Dloader.main=dev.keyauth.gateway.demo.BenchUpstream \
  org.springframework.boot.loader.launch.PropertiesLauncher $UP_PORT > "$OUT/upstream.log" 2>&1 &
PIDS+=($!)

start() { # port mgmt name args...
  local port=$1 mgmt=$2 name=$3; shift 3
  GATEWAY_PORT=$port MANAGEMENT_PORT=$mgmt KEYAUTH_ADMIN_TOKEN=$TOKEN BENCH_UPSTREAM_PORT=$UP_PORT \
  GATEWAY_ROUTES_LOCATION=file:$ROOT/bench/routes.yml \
  KEYAUTH_DB_URL=r2dbc:postgresql://127.0.0.1:5432/$DB KEYAUTH_DB_USER=postgres KEYAUTH_REDIS_URL=redis://127.0.0.1:6379 \
    java -jar "$JAR" "$@" > "$OUT/gateway-compare-$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$mgmt/actuator/health/readiness" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "gateway $name did not start"; exit 1
}
create_key() {
  curl -sf -X POST "http://127.0.0.1:8191/actuator/apikeys" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$1" | python3 -c 'import sys,json;print(json.load(sys.stdin)["key"])'
}
rps() { # port keysfile seconds [path]
  KEYS_FILE=$2 wrk -t1 -c32 -d"$3s" -s bench/keys.lua "http://127.0.0.1:$1${4:-/bench/x}" 2>&1 | \
    grep '^RESULT' | tr ' ' '\n' | grep '^rps=' | cut -d= -f2
}

start 8180 8181 off --keyauth.enabled=false
start 8190 8191 on
create_key '{"consumerId":"bench"}' > "$OUT/compare-one.key"
create_key '{"consumerId":"bench-limited","rateLimit":{"requestsPerSecond":100000,"burst":1000000}}' > "$OUT/compare-limited.key"
: > "$OUT/compare-none.key"
log "warming up each configuration for 60 s"
rps 8180 "" 60 >/dev/null; rps 8190 "$OUT/compare-one.key" 60 >/dev/null; rps 8190 "$OUT/compare-limited.key" 60 >/dev/null
rps 8190 "" 60 /public/x >/dev/null

{
  echo "| round | (2) key auth off | (3) in-process hit | (6) + rate limit | (p) key auth on, route opted out | (3)/(2) | (6)/(2) | (p)/(2) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$OUT/compare.md"
R3=(); R6=(); RP=()
for round in $(seq 1 "$ROUNDS"); do
  a=$(rps 8180 "" 10); b=$(rps 8190 "$OUT/compare-one.key" 10); c=$(rps 8190 "$OUT/compare-limited.key" 10)
  p=$(rps 8190 "" 10 /public/x)
  r3=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }'); r6=$(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.3f", c / a }')
  rp=$(awk -v a="$a" -v p="$p" 'BEGIN { printf "%.3f", p / a }')
  R3+=("$r3"); R6+=("$r6"); RP+=("$rp")
  log "round $round: off $a, hit $b, rate limit $c, opted-out route $p requests/s"
  echo "| $round | $a | $b | $c | $p | $r3 | $r6 | $rp |" >> "$OUT/compare.md"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
  echo
  echo "Median of $ROUNDS rounds (10 s each, after 60 s warm-ups; $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores):" \
    "(3)/(2) = $(median "${R3[@]}"), (6)/(2) = $(median "${R6[@]}"), (p)/(2) = $(median "${RP[@]}")."
} >> "$OUT/compare.md"
cat "$OUT/compare.md"

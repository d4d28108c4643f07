#!/usr/bin/env bash
# Benchmarks of key auth, side by side, in one run: bash bench/run.sh [quick|full]
# quick (under 2 minutes): the gateway without key auth, key auth with an in-process hit, and the
#   invalid-key floods, 6 s each after a 6 s warm-up: a check on every change, not a measurement.
# full (~20 minutes): every configuration after a 60 s warm-up (the JIT needs that long on two
#   cores: throughput keeps climbing for the first ~40 s), PostgreSQL with 1 million keys, heap
#   with 100 thousand keys in use, 100 revocations across two instances.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-quick}
case "$MODE" in
  quick) DURATION=6; WARMUP=6; CONNECTIONS=32; SCALE_KEYS=0; MEMORY_KEYS=0; REVOCATIONS=0 ;;
  full) DURATION=30; WARMUP=60; CONNECTIONS=32; SCALE_KEYS=1000000; MEMORY_KEYS=100000; REVOCATIONS=100 ;;
  core) DURATION=30; WARMUP=60; CONNECTIONS=32; SCALE_KEYS=0; MEMORY_KEYS=0; REVOCATIONS=0 ;;
  *) echo "usage: bench/run.sh [quick|core|full]"; exit 2 ;;
esac
# Latency is compared at a load the machine is not saturated by: with 32 connections every
# configuration queues, and p99 measures the queue (tens of ms, moving by +-20 ms between runs).
LATENCY_CONNECTIONS=4
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
RESULTS=$OUT/results-$MODE.md
GW_PORT=8180; MGMT_PORT=8181; UP_PORT=9100; TOKEN=bench-token
DB=keyauth_bench
JAR=$ROOT/gateway-app/target/gateway-app.jar
PIDS=()

log() { printf '[bench] %s\n' "$*" >&2; }
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

command -v wrk >/dev/null 2>&1 || { log "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
pg_isready -h 127.0.0.1 -q || { log "PostgreSQL is not running on 127.0.0.1:5432 (bash .ci/run starts it)"; exit 1; }
redis-cli -h 127.0.0.1 ping >/dev/null || { log "Redis is not running on 127.0.0.1:6379"; exit 1; }
[ -f "$JAR" ] && [ -z "${BENCH_REBUILD:-}" ] || { log "building"; ./mvnw -B -q -DskipTests package; }

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
redis-cli -h 127.0.0.1 --scan --pattern 'keyauth:*' | xargs -r redis-cli -h 127.0.0.1 del >/dev/null

java -cp "$JAR" -Dloader.main=dev.keyauth.gateway.demo.BenchUpstream \
  org.springframework.boot.loader.launch.PropertiesLauncher $UP_PORT > "$OUT/upstream.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$UP_PORT/" >/dev/null 2>&1 && break; sleep 0.5; done

GW_PID=
start_gateway() { # name, then extra --args
  local name=$1; shift
  GATEWAY_PORT=$GW_PORT MANAGEMENT_PORT=$MGMT_PORT KEYAUTH_ADMIN_TOKEN=$TOKEN BENCH_UPSTREAM_PORT=$UP_PORT \
  GATEWAY_ROUTES_LOCATION=file:$ROOT/bench/routes.yml \
  KEYAUTH_DB_URL=r2dbc:postgresql://127.0.0.1:5432/$DB KEYAUTH_DB_USER=postgres \
  KEYAUTH_REDIS_URL=redis://127.0.0.1:6379 \
    java -jar "$JAR" "$@" > "$OUT/gateway-$name.log" 2>&1 &
  GW_PID=$!
  PIDS+=($GW_PID)
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$MGMT_PORT/actuator/health/readiness" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "gateway $name did not start; see $OUT/gateway-$name.log"; exit 1
}
stop_gateway() { kill "$GW_PID" 2>/dev/null || true; wait "$GW_PID" 2>/dev/null || true; }

create_key() { # json body -> key
  curl -sf -X POST "http://127.0.0.1:$MGMT_PORT/actuator/apikeys" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$1" | python3 -c 'import sys,json;print(json.load(sys.stdin)["key"])'
}

metric() { # prometheus metric line prefix -> value (sum of matching series)
  curl -s "http://127.0.0.1:$MGMT_PORT/actuator/prometheus" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%d", s}'
}

WRK_LAST=
run_wrk() { # url keysfile(or "") -> sets WRK_LAST to the RESULT line
  local url=$1 keys=${2:-}
  KEYS_FILE=$keys wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s bench/keys.lua "$url" >/dev/null 2>&1 || true
  WRK_LAST=$(KEYS_FILE=$keys wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/keys.lua "$url" 2>&1 | grep '^RESULT')
}
field() { echo "$WRK_LAST" | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }

declare -A LAT_RPS LAT_P50 LAT_P99 LAT_P999
run_latency() { # label url keysfile: right after run_wrk, so the gateway is warm
  local line
  line=$(KEYS_FILE=${3:-} wrk -t1 -c"$LATENCY_CONNECTIONS" -d"${DURATION}s" -s bench/keys.lua "$2" 2>&1 | grep '^RESULT')
  lf() { echo "$line" | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }
  LAT_RPS[$1]=$(lf rps); LAT_P50[$1]=$(lf p50_us); LAT_P99[$1]=$(lf p99_us); LAT_P999[$1]=$(lf p999_us)
  log "$1 at $LATENCY_CONNECTIONS connections: ${LAT_RPS[$1]} rps, p50 ${LAT_P50[$1]} us, p99 ${LAT_P99[$1]} us"
}

declare -A RPS P50 P99 P999 ERR
record() { # label
  RPS[$1]=$(field rps); P50[$1]=$(field p50_us); P99[$1]=$(field p99_us); P999[$1]=$(field p999_us)
  ERR[$1]=$(( $(field errors) + $(field non2xx) ))
  log "$1: ${RPS[$1]} rps, p50 ${P50[$1]} us, p99 ${P99[$1]} us, p99.9 ${P999[$1]} us, errors ${ERR[$1]}"
}

URL=http://127.0.0.1:$GW_PORT/bench/x

FULL=$([ "$MODE" = full ] && echo 1 || echo "")
# core: (2), (3) and (6) with full warm-up, for a before/after of a change to the hot path.
CORE=$([ "$MODE" = full ] || [ "$MODE" = core ] && echo 1 || echo "")
if [ -n "$FULL" ]; then
  log "(1) downstream directly"
  run_wrk "http://127.0.0.1:$UP_PORT/bench/x"; record "1 downstream directly"
fi

log "(2) gateway, key auth off"
# The same requests as (3): a key header of the same size, which this gateway simply forwards.
python3 -c 'import random, string; a = string.digits + string.ascii_letters; print("sk_live_" + "".join(random.choice(a) for _ in range(49)))' \
  > "$OUT/baseline.key"
start_gateway baseline --keyauth.enabled=false
run_wrk "$URL" "$OUT/baseline.key"; record "2 gateway, key auth off"
run_latency "2 gateway, key auth off" "$URL" "$OUT/baseline.key"
stop_gateway

log "(3) key auth, in-process cache hit"
start_gateway local
KEY=$(create_key '{"consumerId":"bench"}'); echo "$KEY" > "$OUT/one.key"
run_wrk "$URL" "$OUT/one.key"; record "3 key auth, in-process hit"
run_latency "3 key auth, in-process hit" "$URL" "$OUT/one.key"
LOOKUPS3=$(metric 'keyauth_store_lookups_seconds_count')
# Quick mode floods (3)'s gateway, which has the same settings, instead of starting another: a
# start takes 12-16 s here, and quick mode must stay under two minutes. The other modes measure
# each configuration in a JVM of its own, compiled for its own traffic only.
QUICK=$([ "$MODE" = quick ] && echo 1 || echo "")
[ -n "$QUICK" ] || stop_gateway

LOOKUPS5=n/a
if [ -n "$FULL" ]; then
  log "(4) key auth, in-process cache off, Redis hit"
  start_gateway redis --keyauth.cache.local.enabled=false
  run_wrk "$URL" "$OUT/one.key"; record "4 key auth, Redis hit"
  stop_gateway

  log "(5) key auth, no caches, PostgreSQL on every request"
  start_gateway postgres --keyauth.cache.local.enabled=false --keyauth.cache.redis.enabled=false
  run_wrk "$URL" "$OUT/one.key"; record "5 key auth, PostgreSQL every request"
  LOOKUPS5=$(metric 'keyauth_store_lookups_seconds_count')
  stop_gateway
fi

[ -n "$QUICK" ] || start_gateway ratelimit
if [ -n "$CORE" ]; then
  log "(6) key auth + per-key rate limit"
  create_key '{"consumerId":"bench-limited","rateLimit":{"requestsPerSecond":100000,"burst":1000000}}' > "$OUT/limited.key"
  run_wrk "$URL" "$OUT/limited.key"; record "6 key auth + rate limit"
fi

QUERIES_BADSUM=n/a; QUERIES_UNKNOWN=n/a; ROUNDS=0
if [ "$MODE" != core ]; then
log "(7) floods of invalid keys (same gateway)"
python3 bench/keys.py badsum 1000 > "$OUT/badsum.keys"
python3 bench/keys.py valid 1000 > "$OUT/unknown.keys"
BEFORE=$(metric 'keyauth_store_lookups_seconds_count')
run_wrk "$URL" "$OUT/badsum.keys"; record "7a flood, bad checksum"
AFTER_BADSUM=$(metric 'keyauth_store_lookups_seconds_count')
run_wrk "$URL" "$OUT/unknown.keys"; record "7b flood, unknown well-formed"
AFTER_UNKNOWN=$(metric 'keyauth_store_lookups_seconds_count')
QUERIES_BADSUM=$((AFTER_BADSUM - BEFORE))
QUERIES_UNKNOWN=$((AFTER_UNKNOWN - AFTER_BADSUM))
# Each 1000-key flood ran WARMUP+DURATION seconds; the negative TTL is 10 s.
ROUNDS=$(( (WARMUP + DURATION + 9) / 10 + 1 ))
fi
stop_gateway

if [ -n "$CORE" ]; then
  # The same limit with local batching off: a Redis script call on every request.
  start_gateway ratelimit-exact --keyauth.rate-limit.local-share=0
  log "(6') key auth + per-key rate limit, a Redis call per request"
  run_wrk "$URL" "$OUT/limited.key"; record "6' rate limit, Redis call per request"
  stop_gateway
  # And without the four X-RateLimit-* response headers, to show what they cost.
  start_gateway ratelimit-noheaders --keyauth.rate-limit.include-headers=false
  log "(6'') key auth + per-key rate limit, no X-RateLimit-* headers"
  run_wrk "$URL" "$OUT/limited.key"; record "6'' rate limit, no X-RateLimit headers"
  stop_gateway
fi
declare -A SCALE_P50 SCALE_P99
SCALES=$([ -n "$FULL" ] && echo "1000 $SCALE_KEYS" || echo "")
[ -n "$FULL" ] && log "scale: PostgreSQL lookups with 1 thousand and $SCALE_KEYS keys"
for n in $SCALES; do
  psql -h 127.0.0.1 -U postgres -d $DB -qc "TRUNCATE keyauth_api_keys" >/dev/null
  python3 bench/keys.py copy "$n" scale "$OUT/scale.keys" | \
    psql -h 127.0.0.1 -U postgres -d $DB -qc "COPY keyauth_api_keys (id, key_hash, key_start, consumer_id, created_at) FROM STDIN"
  psql -h 127.0.0.1 -U postgres -d $DB -qc "ANALYZE keyauth_api_keys" >/dev/null
  head -n 1000 "$OUT/scale.keys" > "$OUT/scale-sample.keys"
  start_gateway "scale-$n" --keyauth.cache.local.enabled=false --keyauth.cache.redis.enabled=false
  run_wrk "$URL" "$OUT/scale-sample.keys"; record "5 PostgreSQL every request, $n keys"
  run_latency "5 PostgreSQL every request, $n keys" "$URL" "$OUT/scale-sample.keys"
  SCALE_P50[$n]=${P50["5 PostgreSQL every request, $n keys"]}; SCALE_P99[$n]=${P99["5 PostgreSQL every request, $n keys"]}
  stop_gateway
done

if [ -n "$FULL" ]; then
log "memory: gateway heap and RSS with $MEMORY_KEYS distinct keys in use"
head -n "$MEMORY_KEYS" "$OUT/scale.keys" > "$OUT/memory.keys"
start_gateway memory
HEAP_START=$(jcmd "$GW_PID" GC.run >/dev/null 2>&1; sleep 1; metric 'jvm_memory_used_bytes{area="heap"')
# Each key's first use is a PostgreSQL round trip; drive the keys round-robin until every one
# has been loaded (at most 10 minutes).
CACHED=0
for _ in $(seq 1 30); do
  KEYS_FILE="$OUT/memory.keys" wrk -t1 -c"$CONNECTIONS" -d20s -s bench/keys.lua "$URL" > /dev/null 2>&1 || true
  CACHED=$(metric 'keyauth_cache_requests_total{result="miss",tier="local"')
  log "memory: $CACHED keys loaded"
  [ "$CACHED" -ge "$MEMORY_KEYS" ] && break
done
jcmd "$GW_PID" GC.run >/dev/null 2>&1; sleep 1
HEAP_END=$(metric 'jvm_memory_used_bytes{area="heap"')
RSS_KB=$(awk '/VmRSS/ {print $2}' /proc/$GW_PID/status)
stop_gateway

log "revocation delay across two instances ($REVOCATIONS revocations)"
REVOCATION=$(python3 bench/revocation.py "$JAR" "$ROOT" "$DB" "$REVOCATIONS" 2>"$OUT/revocation.log")
fi

BASE=${RPS["2 gateway, key auth off"]}
{
  echo "# Benchmark results ($MODE)"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)."
  echo "wrk: 1 thread, $CONNECTIONS connections, ${WARMUP}s warm-up then ${DURATION}s measured, on the same machine as the gateway."
  echo
  echo "| configuration | requests/s | vs gateway without key auth | p50 (ms) | p99 (ms) | p99.9 (ms) | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for label in "1 downstream directly" "2 gateway, key auth off" "3 key auth, in-process hit" "4 key auth, Redis hit" \
      "5 key auth, PostgreSQL every request" "6 key auth + rate limit" "7a flood, bad checksum" "7b flood, unknown well-formed" \
      "6' rate limit, Redis call per request" "6'' rate limit, no X-RateLimit headers" \
      "5 PostgreSQL every request, 1000 keys" "5 PostgreSQL every request, $SCALE_KEYS keys"; do
 [ -n "${RPS[$label]:-}" ] || continue
    awk -v l="$label" -v r="${RPS[$label]}" -v b="$BASE" -v p50="${P50[$label]}" -v p99="${P99[$label]}" -v p999="${P999[$label]}" -v e="${ERR[$label]}" \
      'BEGIN { printf "| %s | %.0f | %.1f%% | %.2f | %.2f | %.2f | %s |\n", l, r, 100*r/b, p50/1000, p99/1000, p999/1000, e }'
  done
  echo
  echo "Latency at $LATENCY_CONNECTIONS connections (not saturated), measured right after each configuration's throughput run:"
  echo
  echo "| configuration | requests/s | p50 (ms) | p99 (ms) | p99.9 (ms) | p99 added over (2) (ms) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for label in "2 gateway, key auth off" "3 key auth, in-process hit" \
      "5 PostgreSQL every request, 1000 keys" "5 PostgreSQL every request, $SCALE_KEYS keys"; do
    [ -n "${LAT_RPS[$label]:-}" ] || continue
    awk -v l="$label" -v r="${LAT_RPS[$label]}" -v p50="${LAT_P50[$label]}" -v p99="${LAT_P99[$label]}" -v p999="${LAT_P999[$label]}" -v b="${LAT_P99["2 gateway, key auth off"]}" \
      'BEGIN { printf "| %s | %.0f | %.2f | %.2f | %.2f | %.2f |\n", l, r, p50/1000, p99/1000, p999/1000, (p99-b)/1000 }'
  done
  echo
  [ "$MODE" != core ] && echo "Store queries: $QUERIES_BADSUM during the bad-checksum flood; $QUERIES_UNKNOWN during the flood of 1000 distinct unknown keys over $((WARMUP + DURATION)) s (bound: 1000 per 10 s negative TTL, so at most $((1000 * ROUNDS)))."
  echo "Store queries in (3): $LOOKUPS3 (one load, then in-process hits); in (5): $LOOKUPS5."
  if [ -n "$FULL" ]; then
  echo "PostgreSQL every request: p50 ${SCALE_P50[1000]} us / p99 ${SCALE_P99[1000]} us with 1000 keys; p50 ${SCALE_P50[$SCALE_KEYS]} us / p99 ${SCALE_P99[$SCALE_KEYS]} us with $SCALE_KEYS keys; p99 added over the gateway without key auth at $LATENCY_CONNECTIONS connections: $(( ${LAT_P99["5 PostgreSQL every request, $SCALE_KEYS keys"]} - ${LAT_P99["2 gateway, key auth off"]} )) us."
  echo "Memory with $CACHED distinct keys loaded into the in-process cache: heap after full GC $((HEAP_START / 1048576)) MiB before, $((HEAP_END / 1048576)) MiB after; RSS $((RSS_KB / 1024)) MiB."
  echo "Revocation across two instances: $REVOCATION"
  fi
} > "$RESULTS"
cat "$RESULTS"

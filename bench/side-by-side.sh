# Sourced by compare.sh, builds.sh, pairs.sh and profile.sh: gateways side by side, one per
# configuration, on a fresh bench database, in front of the bench downstream. The caller sets ROOT, OUT and NAME (for log
# files and messages) and runs under `set -euo pipefail`.
TOKEN=bench-token; DB=keyauth_bench; UP_PORT=9100
JAR=$ROOT/gateway-app/target/gateway-app.jar
PIDS=()
declare -A GATEWAY_PID
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # pid -> user + system CPU in ticks
# One wrk run against a gateway started below: port keysfile seconds path [extra headers] ->
# "requests/s gateway-CPU-us-per-request responses>=400 requests p50-us p99-us", with
# MEASURE_CONNECTIONS connections (32 by default: saturated, for throughput; few, for latency).
measure() {
  local pid=${GATEWAY_PID[$1]} before after line
  before=$(cpu_ticks "$pid")
  line=$(KEYS_FILE=$2 EXTRA_HEADERS=${5:-} wrk -t1 -c"${MEASURE_CONNECTIONS:-32}" -d"$3s" -s bench/keys.lua "http://127.0.0.1:$1$4" 2>&1 | grep '^RESULT')
  after=$(cpu_ticks "$pid")
  echo "$line" | tr ' ' '\n' | awk -F= -v ticks=$((after - before)) -v hz="$TICK" \
    '$1 == "rps" { r = $2 } $1 == "requests" { n = $2 } $1 == "non2xx" { e = $2 } $1 == "p50_us" { p50 = $2 } $1 == "p99_us" { p99 = $2 }
     END { printf "%.0f %.1f %d %d %d %d\n", r, ticks * 1e6 / hz / n, e, n, p50, p99 }'
}
log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

command -v wrk >/dev/null 2>&1 || { log "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[ -f "$JAR" ] && [ -z "${BENCH_REBUILD:-}" ] || { log "building"; ./mvnw -B -q -DskipTests package; }
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
java -cp "$JAR" -Dloader.main=dev.keyauth.gateway.demo.BenchUpstream \
  org.springframework.boot.loader.launch.PropertiesLauncher $UP_PORT > "$OUT/upstream.log" 2>&1 &
PIDS+=($!)

# GATEWAY_LOADER_PATH: extra jars for every gateway (bench/calibrate.sh's filter), loaded by
# Spring Boot's PropertiesLauncher instead of the jar's own launcher.
start() { # port name args...: a gateway on port, its management on port + 1
  local port=$1 name=$2; shift 2
  local launch=(-jar "$JAR")
  [ -z "${GATEWAY_LOADER_PATH:-}" ] || launch=(-cp "$JAR" -Dloader.path="$GATEWAY_LOADER_PATH" \
    -Dloader.main=dev.keyauth.gateway.GatewayApplication org.springframework.boot.loader.launch.PropertiesLauncher)
  GATEWAY_PORT=$port MANAGEMENT_PORT=$((port + 1)) KEYAUTH_ADMIN_TOKEN=$TOKEN BENCH_UPSTREAM_PORT=$UP_PORT \
  GATEWAY_ROUTES_LOCATION=file:$ROOT/bench/routes.yml \
  KEYAUTH_DB_URL=r2dbc:postgresql://127.0.0.1:5432/$DB KEYAUTH_DB_USER=postgres KEYAUTH_REDIS_URL=redis://127.0.0.1:6379 \
    java ${GATEWAY_JAVA_OPTS:-} "${launch[@]}" "$@" > "$OUT/gateway-$NAME-$name.log" 2>&1 &
  PIDS+=($!); GATEWAY_PID[$port]=$!
}
await() { # port...: until each gateway is ready
  local port
  for port in "$@"; do
    # Many gateways starting together on two cores can take minutes.
    for _ in $(seq 1 600); do
      curl -sf "http://127.0.0.1:$((port + 1))/actuator/health/readiness" >/dev/null 2>&1 && continue 2
      sleep 0.5
    done
    log "gateway on port $port did not start; see $OUT/gateway-$NAME-*.log"; exit 1
  done
}
create_key() { # management port, json body -> the key
  curl -sf -X POST "http://127.0.0.1:$1/actuator/apikeys" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$2" | python3 -c 'import sys,json;print(json.load(sys.stdin)["key"])'
}

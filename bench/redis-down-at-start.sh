#!/usr/bin/env bash
# What requests get from a gateway started while its Redis does not answer:
#   bash bench/redis-down-at-start.sh [NAME=JAR ...]      (default: the built gateway-app jar)
# For each jar: a "silent Redis" (accepts connections, never answers, like a server behind a
# partition or too stuck to reply) on port 6399; the gateway started against it and the local
# PostgreSQL; then for SECS seconds (default 15), side by side, wrk with the one valid key (4
# connections: the latency a client with a key sees) and wrk with 1000 distinct unknown keys (4
# connections: lookups no cache holds, each of which asks Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${BENCH_OUT:-$ROOT/bench/target/redis-down}
SECS=${SECS:-15}
GW_PORT=8180; MGMT_PORT=8181; UP_PORT=9100; SILENT_PORT=6399; TOKEN=bench-token; DB=keyauth_bench_rd
mkdir -p "$OUT"
PIDS=()
log() { printf '[redis-down] %s\n' "$*" >&2; }
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

command -v wrk >/dev/null 2>&1 || { log "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
JARS=("$@")
if [ ${#JARS[@]} -eq 0 ]; then
  [ -f gateway-app/target/gateway-app.jar ] || ./mvnw -B -q -DskipTests package
  JARS=("current=$ROOT/gateway-app/target/gateway-app.jar")
fi

python3 - "$SILENT_PORT" > "$OUT/silent-redis.log" 2>&1 <<'EOF' &
import socket, sys, threading
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(128)
held = []
def drain(conn):
    while conn.recv(65536):
        pass
while True:
    conn, _ = server.accept()
    held.append(conn)
    threading.Thread(target=drain, args=(conn,), daemon=True).start()
EOF
PIDS+=($!)

java -cp "${JARS[0]#*=}" -Dloader.main=dev.keyauth.gateway.demo.BenchUpstream \
  org.springframework.boot.loader.launch.PropertiesLauncher $UP_PORT > "$OUT/upstream.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$UP_PORT/" >/dev/null 2>&1 && break; sleep 0.5; done
python3 bench/keys.py valid 1000 > "$OUT/unknown.keys"

for entry in "${JARS[@]}"; do
  name=${entry%%=*}; jar=${entry#*=}
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
  GATEWAY_PORT=$GW_PORT MANAGEMENT_PORT=$MGMT_PORT KEYAUTH_ADMIN_TOKEN=$TOKEN BENCH_UPSTREAM_PORT=$UP_PORT \
  GATEWAY_ROUTES_LOCATION=file:$ROOT/bench/routes.yml \
  KEYAUTH_DB_URL=r2dbc:postgresql://127.0.0.1:5432/$DB KEYAUTH_DB_USER=postgres \
  KEYAUTH_REDIS_URL=redis://127.0.0.1:$SILENT_PORT \
    java -jar "$jar" > "$OUT/gateway-$name.log" 2>&1 &
  gw=$!
  PIDS+=($gw)
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$MGMT_PORT/actuator/health/readiness" >/dev/null 2>&1 && break
    sleep 0.5
  done
  start=$(date +%s.%N)
  key=$(curl -sf -m 60 -X POST "http://127.0.0.1:$MGMT_PORT/actuator/apikeys" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"consumerId":"bench"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["key"])')
  created=$(python3 -c "print(round(($(date +%s.%N) - $start) * 1000))")
  echo "$key" > "$OUT/valid.key"
  KEYS_FILE=$OUT/unknown.keys wrk -t1 -c4 -d"${SECS}s" --timeout 10s -s bench/keys.lua \
    "http://127.0.0.1:$GW_PORT/bench/x" > "$OUT/unknown-$name.txt" 2>&1 &
  flood=$!
  KEYS_FILE=$OUT/valid.key wrk -t1 -c4 -d"${SECS}s" --timeout 10s --latency -s bench/keys.lua \
    "http://127.0.0.1:$GW_PORT/bench/x" > "$OUT/valid-$name.txt" 2>&1
  wait $flood || true
  kill $gw 2>/dev/null || true; wait $gw 2>/dev/null || true
  valid=$(grep '^RESULT' "$OUT/valid-$name.txt"); unknown=$(grep '^RESULT' "$OUT/unknown-$name.txt")
  max=$(awk '/Latency/ && !/Distribution/ {print $4; exit}' "$OUT/valid-$name.txt")
  log "$name: key created in $created ms; valid key: $valid max=$max; unknown keys: $unknown"
  echo "| $name | $created | $valid max=$max | $unknown |" >> "$OUT/results.md"
done

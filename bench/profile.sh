#!/usr/bin/env bash
# Where the time of an authenticated request goes: bash bench/profile.sh (about 8 minutes).
#
# Starts four gateways side by side as compare.sh does (key auth off, key auth with an
# in-process hit, the same with a per-key rate limit, key auth on a route that opts out), warms each up for 60 s, then profiles each
# under the same load for 20 s with async-profiler (CPU at a 1 ms interval, then allocation),
# attached through jcmd, and prints the CPU microseconds and allocation samples per request of
# the frames that differ between them (bench/profile_summary.py). async-profiler comes from Maven
# Central (tools.profiler:async-profiler); the collapsed stacks stay in bench/target/profile-*.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WARMUP=${PROFILE_WARMUP:-60}
OUT=${BENCH_OUT:-$ROOT/bench/target}
mkdir -p "$OUT"
AP_VERSION=4.1
NAME=profile
# Without DebugNonSafepoints, samples in compiled code are charged to the nearest safepoint's
# frame. Even with it some inlined code is misnamed: both ways, 6-9% of the filter's samples show
# up as Mono.timeout under the authenticator, a call a cache hit never makes (no frame of the
# operators it would assemble next has a single sample). Read frames below the filter's own
# children with that in mind.
GATEWAY_JAVA_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints"
source bench/side-by-side.sh
AP_JAR=$HOME/.m2/repository/tools/profiler/async-profiler/$AP_VERSION/async-profiler-$AP_VERSION.jar
[ -f "$AP_JAR" ] || ./mvnw -B -q dependency:get -Dartifact=tools.profiler:async-profiler:$AP_VERSION
AP_DIR=$OUT/async-profiler
rm -rf "$AP_DIR" && mkdir -p "$AP_DIR" && (cd "$AP_DIR" && unzip -q "$AP_JAR")
AP_LIB=$AP_DIR/linux-x64/libasyncProfiler.so

load() { # port keysfile seconds path -> requests
  KEYS_FILE=$2 wrk -t1 -c32 -d"$3s" -s bench/keys.lua "http://127.0.0.1:$1$4" 2>&1 | grep '^RESULT' | tr ' ' '\n' \
    | awk -F= '$1 == "requests" { print $2 }'
}
# jcmd reads name=value pairs; the quotes keep async-profiler's option string in one piece.
profiler() { jcmd "$1" JVMTI.agent_load "$AP_LIB" "\"$2\"" >/dev/null; }

start 8180 off --keyauth.enabled=false
start 8190 hit
start 8200 limited
start 8210 public
await 8180 8190 8200 8210
create_key 8191 '{"consumerId":"bench"}' > "$OUT/profile-one.key"
create_key 8191 '{"consumerId":"bench-limited","rateLimit":{"requestsPerSecond":100000,"burst":1000000}}' \
  > "$OUT/profile-limited.key"
: > "$OUT/profile-none.key"
CONFIGS=("2 8180 $OUT/profile-one.key /bench/x" "3 8190 $OUT/profile-one.key /bench/x" "6 8200 $OUT/profile-limited.key /bench/x" "p 8210 $OUT/profile-none.key /public/x")
log "warming up each gateway for $WARMUP s"
for c in "${CONFIGS[@]}"; do set -- $c; load "$2" "$3" "$WARMUP" "$4" >/dev/null; done

declare -A ARGS_CPU ARGS_ALLOC
for c in "${CONFIGS[@]}"; do
  set -- $c
  pid=${GATEWAY_PID[$2]}
  profiler "$pid" "start,event=cpu,interval=1ms"
  n=$(load "$2" "$3" 20 "$4")
  profiler "$pid" "stop,file=$OUT/profile-$1-cpu.collapsed,collapsed"
  ARGS_CPU[$1]="($1)=$OUT/profile-$1-cpu.collapsed:$n"
  profiler "$pid" "start,event=alloc"
  n=$(load "$2" "$3" 20 "$4")
  profiler "$pid" "stop,file=$OUT/profile-$1-alloc.collapsed,collapsed"
  ARGS_ALLOC[$1]="($1)=$OUT/profile-$1-alloc.collapsed:$n"
  log "($1) profiled"
done
{
  echo "CPU microseconds per request ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)):"
  echo
  python3 bench/profile_summary.py "${ARGS_CPU[2]}" "${ARGS_CPU[3]}" "${ARGS_CPU[6]}" "${ARGS_CPU[p]}"
  echo
  echo "Allocation samples per 1000 requests (proportional to bytes allocated):"
  echo
  python3 bench/profile_summary.py "${ARGS_ALLOC[2]}" "${ARGS_ALLOC[3]}" "${ARGS_ALLOC[6]}" "${ARGS_ALLOC[p]}"
} | tee "$OUT/profile.md"

#!/usr/bin/env bash
# JMH microbenchmarks of the hot-path pieces and of the whole filter, in ns/op and bytes allocated per op:
#   bash bench/jmh.sh            (about 4 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -DskipTests install -pl key-auth-filter -am
./mvnw -B -q -f bench/jmh/pom.xml -DskipTests package
java -jar bench/jmh/target/benchmarks.jar -prof gc "$@" 2>&1 | tee bench/jmh/target/jmh.txt | \
  grep -E "^(Benchmark|HotPathBenchmark|FilterBenchmark|RedisEntryBenchmark)" | grep -E "avgt|Benchmark" | grep -vE "gc\.(count|time|alloc\.rate )"

#!/usr/bin/env python3
"""Does refusing an unknown key take longer or shorter when a similar key exists? Run by
bench/hardening.sh.

timing.py JAR ROOT DATABASE [N]: starts one gateway on PostgreSQL + Redis with one real key K,
then sends N requests (default 3000) for each of two kinds of unknown, well-formed keys, in a
random interleaving over one keep-alive connection:
  near   K with its last three body characters changed (checksum recomputed), each key different
  far    a fresh random key
twice: with a fresh key per request (each refusal is a PostgreSQL lookup) and with one key of
each kind repeated (refusals from the negative cache). Prints each distribution's percentiles and
the two-sample Kolmogorov-Smirnov statistic D; fails if D exceeds the critical value at
alpha = 0.001, i.e. if the two kinds are distinguishable.
"""
import http.client
import math
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keys import ALPHABET, PREFIX, base62, key  # noqa: E402
from revocation import admin, start  # noqa: E402

import zlib  # noqa: E402

PORT, MGMT = 8290, 8291


def with_checksum(prefix_and_body):
    return prefix_and_body + base62(zlib.crc32(prefix_and_body.encode("ascii")) & 0xFFFFFFFF, 6)


class Near:
    """Unknown keys that share the first 48 of the 51 body characters with a real key (last three
    changed, checksum recomputed), each one different: a repeated key would be answered from the
    negative cache, which is faster, and that would be measured instead."""

    def __init__(self, real):
        body = real[len(PREFIX):len(PREFIX) + 43]
        self.stem, tail = body[:-3], body[-3:]
        self.combos = [a + b + c for a in ALPHABET for b in ALPHABET for c in ALPHABET if a + b + c != tail]
        random.shuffle(self.combos)

    def __call__(self):
        return with_checksum(PREFIX + self.stem + self.combos.pop())


def ks_statistic(a, b):
    a, b = sorted(a), sorted(b)
    i = j = 0
    d = 0.0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            i += 1
        else:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    return d


def measure(connection, kinds, n):
    """kinds: name -> function returning the key to send. Returns name -> list of microseconds."""
    order = [name for name in kinds for _ in range(n)]
    random.shuffle(order)
    # Every key is made before the first request: a fresh random key takes the client tens of
    # microseconds more to make than a near one, and made between requests that gap alone let the
    # gateway's event loop go idle before "far" requests more often, which the test then measured
    # (D = 0.061 with the near keys faster, 2026-12-03).
    planned = [(name, kinds[name]()) for name in order]
    times = {name: [] for name in kinds}
    for name, k in planned:
        began = time.perf_counter_ns()
        connection.request("GET", "/bench/x", headers={"X-API-Key": k})
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter_ns() - began) / 1000
        if response.status != 401:
            raise SystemExit("an unknown key got %d: %s" % (response.status, body[:200]))
        times[name].append(elapsed)
    return times


def report(label, times, n):
    print(label)
    for name, values in times.items():
        values = sorted(values)
        print("  %-5s median %7.0f us  p90 %7.0f us  p99 %7.0f us  mean %7.0f us"
              % (name, statistics.median(values), values[int(0.9 * len(values))], values[int(0.99 * len(values))],
                 statistics.fmean(values)))
    d = ks_statistic(times["near"], times["far"])
    critical = 1.949 * math.sqrt(2 / n)  # c(alpha = 0.001) for two samples of n
    print("  Kolmogorov-Smirnov D = %.4f (critical value at alpha 0.001: %.4f): %s"
          % (d, critical, "indistinguishable" if d < critical else "DISTINGUISHABLE"))
    return d < critical


def main(jar, root, db, n):
    out = os.environ.get("BENCH_OUT", root + "/bench/target")
    gateway = start(jar, root, db, PORT, MGMT, out + "/gateway-timing.log")
    try:
        real = admin(MGMT, "POST", "", {"consumerId": "timing"})["key"]
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        assert real.startswith(PREFIX)
        near = Near(real)
        # Warm up the JIT and the connection on keys of both kinds.
        measure(connection, {"near": near, "far": key}, 1000)
        fresh = measure(connection, {"near": near, "far": key}, n)
        ok_fresh = report("a fresh unknown key per request (each refusal is a PostgreSQL lookup), %d each:" % n,
                          fresh, n)
        one_near, one_far = near(), key()
        repeated = measure(connection, {"near": lambda: one_near, "far": lambda: one_far}, n)
        ok_repeated = report("one unknown key of each kind, repeated (refused from the negative cache), %d each:" % n,
                             repeated, n)
    finally:
        gateway.terminate()
        gateway.wait(30)
    if not (ok_fresh and ok_repeated):
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 3000)

#!/usr/bin/env python3
"""A steady load for a while: no errors, and heap after a full GC that stays flat. Run by
bench/hardening.sh.

soak.py JAR ROOT DATABASE MINUTES: starts one gateway on PostgreSQL + Redis, creates 100 keys
(half of them with a per-key rate limit well above the load, so the limiter runs too), then
drives them with wrk (1 thread, 16 connections) one minute at a time. After the first minute
(warm-up) and after every minute, it forces a full GC (jcmd GC.run) and reads the heap in use.
Fails on any non-2xx response or socket error, or if the heap after GC grew by more than 16 MiB
from the end of the warm-up to the end.
"""
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from revocation import admin, start  # noqa: E402

PORT, MGMT = 8295, 8296


def heap_after_gc(pid):
    subprocess.run(["jcmd", str(pid), "GC.run"], stdout=subprocess.DEVNULL, check=True)
    time.sleep(1)
    text = urllib.request.urlopen("http://127.0.0.1:%d/actuator/prometheus" % MGMT, timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("jvm_memory_used_bytes{") and 'area="heap"' in line)


def main(jar, root, db, minutes):
    out = os.environ.get("BENCH_OUT", root + "/bench/target")
    gateway = start(jar, root, db, PORT, MGMT, out + "/gateway-soak.log")
    failures = []
    try:
        keys = [admin(MGMT, "POST", "", {"consumerId": "soak"})["key"] for _ in range(50)]
        keys += [admin(MGMT, "POST", "", {"consumerId": "soak-limited",
                                          "rateLimit": {"requestsPerSecond": 100000, "burst": 100000}})["key"]
                 for _ in range(50)]
        keys_path = out + "/soak.keys"
        with open(keys_path, "w") as f:
            f.write("\n".join(keys) + "\n")
        heaps = []
        total_requests = 0
        for minute in range(minutes + 1):
            result = subprocess.run(["wrk", "-t1", "-c16", "-d60s", "-s", "bench/status.lua",
                                     "http://127.0.0.1:%d/bench/x" % PORT], env=dict(os.environ, KEYS_FILE=keys_path),
                                    capture_output=True, text=True)
            line = re.search(r"^STATUS(.*)$", result.stdout, re.M).group(1)
            counts = dict(item.split("=") for item in line.split())
            ok = int(counts.get("200", 0))
            bad = {code: n for code, n in counts.items() if code != "200" and int(n) > 0}
            rate = re.search(r"Requests/sec:\s*([\d.]+)", result.stdout).group(1)
            heap = heap_after_gc(gateway.pid)
            label = "warm-up" if minute == 0 else "minute %d" % minute
            print("%-9s %s requests/s, %d ok, other: %s, heap after full GC %.1f MiB"
                  % (label, rate, ok, bad or "none", heap / 1048576), flush=True)
            if minute > 0:
                total_requests += ok
                heaps.append(heap)
                if bad:
                    failures.append("%s: %s" % (label, bad))
            else:
                heaps.append(heap)
        growth = (heaps[-1] - heaps[0]) / 1048576
        print("soak: %d requests over %d minutes; heap after full GC %.1f MiB after warm-up, %.1f MiB at the end "
              "(%+.1f MiB)" % (total_requests, minutes, heaps[0] / 1048576, heaps[-1] / 1048576, growth))
        if growth > 16:
            failures.append("heap after full GC grew by %.1f MiB" % growth)
    finally:
        gateway.terminate()
        gateway.wait(30)
    if failures:
        print("FAIL: " + "; ".join(failures))
        sys.exit(1)
    print("soak passed: no errors, heap flat")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))

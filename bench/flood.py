#!/usr/bin/env python3
"""Do real callers get through while the gateway is flooded with invented keys that pass the
checksum? Run by bench/hardening.sh.

flood.py JAR ROOT DATABASE [N]: starts one gateway on PostgreSQL + Redis and creates 2N keys.
Then a caller uses N of them once each, one every 100 ms (each use is the key's first on this
gateway, so a lookup through Redis to PostgreSQL), alone; and the other N the same way while wrk
floods the gateway with distinct, well-formed, unknown keys (each a PostgreSQL lookup: the
negative cache never sees one twice). Prints the caller's statuses and latencies both times, and
the flood's rate; fails if any real key is refused during the flood.
"""
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keys import key  # noqa: E402
from revocation import admin, start  # noqa: E402

PORT, MGMT = 8300, 8301


def call_each(keys):
    statuses, millis = {}, []
    for k in keys:
        began = time.perf_counter()
        request = urllib.request.Request("http://127.0.0.1:%d/bench/x" % PORT, headers={"X-API-Key": k})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                code = response.status
        except urllib.error.HTTPError as error:
            code = error.code
        millis.append((time.perf_counter() - began) * 1000)
        statuses[code] = statuses.get(code, 0) + 1
        time.sleep(0.1)
    millis.sort()
    return statuses, millis


def report(label, statuses, millis):
    print("%s: statuses %s, median %.1f ms, p90 %.1f ms, max %.1f ms"
          % (label, statuses, millis[len(millis) // 2], millis[int(0.9 * len(millis))], millis[-1]))


def main(jar, root, db, n):
    out = os.environ.get("BENCH_OUT", root + "/bench/target")
    flood_keys = out + "/flood.keys"
    with open(flood_keys, "w") as keys_file:
        # More than the flood can send: no invented key is sent twice.
        for _ in range(200_000):
            keys_file.write(key() + "\n")
    gateway = start(jar, root, db, PORT, MGMT, out + "/gateway-flood.log")
    try:
        real = [admin(MGMT, "POST", "", {"consumerId": "flood-%d" % i})["key"] for i in range(2 * n)]
        # Past the creations' repeated invalidations (a second later), which would evict answers.
        time.sleep(1.5)
        report("alone", *call_each(real[:n]))
        seconds = int(n * 0.1 * 2) + 10
        wrk = subprocess.Popen(["wrk", "-t1", "-c64", "-d%ds" % seconds, "-s", root + "/bench/keys.lua",
                                "http://127.0.0.1:%d/bench/x" % PORT],
                               env=dict(os.environ, KEYS_FILE=flood_keys), stdout=subprocess.PIPE, text=True)
        time.sleep(3)
        statuses, millis = call_each(real[n:])
        result = [line for line in wrk.communicate()[0].splitlines() if line.startswith("RESULT")]
        report("during the flood", statuses, millis)
        print("the flood: " + (result[0] if result else "no wrk result"))
    finally:
        gateway.terminate()
        gateway.wait(30)
    if statuses != {200: n}:
        print("FAILED: a real key was refused during the flood")
        sys.exit(1)
    print("passed: every real key was accepted during the flood")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 100)

#!/usr/bin/env python3
"""Revocation delay across two gateway instances sharing PostgreSQL and Redis.

revocation.py JAR ROOT DATABASE N: starts two instances, then N times: creates a key through
instance A, uses it on B (so B caches it), revokes it through A and polls B until it answers 401.
Prints the median and worst delay from the start of the revoke call to B's first 401.
"""
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

TOKEN = "bench-token"


def start(jar, root, db, port, mgmt, log):
    env = dict(os.environ, GATEWAY_PORT=str(port), MANAGEMENT_PORT=str(mgmt), KEYAUTH_ADMIN_TOKEN=TOKEN,
               GATEWAY_ROUTES_LOCATION="file:" + root + "/bench/routes.yml", BENCH_UPSTREAM_PORT="9100",
               KEYAUTH_DB_URL="r2dbc:postgresql://127.0.0.1:5432/" + db, KEYAUTH_DB_USER="postgres",
               KEYAUTH_REDIS_URL="redis://127.0.0.1:6379")
    process = subprocess.Popen(["java", "-jar", jar], env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    for _ in range(240):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/actuator/health/readiness" % mgmt, timeout=1)
            return process
        except Exception:
            time.sleep(0.5)
    raise SystemExit("instance on port %d did not start; see %s" % (port, log))


def admin(mgmt, method, path, body=None):
    request = urllib.request.Request("http://127.0.0.1:%d/actuator/apikeys%s" % (mgmt, path), method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))


def status(port, key):
    request = urllib.request.Request("http://127.0.0.1:%d/bench/x" % port, headers={"X-API-Key": key})
    try:
        return urllib.request.urlopen(request, timeout=5).status
    except urllib.error.HTTPError as error:
        return error.code


def main(jar, root, db, rounds):
    out = os.environ.get("BENCH_OUT", root + "/bench/target")
    a = start(jar, root, db, 8280, 8281, out + "/gateway-revocation-a.log")
    b = start(jar, root, db, 8282, 8283, out + "/gateway-revocation-b.log")
    try:
        delays = []
        for _ in range(rounds):
            created = admin(8281, "POST", "", {"consumerId": "revocation"})
            assert status(8282, created["key"]) == 200
            assert status(8282, created["key"]) == 200
            start_time = time.monotonic()
            admin(8281, "DELETE", "/" + created["id"])
            while status(8282, created["key"]) != 401:
                if time.monotonic() - start_time > 10:
                    raise SystemExit("a revoked key still worked on the other instance after 10 s")
                time.sleep(0.002)
            delays.append((time.monotonic() - start_time) * 1000)
        print("median %.1f ms, worst %.1f ms over %d revocations (from the start of the revoke call on A to B's "
              "first 401)" % (statistics.median(delays), max(delays), len(delays)))
    finally:
        for process in (a, b):
            process.terminate()
        for process in (a, b):
            process.wait(30)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))

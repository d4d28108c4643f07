#!/usr/bin/env python3
"""Faults under load, and 1000 concurrent key creations. Run by bench/faults.sh.

faults.py JAR ROOT DATABASE: starts one gateway on PostgreSQL + Redis and, while three wrk
processes drive valid, revoked and invalid keys through it, stops and restarts Redis, then
PostgreSQL, then both. It asserts, from the status codes every request got:
  - no 5xx but 503, and no 503 for valid keys (they were all used before the faults);
  - no 401 for valid keys;
  - no success for revoked or invalid keys;
  - a key revoked while Redis is down is refused within the documented bound (1.2 s);
  - a valid key never used before PostgreSQL went down gets 503 (never 401) while it is down;
  - after each restart everything works again with no gateway restart.
Then it creates 1000 keys concurrently and checks 1000 distinct keys, 1000 rows, and that every
returned key works. Exits non-zero on any failed assertion.
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from revocation import admin, start, status  # noqa: E402

PORT, MGMT = 8280, 8281
PG_VERSION = sorted(os.listdir("/etc/postgresql"))[-1]
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def sh(command):
    subprocess.run(command, shell=True, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def redis_stop():
    sh("redis-cli -h 127.0.0.1 shutdown nosave")


def redis_start():
    sh('redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no')
    wait_for("redis-cli -h 127.0.0.1 ping")


def pg_stop():
    sh("pg_ctlcluster %s main stop -m fast" % PG_VERSION)


def pg_start():
    sh("pg_ctlcluster %s main start" % PG_VERSION)
    wait_for("pg_isready -h 127.0.0.1 -q")


def wait_for(command):
    for _ in range(100):
        if subprocess.run(command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return
        time.sleep(0.1)
    raise SystemExit("gave up waiting for: " + command)


def keys_file(path, keys):
    with open(path, "w") as f:
        f.write("\n".join(keys) + "\n")
    return path


def wrk(keys_path, seconds, out):
    env = dict(os.environ, KEYS_FILE=keys_path)
    return subprocess.Popen(["wrk", "-t1", "-c4", "--timeout", "5s", "-d%ds" % seconds, "-s", "bench/status.lua",
                             "http://127.0.0.1:%d/bench/x" % PORT], env=env, stdout=open(out, "w"),
                            stderr=subprocess.STDOUT)


def statuses(out):
    text = open(out).read()
    line = re.search(r"^STATUS(.*)$", text, re.M)
    if not line:
        raise SystemExit("wrk printed no STATUS line; see " + out)
    counts = {}
    for item in line.group(1).split():
        name, value = item.split("=")
        counts[name] = int(value)
    return counts


def until_refused(key):
    """Polls until the key is refused; returns when (monotonic time), or None after 10 s."""
    begin = time.monotonic()
    while status(PORT, key) != 401:
        if time.monotonic() - begin > 10:
            return None
        time.sleep(0.01)
    return time.monotonic()


def concurrent_creations(run_id, db):
    consumer = "bulk-" + run_id

    def create(_):
        return admin(MGMT, "POST", "", {"consumerId": consumer})

    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        created = list(pool.map(create, range(1000)))
    elapsed = time.monotonic() - began
    keys = {c["key"] for c in created}
    ids = {c["id"] for c in created}
    rows = int(subprocess.check_output(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc",
                                        "SELECT count(*) FROM keyauth_api_keys WHERE consumer_id = '%s'" % consumer]))
    check(len(keys) == 1000 and len(ids) == 1000,
          "1000 concurrent creations returned %d distinct keys and %d distinct ids (%.1f s, 64 at a time)"
          % (len(keys), len(ids), elapsed))
    check(rows == 1000, "1000 concurrent creations left %d rows" % rows)
    working = sum(1 for key in keys if status(PORT, key) == 200)
    check(working == 1000, "%d of the 1000 created keys work through the gateway" % working)


def main(jar, root, db):
    out = os.environ.get("BENCH_OUT", root + "/bench/target")
    run_id = str(int(time.time()))
    gateway = start(jar, root, db, PORT, MGMT, out + "/gateway-faults.log")
    try:
        valid = [admin(MGMT, "POST", "", {"consumerId": "faults-valid"})["key"] for _ in range(20)]
        revoked = []
        for _ in range(20):
            created = admin(MGMT, "POST", "", {"consumerId": "faults-revoked"})
            status(PORT, created["key"])
            admin(MGMT, "DELETE", "/" + created["id"])
            revoked.append(created["key"])
        for key in valid:
            assert status(PORT, key) == 200
        for key in revoked:
            assert status(PORT, key) == 401
        to_revoke_during_outage = admin(MGMT, "POST", "", {"consumerId": "faults-valid"})
        assert status(PORT, to_revoke_during_outage["key"]) == 200
        never_used = admin(MGMT, "POST", "", {"consumerId": "faults-valid"})["key"]
        invalid = [line.strip() for line in subprocess.check_output(
            ["python3", "bench/keys.py", "badsum", "50"], text=True).splitlines()]
        invalid += [line.strip() for line in subprocess.check_output(
            ["python3", "bench/keys.py", "valid", "50"], text=True).splitlines()]

        # (phase, seconds, action at its start)
        phases = [("steady", 8, None), ("Redis down", 12, redis_stop), ("Redis back", 10, redis_start),
                  ("PostgreSQL down", 12, pg_stop), ("PostgreSQL back", 10, pg_start),
                  ("both down", 12, lambda: (redis_stop(), pg_stop())),
                  ("both back", 12, lambda: (redis_start(), pg_start()))]
        total = sum(p[1] for p in phases)
        loads = {name: wrk(keys_file("%s/faults-%s.keys" % (out, name), keys), total,
                           "%s/faults-wrk-%s.txt" % (out, name))
                 for name, keys in (("valid", valid), ("revoked", revoked), ("invalid", invalid))}
        began = time.monotonic()
        for name, seconds, action in phases:
            print("phase: " + name, flush=True)
            phase_start = time.monotonic()
            if action:
                action()
            if name == "Redis down":
                time.sleep(1)
                revoke_start = time.monotonic()
                admin(MGMT, "DELETE", "/" + to_revoke_during_outage["id"])
                refused = until_refused(to_revoke_during_outage["key"])
                delay = None if refused is None else refused - revoke_start
                check(delay is not None and delay <= 1.2,
                      "a key revoked while Redis is down was refused %s after the revoke call began "
                      "(documented bound 1.2 s)" % ("never" if delay is None else "%.3f s" % delay))
            if name == "PostgreSQL down":
                time.sleep(1)
                code = status(PORT, never_used)
                check(code == 503, "a valid key never used before PostgreSQL went down got %d while it was down "
                                   "(503 expected, never 401)" % code)
                try:
                    admin(MGMT, "POST", "", {"consumerId": "faults-valid"})
                    check(False, "the admin API created a key while PostgreSQL was down")
                except urllib.error.HTTPError as error:
                    check(error.code == 503, "the admin API answered %d while PostgreSQL was down" % error.code)
            remaining = seconds - (time.monotonic() - phase_start)
            if remaining > 0:
                time.sleep(remaining)
        for process in loads.values():
            process.wait(total + 30)
        print("load ran %.0f s" % (time.monotonic() - began))

        results = {name: statuses("%s/faults-wrk-%s.txt" % (out, name)) for name in loads}
        for name, counts in results.items():
            print("%-8s %s" % (name, " ".join("%s=%d" % item for item in sorted(counts.items()))))
        ok_valid = results["valid"].get("200", 0)
        check(ok_valid > 0, "valid keys: %d successes" % ok_valid)
        check(results["valid"].get("401", 0) == 0, "valid keys: %d 401s" % results["valid"].get("401", 0))
        check(results["valid"].get("503", 0) == 0, "valid keys (all used before the faults): %d 503s"
              % results["valid"].get("503", 0))
        for name, counts in results.items():
            fives = sum(n for code, n in counts.items() if code.isdigit() and code.startswith("5") and code != "503")
            check(fives == 0, "%s keys: %d 5xx other than 503" % (name, fives))
            check(counts.get("errors", 0) == 0, "%s keys: %d socket errors" % (name, counts.get("errors", 0)))
        for name in ("revoked", "invalid"):
            passed = sum(n for code, n in results[name].items() if code.isdigit() and code.startswith("2"))
            check(passed == 0, "%s keys: %d successes" % (name, passed))

        # Recovery, with the same gateway process.
        time.sleep(2)
        check(all(status(PORT, key) == 200 for key in valid), "after the faults every valid key works")
        check(status(PORT, never_used) == 200, "after the faults the never-used key works")
        fresh = admin(MGMT, "POST", "", {"consumerId": "faults-valid"})
        check(status(PORT, fresh["key"]) == 200, "after the faults a new key can be created and used")
        check(gateway.poll() is None, "the gateway was not restarted")

        concurrent_creations(run_id, db)
    finally:
        redis_start()
        pg_start()
        gateway.terminate()
        gateway.wait(30)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])

#!/usr/bin/env python3
"""Generates API keys in the plugin's exact format (prefix, 43 base62, CRC32 as 6 base62), and
their SHA-256, for seeding benchmark databases and feeding wrk.

  keys.py valid N            N well-formed keys, one per line
  keys.py badsum N           N keys of the right shape with a wrong checksum
  keys.py copy N consumer    PostgreSQL COPY text: id, key_hash, key_start, consumer_id, created_at
                             (keys on stdout's companion file keys.txt are written with --keys FILE)
"""
import hashlib
import secrets
import sys
import uuid
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PREFIX = "sk_live_"


def base62(value, width):
    out = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        out.append(ALPHABET[digit])
    return "".join(reversed(out))


def key(valid=True):
    body = "".join(secrets.choice(ALPHABET) for _ in range(43))
    checksum = zlib.crc32((PREFIX + body).encode("ascii")) & 0xFFFFFFFF
    if not valid:
        checksum = (checksum + 1) & 0xFFFFFFFF
    return PREFIX + body + base62(checksum, 6)


def main(argv):
    mode, count = argv[1], int(argv[2])
    if mode in ("valid", "badsum"):
        for _ in range(count):
            print(key(mode == "valid"))
        return
    if mode == "copy":
        consumer = argv[3]
        keys_file = open(argv[4], "w") if len(argv) > 4 else None
        out = sys.stdout
        for i in range(count):
            k = key()
            if keys_file and i < 100_000:
                keys_file.write(k + "\n")
            digest = hashlib.sha256(k.encode("ascii")).hexdigest()
            out.write(f"{uuid.uuid4()}\t\\\\x{digest}\t{k[:12]}\t{consumer}\t2026-01-01 00:00:00+00\n")
        return
    raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

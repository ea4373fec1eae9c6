#!/usr/bin/env python3
"""Writes a RESP stream of SET commands to stdout, for `redis-cli --pipe`.

    _gen_load.py --count N [--start S] [--key-format 'key:%010d'] [--value-size 100] [--seed 1]

Keys are KEY_FORMAT % i for i in [start, start+count). Values are value-size bytes of
deterministic pseudo-random alphanumerics (a slice of a seeded random pool, so values differ
from key to key and runs are reproducible).
"""

import argparse
import random
import string
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--key-format", default="key:%010d")
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    alphabet = (string.ascii_letters + string.digits).encode()
    pool_len = 1 << 16
    pool = bytes(rng.choice(alphabet) for _ in range(pool_len + a.value_size))
    vs = a.value_size
    vhdr = b"$%d\r\n" % vs
    out = sys.stdout.buffer
    chunk = []
    for i in range(a.start, a.start + a.count):
        key = (a.key_format % i).encode()
        off = (i * 40503) % pool_len
        chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n%s%s\r\n" % (len(key), key, vhdr, pool[off:off + vs]))
        if len(chunk) >= 10000:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
    out.flush()


if __name__ == "__main__":
    main()

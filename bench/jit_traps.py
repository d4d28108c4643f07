"""Deoptimizations (uncommon traps) of a running JVM, from its -XX:+LogCompilation file.

python3 bench/jit_traps.py <log file> [from seconds] [--methods PREFIX]

Prints the traps per 10 s window after `from` (default 60), and the methods whose compiled code
trapped most often (their outermost compiled method, which is what gets recompiled). With
--methods, lists each trap whose stack names a method starting with PREFIX.
"""
import collections
import re
import sys

TRAP = re.compile(r"<uncommon_trap thread='\d+' reason='([^']+)' action='([^']+)'[^>]*?stamp='([\d.]+)'>\s*((?:<jvms [^>]*>\s*)+)")
FRAME = re.compile(r"bci='(\d+)' method='([^' ]+) ([^' ]+)")


def name(frame):
    return frame[1].split("/")[-1] + "." + frame[2]


def main(args):
    path = args[0]
    start = float(args[1]) if len(args) > 1 and not args[1].startswith("--") else 60.0
    prefix = args[args.index("--methods") + 1] if "--methods" in args else None
    with open(path, errors="replace") as log:
        traps = [(float(stamp), reason, action, FRAME.findall(jvms))
                 for reason, action, stamp, jvms in TRAP.findall(log.read())]
    traps = [t for t in traps if t[0] >= start]
    windows = collections.Counter(int(t[0] // 10) * 10 for t in traps)
    print("traps per 10 s window from %.0f s: %s" % (start, ", ".join("%d s: %d" % w for w in sorted(windows.items()))))
    outer = collections.Counter((name(t[3][-1]), t[1]) for t in traps if t[3])
    print("most frequent (outermost method, reason):")
    for (method, reason), count in outer.most_common(15):
        print("  %4d  %s  %s" % (count, method, reason))
    if prefix:
        for stamp, reason, action, frames in traps:
            if any(f[1].replace("/", ".").startswith(prefix) for f in frames):
                print("%.3f %s %s %s bci %s (outermost %s)" % (stamp, reason, action, name(frames[0]), frames[0][0], name(frames[-1])))


if __name__ == "__main__":
    main(sys.argv[1:])

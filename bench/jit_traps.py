"""Deoptimizations (uncommon traps) of a running JVM, from its -XX:+LogCompilation file.

python3 bench/jit_traps.py <log file> [from seconds] [--methods PREFIX] [--bursts] [--compiles FROM]

Prints the traps per 10 s window after `from` (default 60), and the methods whose compiled code
trapped most often (their outermost compiled method, which is what gets recompiled). With
--methods, lists each trap whose stack names a method starting with PREFIX. With --bursts, groups
traps less than 50 ms apart and prints each group's time, size, thread and first methods: periodic
background work (a usage flush every 30 s, a refresh-ahead every minute) shows up as groups of
the same methods at a fixed period, and the last group is usually the JVM shutting down. With
--compiles, counts the methods compiled from FROM seconds on, by tier and by package, and the time
the compiler threads spent on them (from each task's start to its end, so on busy cores more than
their CPU): what the JIT is still busy with.
"""
import collections
import re
import sys

NMETHOD = re.compile(r"<nmethod compile_id='\d+' (?:compile_kind='\w+' )?compiler='\w*' level='(\d)'[^>]*?method='([^' ]+) [^>]*?stamp='([\d.]+)'")
TRAP = re.compile(r"<uncommon_trap thread='(\d+)' reason='([^']+)' action='([^']+)'[^>]*?stamp='([\d.]+)'>\s*((?:<jvms [^>]*>\s*)+)")
TASK = re.compile(r"<task compile_id='\d+' [^>]*?stamp='([\d.]+)'>")
TASK_LEVEL = re.compile(r"level='(\d)'")
TASK_DONE = re.compile(r"<task_done [^>]*?stamp='([\d.]+)'")
FRAME = re.compile(r"bci='(\d+)' method='([^' ]+) ([^' ]+)")


def name(frame):
    return frame[1].split("/")[-1] + "." + frame[2]


def main(args):
    path = args[0]
    start = float(args[1]) if len(args) > 1 and not args[1].startswith("--") else 60.0
    prefix = args[args.index("--methods") + 1] if "--methods" in args else None
    with open(path, errors="replace") as log:
        text = log.read()
    traps = [(float(stamp), reason, action, FRAME.findall(jvms), thread)
             for thread, reason, action, stamp, jvms in TRAP.findall(text)]
    traps = [t for t in traps if t[0] >= start]
    windows = collections.Counter(int(t[0] // 10) * 10 for t in traps)
    print("traps per 10 s window from %.0f s: %s" % (start, ", ".join("%d s: %d" % w for w in sorted(windows.items()))))
    outer = collections.Counter((name(t[3][-1]), t[1]) for t in traps if t[3])
    print("most frequent (outermost method, reason):")
    for (method, reason), count in outer.most_common(15):
        print("  %4d  %s  %s" % (count, method, reason))
    if prefix:
        for stamp, reason, action, frames, _ in traps:
            if any(f[1].replace("/", ".").startswith(prefix) for f in frames):
                print("%.3f %s %s %s bci %s (outermost %s)" % (stamp, reason, action, name(frames[0]), frames[0][0], name(frames[-1])))
    if "--bursts" in args:
        print("bursts (traps less than 50 ms apart): start s, traps, threads, first outermost methods")
        for burst in bursts(traps):
            threads = sorted({t[4] for t in burst})
            methods = list(dict.fromkeys(name(t[3][-1]) for t in burst if t[3]))
            print("  %8.3f %4d  %s  %s" % (burst[0][0], len(burst), ",".join(threads), "; ".join(methods[:4])))
    if "--compiles" in args:
        since = float(args[args.index("--compiles") + 1])
        compiled = [(level, method) for level, method, stamp in NMETHOD.findall(text) if float(stamp) >= since]
        tiers = collections.Counter(level for level, _ in compiled)
        packages = collections.Counter(".".join(method.split(".")[:3]) for _, method in compiled)
        print("methods compiled from %.0f s: %d; by tier: %s" % (since, len(compiled),
              ", ".join("%s: %d" % t for t in sorted(tiers.items()))))
        print("  by package: " + ", ".join("%s %d" % p for p in packages.most_common(8)))
        seconds = compile_seconds(text, since)
        print("  compile time from %.0f s: %s" % (since, ", ".join("tier %s %.2f s" % t for t in sorted(seconds.items()))))


def compile_seconds(text, since):
    """Seconds from each compile task's start to its end, by tier (C2 tasks carry no level: 4)."""
    seconds = collections.Counter()
    started = None
    for line in text.splitlines():
        if line.startswith("<task "):
            match = TASK.match(line)
            level = TASK_LEVEL.search(line)
            started = (float(match.group(1)), level.group(1) if level else "4") if match else None
        elif line.startswith("<task_done") and started:
            done = TASK_DONE.match(line)
            if done and started[0] >= since:
                seconds[started[1]] += float(done.group(1)) - started[0]
            started = None
    return seconds


def bursts(traps, gap=0.05):
    group = []
    for trap in sorted(traps, key=lambda t: t[0]):
        if group and trap[0] - group[-1][0] > gap:
            yield group
            group = []
        group.append(trap)
    if group:
        yield group


if __name__ == "__main__":
    main(sys.argv[1:])

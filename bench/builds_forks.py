"""Pools builds.sh gateways labelled group#fork: several gateways (JVMs) of one configuration.

python3 bench/builds_forks.py builds-rounds.txt

Identical gateways can differ for their whole lifetime, because each JVM compiles its own way;
rounds cannot average that out, only more gateways can (JMH's forks). For every group, each
round's requests/s of each fork is divided by the mean of the first group's forks in that round;
each fork's median over the rounds is its figure; the group's figure is the median over its
forks, with the lowest and highest fork beside it. CPU per request likewise.
bench/calibrate_fit.py pools its rounds with the same functions.
"""
import statistics
import sys

REQUESTS, CPU, P99 = 0, 1, 2


def read_rounds(path):
    """builds.sh's rounds file: one dict per round, label -> "requests/s/cpu-us-per-request/p99-us"
    (files of runs before p99 was recorded have the first two only)."""
    return [dict(cell.split("=") for cell in line.split()[1:]) for line in open(path)]


def fork_groups(rows):
    """group -> its labels, in the order builds.sh was given them."""
    groups = {}
    for label in rows[0]:
        groups.setdefault(label.split("#")[0], []).append(label)
    return groups


def value(row, label, i):
    return float(row[label].split("/")[i])


def pooled(rows, labels, reference, i, combine=lambda x, ref: x / ref):
    """(median over forks, lowest fork, highest fork) of each fork's median over the rounds of
    combine(its value, the mean of the reference forks in the same round)."""
    forks = [statistics.median(combine(value(r, label, i), statistics.mean(value(r, ref, i) for ref in reference))
                               for r in rows) for label in labels]
    return statistics.median(forks), min(forks), max(forks)


def main(path):
    rows = read_rounds(path)
    groups = fork_groups(rows)
    first = next(iter(groups))
    with_p99 = all(len(cell.split("/")) > P99 for row in rows for cell in row.values())
    print(f"| configuration | forks | requests/s over {first}: median of forks (lowest-highest fork) "
          f"| CPU per request over {first}: median of forks (lowest-highest) |"
          + (f" p99 minus {first}'s, ms: median of forks (lowest-highest) |" if with_p99 else ""))
    print("|---|---:|---:|---:|" + ("---:|" if with_p99 else ""))
    for group, labels in groups.items():
        cells = [pooled(rows, labels, groups[first], i) for i in (REQUESTS, CPU)]
        line = f"| {group} | {len(labels)} | " + " | ".join(f"{m:.3f} ({lo:.3f}-{hi:.3f})" for m, lo, hi in cells) + " |"
        if with_p99:
            m, lo, hi = pooled(rows, labels, groups[first], P99, combine=lambda x, ref: (x - ref) / 1000)
            line += f" {m:.2f} ({lo:.2f}-{hi:.2f}) |"
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])

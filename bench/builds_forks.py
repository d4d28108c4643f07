"""Pools builds.sh gateways labelled group#fork: several gateways (JVMs) of one configuration.

python3 bench/builds_forks.py builds-rounds.txt

Identical gateways can differ for their whole lifetime, because each JVM compiles its own way;
rounds cannot average that out, only more gateways can (JMH's forks). For every group, each
round's requests/s of each fork is divided by the mean of the first group's forks in that round;
each fork's median over the rounds is its figure; the group's figure is the median over its
forks, with the lowest and highest fork beside it. CPU per request likewise.
"""
import statistics
import sys

rows = [dict(cell.split("=") for cell in line.split()[1:]) for line in open(sys.argv[1])]
groups = {}
for label in rows[0]:
    groups.setdefault(label.split("#")[0], []).append(label)
reference = next(iter(groups.values()))
value = lambda row, label, i: float(row[label].split("/")[i])
print(f"| configuration | forks | requests/s over {next(iter(groups))}: median of forks (lowest-highest fork) "
      f"| CPU per request over {next(iter(groups))}: median of forks (lowest-highest) |")
print("|---|---:|---:|---:|")
for group, labels in groups.items():
    cells = []
    for i in (0, 1):
        forks = [statistics.median(value(r, label, i) / statistics.mean(value(r, ref, i) for ref in reference)
                                   for r in rows) for label in labels]
        cells.append(f"{statistics.median(forks):.3f} ({min(forks):.3f}-{max(forks):.3f})")
    print(f"| {group} | {len(labels)} | {cells[0]} | {cells[1]} |")

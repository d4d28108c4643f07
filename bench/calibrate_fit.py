"""Fits bench/calibrate.sh's rounds: throughput and gateway CPU against the calibration work.

python3 bench/calibrate_fit.py builds-rounds.txt

Input: builds.sh's rounds file, one line per round, "N label=requests/cpu_us ...", with labels
wN#fork (N SHA-256 digests per request, the calibration filter) and hit#fork (key auth). As in
bench/builds_forks.py, each fork's figure is its median over the rounds of its ratio to the
mean of the w0 forks in the same round (for CPU: its difference), and each configuration's
figure the median over its forks. The line is then fitted through w0 (no work) by least squares.
"""
import statistics
import sys

from builds_forks import CPU, REQUESTS, fork_groups, pooled, read_rounds, value

rows = read_rounds(sys.argv[1])
groups = fork_groups(rows)
reference = groups["w0"]
ratio = {g: pooled(rows, ls, reference, REQUESTS) for g, ls in groups.items()}
added = {g: pooled(rows, ls, reference, CPU, lambda x, ref: x - ref) for g, ls in groups.items()}
base_cpu = statistics.median(statistics.mean(value(r, ref, CPU) for ref in reference) for r in rows)
work = {int(g[1:]): g for g in groups if g.startswith("w")}


def through_origin(points):
    return sum(x * y for x, y in points) / sum(x * x for x, _ in points)


loss = -through_origin([(n, ratio[g][0] - 1) for n, g in work.items() if n])
per_digest = through_origin([(n, added[g][0]) for n, g in work.items() if n])
print(f"| configuration | forks | requests/s over w0: median of forks (lowest-highest) | gateway CPU added per request, µs (lowest-highest fork) |")
print("|---|---:|---:|---:|")
for g in groups:
    r, a = ratio[g], added[g]
    print(f"| {g} | {len(groups[g])} | {r[0]:.3f} ({r[1]:.3f}-{r[2]:.3f}) | {a[0]:+.1f} ({a[1]:+.1f} to {a[2]:+.1f}) |")
print()
share = per_digest / base_cpu
print(f"Fitted over {len(rows)} rounds: one digest of filter work adds {per_digest:.2f} µs of gateway CPU per request "
      f"({100 * share:.2f}% of w0's {base_cpu:.0f} µs) and costs {100 * loss:.2f}% of throughput, "
      f"{loss / share:.2f} times its share of the gateway's CPU.")
if loss > 0 and "hit" in ratio:
    budget = 0.03 / loss
    equivalent = (1 - ratio["hit"][0]) / loss
    print(f"On that line the 97% target leaves a filter {budget:.1f} digests' worth of work ({budget * per_digest:.1f} µs "
          f"of gateway CPU per request, {100 * budget * share:.1f}% of it); key auth costs as much throughput as "
          f"{equivalent:.1f} digests ({equivalent * per_digest:.1f} µs), and adds {added['hit'][0]:.1f} µs of gateway CPU "
          f"per request.")

"""Pools the rounds of several compare.sh runs (each a fresh set of JVMs, a "fork").

python3 bench/compare_summary.py bench/target/fork1/compare.md bench/target/fork2/compare.md ...

Prints, for each ratio column, the median of each run and the median over all rounds of all
runs. One run's rounds share its JVMs' compiled code, so they cannot show how much that varies
from one start to the next; the spread of the per-run medians does.
"""
import statistics
import sys


def rounds(path):
    header, rows = None, []
    with open(path) as lines:
        for line in lines:
            if not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0] == "round":
                header = cells
            elif cells[0].isdigit():
                row = dict(zip(header, cells))
                add_derived(row)
                rows.append(row)
    return header + [d for d, _, _ in DERIVED], rows


# Ratios compare.sh does not print, from the requests/s of each configuration's column.
DERIVED = [("(2i)/(2)", "(2i)", "(2)"), ("(6)/(3)", "(6)", "(3)")]


def add_derived(row):
    rps = {}
    for name, cell in row.items():
        label = name.split(" ", 1)[0]
        if label.startswith("(") and "/" not in label and " " in name:
            rps[label] = float(cell.split(" ", 1)[0])
    for column, a, b in DERIVED:
        if a in rps and b in rps:
            row[column] = "%.3f" % (rps[a] / rps[b])


def main(paths):
    runs = [rounds(p) for p in paths]
    columns = []
    for header, _ in runs:
        columns += [c for c in header if "/" in c and c not in columns]
    print("| ratio | " + " | ".join("run %d" % (i + 1) for i in range(len(runs))) + " | all rounds | rounds |")
    print("|---|" + "---:|" * (len(runs) + 2))
    for column in columns:
        per_run, pooled = [], []
        for _, rows in runs:
            values = [float(r[column]) for r in rows if column in r]
            per_run.append("%.3f" % statistics.median(values) if values else "-")
            pooled += values
        print("| %s | %s | **%.3f** | %d |" % (column, " | ".join(per_run), statistics.median(pooled), len(pooled)))


if __name__ == "__main__":
    main(sys.argv[1:])

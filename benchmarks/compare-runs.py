#!/usr/bin/env python3
"""Paired comparison of one method across two DirExperiment runs made on the same seeds.

Usage: compare-runs.py TREATMENT/results.csv BASELINE/results.csv [METHOD]

Pairs the METHOD runs (default RankSim) of both files by seed and prints, per shot group, the mean test MAE of each, the
mean of (treatment - baseline), its standard error (sample standard deviation / sqrt(seeds)) and the seeds on which the
treatment is lower / higher (the library's PairedComparison), for runs that two invocations made, for example one with
--ranksim-bin-width and one without. The other methods, run identically by both, must agree: the seeds are paired.
"""
import csv
import math
import sys


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return {(r["method"], int(r["seed"]), r["group"]): r for r in csv.DictReader(f)}


def main():
    treatment, baseline = read(sys.argv[1]), read(sys.argv[2])
    method = sys.argv[3] if len(sys.argv) > 3 else "RankSim"
    for key in set(treatment) & set(baseline):
        if key[0] != method and treatment[key]["mae"] != baseline[key]["mae"]:
            sys.exit(f"{key[0]} seed {key[1]} differs between the files: not paired runs")

    seeds = sorted({k[1] for k in treatment if k[0] == method} & {k[1] for k in baseline if k[0] == method})
    if not seeds:
        sys.exit(f"no seed has a {method} run in both files")

    print(f"{method}, {len(seeds)} seeds: test MAE, treatment - baseline")
    print("group   treatment  baseline  mean difference  standard error  lower/higher")
    for group in ("All", "Many", "Medium", "Few"):
        pairs = [(float(treatment[(method, s, group)]["mae"]), float(baseline[(method, s, group)]["mae"])) for s in seeds
                 if (method, s, group) in treatment and (method, s, group) in baseline]
        differences = [t - b for t, b in pairs]
        n = len(differences)
        mean = sum(differences) / n
        se = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1)) / math.sqrt(n) if n > 1 else float("nan")
        print(f"{group:<7} {sum(t for t, _ in pairs) / n:9.3f} {sum(b for _, b in pairs) / n:9.3f} {mean:+16.3f} {se:15.3f}"
              f"  {sum(t < b for t, b in pairs)}/{sum(t > b for t, b in pairs)}")

    def seconds(rows):
        return sum(float(rows[(method, s, "All")]["seconds"]) for s in seeds) / len(seeds)

    print(f"seconds per {method} run (mean): treatment {seconds(treatment):.1f}, baseline {seconds(baseline):.1f}")


if __name__ == "__main__":
    main()

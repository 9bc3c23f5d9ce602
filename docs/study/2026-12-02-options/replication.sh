#!/bin/bash
# Confirmatory replication, declared before running (2026-12-02 04:43 UTC): the one arm that looked most consistent in the
# options study (soft ranks, epsilon 0.1, gamma 0.1, on Vanilla), on NEW seeds 5-14, same protocol (40 epochs, cosine schedule).
# Run from the repository root.
cd "$(dirname "$0")/../../.."
for d in randhie synthetic agedb-like; do
  echo "=== $d $(date -u +%H:%M:%S)"
  dotnet run -c Release --project samples/DirExperiment --no-build -- --dataset $d --methods RankSim --ranking Soft --soft-regularization 0.1 --gamma 0.1 --seeds 10 --first-seed 5 --epochs 40 --schedule Cosine --out results/replication-$d
done
echo "=== done $(date -u +%H:%M:%S)"

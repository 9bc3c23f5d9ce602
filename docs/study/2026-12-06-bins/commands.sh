#!/usr/bin/env bash
# One sample per $100 label bin against one per distinct label, diamonds, batch 2048, paired seeds 0-4 (same split,
# initialization and batch order in both invocations; Vanilla runs identically in both and checks the pairing).
# Arms fixed before running: RankSim at the sample's gamma 0.1, lambda 0.5; bin width 1 (label units: $100, the
# width of the DIR evaluation's bins). Learning rate 0.003 with a cosine schedule over 100 epochs (batch 2048 takes 21
# steps an epoch), the epoch chosen on validation MAE. The two invocations ran side by side, one thread each, on a
# 2-core AMD EPYC VM (2026-12-06): their run times are indicative only (benchmarks measure cost).
set -euo pipefail
common=(--dataset diamonds --methods RankSim --seeds 5 --batch-size 2048 --epochs 100 --patience 100
        --learning-rate 0.003 --schedule Cosine --threads 1)
dotnet run -c Release --project samples/DirExperiment -- "${common[@]}" --out results/exact
dotnet run -c Release --project samples/DirExperiment -- "${common[@]}" --ranksim-bin-width 1 --out results/binned
python3 benchmarks/compare-runs.py results/binned/*/results.csv results/exact/*/results.csv

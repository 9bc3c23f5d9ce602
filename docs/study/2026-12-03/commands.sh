#!/usr/bin/env bash
# The regularizer study of 2026-12-03, as it was run: two processes with one libtorch thread each, side by side on a
# 2-core AMD EPYC VM (Debian 12, .NET 10, TorchSharp 0.107 / libtorch 2.10 CPU). Both append to the same study folder;
# a run already in its runs-SETTING.jsonl is not run again, so the same commands resume an interrupted study.
set -euo pipefail
dir=${1:-docs/study/2026-12-03}
export OMP_NUM_THREADS=1
dotnet build -c Release samples/DirExperiment
dotnet run -c Release --no-build --project samples/DirExperiment -- \
  --study --study-settings agedb-like --threads 1 --study-dir "$dir" > cnn.log 2>&1 &
dotnet run -c Release --no-build --project samples/DirExperiment -- \
  --study --study-settings synthetic,randhie,diamonds --threads 1 --study-dir "$dir" > tabular.log 2>&1
wait
# As run here, the images' replication phase was shared by two processes once the other settings were done: the
# agedb-like process was stopped after its replication runs of seeds 5-8 and restarted as
#   ... --study --study-settings agedb-like --threads 1 --study-dir "$dir" --study-shard 0/2   (and 1/2)
# Each run is seeded by its seed alone, so the split changes no result, only the time column.
# Any process of the same command writes study.md and study.csv from every runs-*.jsonl in the folder when it ends;
# this one rewrites them once all runs are in (it finds every run done and runs nothing).
dotnet run -c Release --no-build --project samples/DirExperiment -- --study --threads 1 --study-dir "$dir"

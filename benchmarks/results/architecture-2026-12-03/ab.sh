#!/bin/bash
# Old and new builds of RankSimLoss forward + backward (--loss-timing), alternated process by process.
# Usage: ab.sh OLD_DLL NEW_DLL, each the RankSim.Benchmarks.dll of a Release build of one commit.
old=$1
new=$2
for round in 1 2 3 4 5; do
  for args in "256 2048 age" "1024 512 cont"; do
    if [ $((round % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
    for which in $order; do
      dll=$old; [ $which = new ] && dll=$new
      echo "round $round $which $(dotnet $dll --loss-timing $args | tail -n 1)"
    done
  done
done

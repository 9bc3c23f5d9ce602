#!/bin/bash
# Counts libtorch operator calls per RankSimLoss forward + backward: one uprobe on each exported at::_ops::<op>::call of
# libtorch_cpu.so (root, Linux tracefs), then the hits of a process making 30 calls minus those of one making 10.
# Usage: count-operator-calls.sh BENCHMARK_BIN_DIR [reference]     (BIN_DIR: a Release build of RankSim.Benchmarks)
set -euo pipefail
dir=$1; mode=${2:-kernels}
lib=$dir/runtimes/linux-x64/native/libtorch_cpu.so
T=/sys/kernel/tracing
if [ ! -d $T/events/probe_libtorch_cpu ]; then
  nm -D --defined-only "$lib" | awk '$3 ~ /^_ZN2at4_ops.*4callE/ {print $1}' | sort -u > /tmp/opaddrs.txt
  split -l 120 /tmp/opaddrs.txt /tmp/opbatch.
  n=0
  for f in /tmp/opbatch.*; do
    args=""; while read -r a; do n=$((n + 1)); args="$args -a op$n=0x$a"; done < "$f"
    perf probe -q -x "$lib" $args
  done
  rm -f /tmp/opbatch.*
fi
echo 65536 > $T/buffer_size_kb
echo 1 > $T/events/probe_libtorch_cpu/enable
hits() {
  echo > $T/trace; echo 1 > $T/tracing_on
  (cd "$dir" && dotnet RankSim.Benchmarks.dll --op-calls "$mode" "$1" > /dev/null)
  echo 0 > $T/tracing_on
  grep -cE " op[0-9]+: " $T/trace
}
a=$(hits 10); b=$(hits 30)
echo "$mode: $(( (b - a) / 20 )) operator calls per forward + backward"
echo 0 > $T/events/probe_libtorch_cpu/enable

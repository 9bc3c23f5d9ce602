#!/bin/bash
# Counts libtorch operator calls per RankSimLoss forward + backward, all of them and the outermost ones: an entry and a
# return uprobe on each exported at::_ops::<op>::call of libtorch_cpu.so (root, Linux tracefs). An outermost call is one
# made while no other operator call is running on its thread: what TorchSharp (or autograd's engine) issues; the calls
# it makes inside are nested. Counted as the hits of a process making 30 calls minus those of one making 10, over 20.
# Usage: count-operator-calls.sh BENCHMARK_BIN_DIR [kernels|reference] [op-calls shape options, e.g. --batch 256 --dim 2048]
# (a Release build of RankSim.Benchmarks; run as root). Then, per operator (nested calls included): its calls per
# forward + backward, from the same two processes.
set -euo pipefail
dir=$1; mode=${2:-kernels}; shift 2 || true
flag=(); [ "$mode" = reference ] && flag=(--reference)
lib=$dir/runtimes/linux-x64/native/libtorch_cpu.so
T=/sys/kernel/tracing
if [ ! -d $T/events/probe_libtorch_cpu ] || ! ls $T/events/probe_libtorch_cpu | grep -q __return; then
  perf probe -q -d 'probe_libtorch_cpu:*' 2>/dev/null || true
  nm -D --defined-only "$lib" | awk '$3 ~ /^_ZN2at4_ops.*4callE/ {print $1}' | sort -u > /tmp/opaddrs.txt
  nm -D --defined-only "$lib" | awk '$3 ~ /^_ZN2at4_ops.*4callE/ {print $1, $3}' | sort -u -k1,1 > /tmp/opnames.txt
  split -l 100 /tmp/opaddrs.txt /tmp/opbatch.
  n=0
  for f in /tmp/opbatch.*; do
    m=$n; args=""; while read -r a; do n=$((n + 1)); args="$args -a op$n=0x$a"; done < "$f"
    perf probe -q -x "$lib" $args
    n=$m; args=""; while read -r a; do n=$((n + 1)); args="$args -a ret$n=0x$a%return"; done < "$f"
    perf probe -q -x "$lib" $args
  done
  rm -f /tmp/opbatch.*
fi
echo 262144 > $T/buffer_size_kb
echo 1 > $T/events/probe_libtorch_cpu/enable
hits() {
  local calls=$1; shift
  echo > $T/trace; echo 1 > $T/tracing_on
  (cd "$dir" && dotnet RankSim.Benchmarks.dll op-calls "${flag[@]}" --calls "$calls" "$@" > /dev/null)
  echo 0 > $T/tracing_on
  # per thread: depth up on an entry, down on a return; prints "all outermost"
  grep -oE "^ *[^ ]+-[0-9]+ .* (op[0-9]+|ret[0-9]+__return): " $T/trace |
    awk -v per="$per" '{ t = $1; if ($NF ~ /^op/) { all++; n[$NF]++; if (d[t] == 0) top++; d[t]++ } else if (d[t] > 0) d[t]-- }
      END { print all, top; for (k in n) print k, n[k] > per }'
}
per=/tmp/per10.txt; read -r a1 t1 < <(hits 10 "$@"); per=/tmp/per30.txt; read -r a3 t3 < <(hits 30 "$@")
echo "$mode: $(( (a3 - a1) / 20 )) operator calls per forward + backward, $(( (t3 - t1) / 20 )) of them outermost"
# Per operator: probe opK is the K-th address; its symbol names the operator (at::_ops::<name>::call).
awk 'FILENAME == ARGV[1] { sym[FNR] = $2; next } FILENAME == ARGV[2] { c10[$1] = $2; next } { c = ($2 - c10[$1]) / 20; if (c > 0) { k = substr($1, 3) + 0; s = sym[k]; sub(/^_ZN2at4_ops[0-9]+/, "", s); sub(/4callE.*/, "", s); print c, s } }' \
  /tmp/opnames.txt /tmp/per10.txt /tmp/per30.txt | sort -k1,1nr
echo 0 > $T/events/probe_libtorch_cpu/enable

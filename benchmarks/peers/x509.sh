#!/bin/sh
# Uncached chain verification: iotblocks::x509::verifier against plain OpenSSL
# X509_verify_cert on the same chains, in one run (random interleaving, medians
# of CPU-time rates), and the registry's hot paths.
# Usage: benchmarks/peers/x509.sh [build/bench-x509]
set -eu
build=${1:-build/bench-x509}
reps=${REPS:-7}
"$build/benchmarks/x509_benchmark" --benchmark_filter=Verify --benchmark_min_time=0.3 \
  --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true 2>/dev/null | awk '
  /_median/ {
    name = $1; sub(/_median$/, "", name)
    split(name, part, "/"); kind = part[1]; chain = part[2] "/" part[3]
    for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) { rate = $i; sub(/items_per_second=/, "", rate) }
    value = rate + 0
    if (rate ~ /k\/s$/) value *= 1e3; else if (rate ~ /M\/s$/) value *= 1e6
    r[kind, chain] = value; chains[chain] = 1
  }
  END {
    printf "%-18s %14s %14s %14s %8s %8s\n", "chain", "iotblocks/s", "openssl/s", "strict/s", "ratio", "strict"
    for (c in chains) {
      alg = c; sub(/alg:0/, "RSA-2048", alg); sub(/alg:1/, "P-256", alg); sub(/levels:/, "", alg)
      printf "%-18s %14.0f %14.0f %14.0f %8.3f %8.3f\n", alg, r["BM_IotblocksVerify", c],
             r["BM_OpenSSLVerify", c], r["BM_OpenSSLStrictVerify", c],
             r["BM_IotblocksVerify", c] / r["BM_OpenSSLVerify", c],
             r["BM_IotblocksVerify", c] / r["BM_OpenSSLStrictVerify", c]
    }
  }'
[ "${SKIP_REGISTRY:-}" ] && exit 0
"$build/benchmarks/registry_benchmark" --benchmark_min_time=0.5 --benchmark_repetitions="$reps" \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep _median

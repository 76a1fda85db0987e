#!/usr/bin/env bash
# Benchmark: what recording who viewed which person (record_view) costs a people
# list page of 50 and a person detail, on SQLite and (with TEST_DATABASE_URL)
# PostgreSQL. Medians and 99th percentiles over R interleaved rounds.
# Usage: bench/record_view.sh [PEOPLE] [ROUNDS]      (release build)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20000}"
R="${2:-300}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo run --quiet --release -p laoxiao-store --example record_view_bench -- "$N" "$R"

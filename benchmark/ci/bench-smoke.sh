#!/usr/bin/env bash
# CI smoke test of the benchmark: every case at a small N on a fresh local stack, checking correctness
# (the whole MySQL table against the BigQuery query result after the initial sync, the no-change run and
# the 1% incremental refresh; 0 records for the no-change run; every row emitted in the emission runs; the
# initial sync in both record formats, JSON with schema and Avro through the stack's registry: --format both).
# Timings are printed but not checked. Exit code 1 on a mismatch, 2 on an error.
#
#   benchmark/ci/bench-smoke.sh            (a CI step, from the repository root or anywhere)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${BENCH_SMOKE_JSON:-$ROOT/benchmark/target/bench-smoke.json}
exec "$ROOT/bin/bench" --rows "${BENCH_SMOKE_ROWS:-20000}" --smoke --json "$OUT"

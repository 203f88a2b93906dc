#!/usr/bin/env bash
# Deploy latency of a code-only redeploy on the local runtime (aether up),
# CLI start → new version answering, p50/p95 over RUNS runs (default 10),
# against the same flow scripted with tar czf + oras push + cosign sign +
# cosign attest (+ oras pull, tar xzf, node) as the baseline, in one run.
# APP picks the example (hello, express-api).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
go run ./internal/benchdeploy -runs "${RUNS:-10}" -app "${APP:-hello}" "$@"

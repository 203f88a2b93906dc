#!/usr/bin/env bash
# Times aether-fetch's pull + verify + extract of a small app and of a
# ~20,000-file ~150 MB node_modules tree against `crane export REF - | tar -x`
# of the same artifact from the same registry, then the extractor alone
# against `tar -xzf` and across gzip readers; each ratio is measured within
# one run. BENCHTIME sets the iterations (default 3x). TMPDIR=/dev/shm takes
# the disk out of the measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
bt="${BENCHTIME:-3x}"
go test -run '^$' -bench 'FetchVsCrane' -benchtime "$bt" -timeout 60m ./pkg/fetch/
go test -run '^$' -bench 'ExtractVsTar|Gunzip' -benchtime "$bt" -timeout 60m ./pkg/extract/

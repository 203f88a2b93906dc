#!/usr/bin/env bash
# Times aether build's packaging against GNU tar -czf and against reading +
# SHA-256 of every file, on 10/100/500-file trees and a ~20,000-file ~150 MB
# node_modules-like tree, in one run; prints medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./internal/benchbuild "$@"

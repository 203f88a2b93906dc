#!/usr/bin/env bash
# Stops and deletes a cluster started by cluster-up.sh.
# Usage: e2e/k8s/cluster-down.sh [NAME]   (same AETHER_K8S_* variables)
set -euo pipefail

NAME="${1:-aether-e2e}"
BIN="${AETHER_K8S_BIN:-$HOME/.cache/aether-e2e/k8s/bin}"
STATE="${AETHER_K8S_STATE:-${TMPDIR:-/tmp}/aether-kwok}"
export KWOK_WORKDIR="$STATE" KWOK_KUBECTL_BINARY="$BIN/kubectl"

"$BIN/kwokctl" delete cluster --name "$NAME" >&2
rm -f "$STATE/$NAME.kubeconfig" "$STATE/$NAME.kwokctl.yaml"

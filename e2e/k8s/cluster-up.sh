#!/usr/bin/env bash
# Starts a Kubernetes cluster on 127.0.0.1 from the binaries setup.sh built:
# a real etcd, kube-apiserver, kube-controller-manager and kube-scheduler
# (kwokctl's binary runtime, no containers), and kwok fake nodes that mark
# pods Running/Ready (nothing runs inside them). ~3 s once built.
#
# Usage: e2e/k8s/cluster-up.sh [NAME]
# Prints the path of the cluster's kubeconfig on stdout; progress on stderr.
#   AETHER_K8S_BIN    binaries (default $HOME/.cache/aether-e2e/k8s/bin)
#   AETHER_K8S_STATE  clusters' state (default ${TMPDIR:-/tmp}/aether-kwok)
#   AETHER_K8S_NODES  fake nodes (default 1)
# Stop it with e2e/k8s/cluster-down.sh NAME.
set -euo pipefail

NAME="${1:-aether-e2e}"
BIN="${AETHER_K8S_BIN:-$HOME/.cache/aether-e2e/k8s/bin}"
STATE="${AETHER_K8S_STATE:-${TMPDIR:-/tmp}/aether-kwok}"
NODES="${AETHER_K8S_NODES:-1}"
HERE="$(cd "$(dirname "$0")" && pwd)"

for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl; do
  if [ ! -x "$BIN/$b" ]; then
    echo "cluster-up: $BIN/$b is missing; run e2e/k8s/setup.sh first (~7 min cold, cached after)" >&2
    exit 1
  fi
done

mkdir -p "$STATE"
export KWOK_WORKDIR="$STATE" KWOK_KUBECTL_BINARY="$BIN/kubectl"
kubeconfig="$STATE/$NAME.kubeconfig"
config="$STATE/$NAME.kwokctl.yaml"
# bindAddress: kwokctl binds every component to 0.0.0.0 unless told; the
# test cluster must not be reachable from the network. The Stages in
# stages.yaml replace kwok's defaults (see that file).
{
  cat <<YAML
kind: KwokctlConfiguration
apiVersion: config.kwok.x-k8s.io/v1alpha1
options:
  bindAddress: 127.0.0.1
  runtime: binary
---
YAML
  cat "$HERE/stages.yaml"
} > "$config"

start=$(date +%s%N)
"$BIN/kwokctl" --config "$config" create cluster --name "$NAME" --runtime binary \
  --etcd-binary "$BIN/etcd" \
  --kube-apiserver-binary "$BIN/kube-apiserver" \
  --kube-controller-manager-binary "$BIN/kube-controller-manager" \
  --kube-scheduler-binary "$BIN/kube-scheduler" \
  --kwok-controller-binary "$BIN/kwok" \
  --kubeconfig "$kubeconfig" --wait 2m >&2
"$BIN/kwokctl" --name "$NAME" scale node --replicas "$NODES" >&2
echo "cluster-up: $NAME ready in $(( ($(date +%s%N) - start) / 1000000 )) ms; KUBECONFIG=$kubeconfig" >&2
echo "$kubeconfig"

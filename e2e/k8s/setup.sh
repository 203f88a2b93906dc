#!/usr/bin/env bash
# Builds a real Kubernetes control plane from the Go module proxy, for the
# e2e suite: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl and kwok/kwokctl (fake nodes that mark pods Running/Ready).
#
# The binaries go into a cache that survives runs:
#   $AETHER_K8S_BIN (default $HOME/.cache/aether-e2e/k8s/bin)
# A warm run checks a version stamp and does nothing. Cold: ~7 min on 2
# cores; ~35 s when only the Go build cache is warm.
#
# Usage: e2e/k8s/setup.sh          builds what is missing; prints the bin dir
#        e2e/k8s/setup.sh --check  exits 0 when everything is built, 1 if not
set -euo pipefail

K8S=v1.37.2       # kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
STAGING=v0.37.2   # the k8s.io/* staging modules of $K8S
ETCD=v3.6.16
KWOK=v0.8.0

BIN="${AETHER_K8S_BIN:-$HOME/.cache/aether-e2e/k8s/bin}"
SRC="$(dirname "$BIN")/src"   # wrapper modules, kept so a rebuild is cheap
STAMP="$BIN/.versions"
WANT="k8s=$K8S etcd=$ETCD kwok=$KWOK"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl)

log() { echo "setup-k8s: $*" >&2; }

complete() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] || return 1
  for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done
}

if complete; then
  log "up to date ($WANT) in $BIN"
  echo "$BIN"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  log "not built: run e2e/k8s/setup.sh (~7 min cold on 2 cores, cached in $BIN after)"
  exit 1
fi

mkdir -p "$BIN" "$SRC"
# Parallel test binaries may call this at once: one builds, the others wait.
exec 9>"$BIN/.lock"
flock 9
if complete; then
  log "built by another process ($WANT) in $BIN"
  echo "$BIN"
  exit 0
fi

start=$(date +%s)
log "building $WANT into $BIN (cold: ~7 min on 2 cores)"
rm -f "$STAMP"
# The wrapper modules must not see the project's go.mod or a go.work.
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
TMPBIN="$(mktemp -d "$BIN/.build-XXXXXX")"
trap 'rm -rf "$TMPBIN"' EXIT

# etcd: `go install go.etcd.io/etcd/server/v3@v` refuses the module's replace
# directives, so build it from a wrapper module that requires it.
mkdir -p "$SRC/etcd-$ETCD"
(
  cd "$SRC/etcd-$ETCD"
  # go.sum marks a finished wrapper; a half-made one starts over.
  if [ ! -f go.sum ]; then
    rm -f go.mod
    go mod init aether-e2e/etcdwrap >/dev/null 2>&1
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    go get "go.etcd.io/etcd/server/v3@$ETCD" >&2
  fi
  log "etcd $ETCD"
  go build -trimpath -ldflags "-s -w" -o "$TMPBIN/etcd" go.etcd.io/etcd/server/v3
)

# Kubernetes: k8s.io/kubernetes replaces every staging module with ./staging;
# the wrapper module replaces them with the published $STAGING versions.
mkdir -p "$SRC/kubernetes-$K8S"
(
  cd "$SRC/kubernetes-$K8S"
  if [ ! -f go.sum ]; then
    rm -f go.mod
    mod=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    [ -n "$mod" ] || { log "cannot download k8s.io/kubernetes@$K8S"; exit 1; }
    {
      printf 'module aether-e2e/kubewrap\n\ngo 1.26.0\n\ngodebug default=go1.26\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S"
      sed -n '/^replace (/,/^)/p' "$mod" | awk -v v="$STAGING" '/=>/ && $1 !~ /sample-c/ {print "\t"$1" => "$1" "v}'
      echo ')'
    } > go.mod
    printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n)\n' > tools.go
    go mod tidy >&2
  fi
  minor=$(echo "$K8S" | cut -d. -f2)
  # kwokctl reads the component versions from the binaries: stamp them.
  ldf="-s -w -X k8s.io/component-base/version.gitVersion=$K8S -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    log "$c $K8S"
    go build -trimpath -ldflags "$ldf" -o "$TMPBIN/$c" "k8s.io/kubernetes/cmd/$c"
  done
)

log "kwok, kwokctl $KWOK"
(cd "$SRC" && GOBIN="$TMPBIN" go install -trimpath -ldflags "-s -w" \
  "sigs.k8s.io/kwok/cmd/kwok@$KWOK" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK")

for b in "${BINARIES[@]}"; do mv -f "$TMPBIN/$b" "$BIN/$b"; done
echo "$WANT" > "$STAMP"
log "done in $(( $(date +%s) - start ))s"
echo "$BIN"

#!/usr/bin/env bash
# The quickstart in one command: start AetherEngine (aether up: control
# plane, local OCI registry and local runtime in one process), deploy
# examples/hello through the whole pipeline (build, push, sign, attest,
# verify, run), print the URL and the app's answer, then keep serving until
# Ctrl-C. State lives where aether up keeps it ($XDG_DATA_HOME/aether).
set -euo pipefail
cd "$(dirname "$0")/.."

make -s build
addr="${AETHER_DEMO_ADDR:-127.0.0.1:8080}"
registry="${AETHER_DEMO_REGISTRY:-127.0.0.1:5000}"

log="$(mktemp -t aether-up.XXXXXX.log)"
bin/aether up --addr "$addr" --registry-addr "$registry" >"$log" 2>&1 &
up=$!
stop() { kill -TERM $up 2>/dev/null; wait $up 2>/dev/null || true; }
trap stop EXIT
trap 'stop; exit 0' INT TERM

for _ in $(seq 1 100); do
  if curl -fsS "http://$addr/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 $up 2>/dev/null; then cat "$log"; exit 1; fi
  sleep 0.1
done

url="$(bin/aether deploy examples/hello)"
echo
echo "examples/hello is running at $url"
echo "  GET / → $(curl -fsS "$url/")"
echo
echo "Change examples/hello/lib/greeting.js and run: bin/aether deploy examples/hello"
echo "AetherEngine keeps serving until Ctrl-C (log: $log)."
wait $up

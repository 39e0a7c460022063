#!/usr/bin/env bash
# Starts Debian's docker-registry on 127.0.0.1:5000 (plain http, no auth, storage under $GANTRY_TEST_DIR)
# unless one already answers there, then pushes the conformance corpus's base images. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${GANTRY_SHARED:-$here/../shared}
state=${GANTRY_TEST_DIR:-/tmp/gantry-test}
mkdir -p "$state/registry"
if ! curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  cat > "$state/registry/config.yml" <<CONF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $state/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
CONF
  nohup docker-registry serve "$state/registry/config.yml" >"$state/registry/log" 2>&1 &
  echo $! > "$state/registry/pid"
  for _ in $(seq 1 100); do
    curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf http://127.0.0.1:5000/v2/ >/dev/null || { echo "registry did not start: $(cat "$state/registry/log")" >&2; exit 1; }
fi
python3 "$shared/conformance/dockerfile-diff/setup-images.py" 127.0.0.1:5000 >/dev/null

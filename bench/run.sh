#!/usr/bin/env bash
# Entry point of the benchmark suite: starts the loopback registry, a private dockerd when docker.io is
# installed (and DOCKER_HOST is not set), builds dist/ when it is missing (or with --build), then runs the
# driver. Everything it makes lives under $GANTRY_BENCH_TMP (default: $TMPDIR/gantry-bench).
#   bash bench/run.sh [--build|--own-dist] [--reps N] [--budget S] [--builders gantry,docker,buildah] [--record] [scenario…]
# --build compiles dist/ first; --own-dist compiles a private copy into bench/results/dist and measures that,
# so other people rebuilding dist/ during a run cannot change what is measured.
# Scenarios: parallel4 context20k steps50 parallel32 export256 (default: all).
# GANTRY_BENCH_KEEP_DOCKER=1 leaves the bench's dockerd running afterwards.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export GANTRY_BENCH_TMP=${GANTRY_BENCH_TMP:-${TMPDIR:-/tmp}/gantry-bench}
mkdir -p "$GANTRY_BENCH_TMP"

args=()
build=0
own=0
for a in "$@"; do
  case "$a" in
    --build) build=1 ;;
    --own-dist) own=1 ;;
    *) args+=("$a") ;;
  esac
done

# The builders compared against come from Debian too; as root, install the missing ones (the driver skips,
# with the reason, any builder that still is not there). GANTRY_BENCH_NO_INSTALL=1 skips this.
if [ "$(id -u)" = 0 ] && [ -z "${GANTRY_BENCH_NO_INSTALL:-}" ]; then
  need=()
  for p in docker.io buildah; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "Installing the builders to compare against: ${need[*]}" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
      echo "Could not install ${need[*]}; the driver will skip what is missing." >&2
  fi
fi

bash "$repo/scripts/start-registry.sh"

if [ "$own" = 1 ]; then
  rm -rf "$repo/bench/results/dist"
  (cd "$repo" && npx tsc -p tsconfig.json --outDir bench/results/dist && node scripts/bundle.mjs --dist bench/results/dist)
  export GANTRY_BENCH_DIST=$repo/bench/results/dist
elif [ "$build" = 1 ] || [ ! -f "$repo/dist/bin/cli/main.js" ]; then
  (cd "$repo" && npx tsc -p tsconfig.json && node scripts/bundle.mjs)
fi

started_docker=0
rm -f "$GANTRY_BENCH_TMP/docker/unavailable"
if [ -z "${DOCKER_HOST:-}" ]; then
  export DOCKER_HOST=unix://$GANTRY_BENCH_TMP/docker/docker.sock
  if command -v dockerd >/dev/null; then
    if ! bash "$repo/bench/docker-daemon.sh" status >/dev/null 2>&1; then
      bash "$repo/bench/docker-daemon.sh" start && started_docker=1 || true
    fi
  else
    mkdir -p "$GANTRY_BENCH_TMP/docker"
    echo "dockerd is not installed (apt-get install docker.io)" > "$GANTRY_BENCH_TMP/docker/unavailable"
  fi
fi
stop_docker() {
  if [ "$started_docker" = 1 ] && [ -z "${GANTRY_BENCH_KEEP_DOCKER:-}" ]; then
    bash "$repo/bench/docker-daemon.sh" stop >/dev/null
  fi
}
trap stop_docker EXIT

node "$repo/bench/driver.mjs" ${args[@]+"${args[@]}"}

#!/usr/bin/env bash
# The test command (README, .ci/run): installs, builds, starts the loopback registry, runs unit and
# integration tests (the Dockerfile conformance corpus among them) with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export GANTRY_TEST_DIR=${GANTRY_TEST_DIR:-/tmp/gantry-test}
bash scripts/start-registry.sh
# Lint and the layer rules run first: a broken rule fails the run like a failed test.
npx eslint src test
node "${GANTRY_SHARED:-../shared}/tools/check-layers.mjs" .
mapfile -t tests < <(find dist/src dist/test -name '*.test.js' | sort)
# One file at a time: the integration tests start containers and daemons and would crowd the two cores.
node --test --test-concurrency=1 --test-reporter=spec "${tests[@]}"

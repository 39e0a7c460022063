#!/usr/bin/env bash
# Installs what Gantry needs: Debian packages (when root and missing) and npm packages, then builds.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(runc busybox-static docker-registry skopeo umoci git pigz zstd attr curl python3 iproute2 openssl openssh-client)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing Debian packages (install them as root): ${need[*]}" >&2
  fi
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci refuses a lock written with another platform's optional binaries; install keeps to the lock.
  npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build

#!/usr/bin/env bash
# Starts or stops a private dockerd for the benchmarks: data and exec roots under $GANTRY_BENCH_TMP/docker,
# its own socket there, no bridge or iptables changes (builds use --network host, as Gantry's RUN does),
# and the loopback registry trusted over plain http. When it cannot start, the reason goes to
# $GANTRY_BENCH_TMP/docker/unavailable, which the driver prints when it skips Docker.
#   bash bench/docker-daemon.sh start|stop|status
set -euo pipefail
tmp=${GANTRY_BENCH_TMP:-${TMPDIR:-/tmp}/gantry-bench}
d=$tmp/docker
sock=unix://$d/docker.sock
cli=${DOCKER_CLI:-$( [ -x /usr/bin/docker ] && echo /usr/bin/docker || echo docker )}
mkdir -p "$d"

answers() { DOCKER_HOST=$sock "$cli" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

unavailable() {
  echo "$1" > "$d/unavailable"
  echo "docker-daemon: $1" >&2
  exit 1
}

start() {
  rm -f "$d/unavailable"
  if answers; then echo "dockerd already answers at $sock"; return 0; fi
  command -v dockerd >/dev/null || unavailable "dockerd is not installed (apt-get install docker.io)"
  [ "$(id -u)" = 0 ] || unavailable "dockerd needs root here (rootless dockerd is not set up)"
  dockerd --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" -H "$sock" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --insecure-registry localhost:5000 --insecure-registry 127.0.0.1:5000 >"$d/log" 2>&1 &
  echo $! > "$d/started.pid"
  for _ in $(seq 1 150); do
    answers && { echo "dockerd started (pid $(cat "$d/started.pid")), socket $sock"; return 0; }
    kill -0 "$(cat "$d/started.pid")" 2>/dev/null || break
    sleep 0.2
  done
  local why
  why=$(grep -E 'level=(fatal|error)|failed to start' "$d/log" | tail -3 | tr '\n' ' ' | cut -c1-400)
  stop >/dev/null 2>&1 || true
  unavailable "dockerd did not start: ${why:-no error in $d/log}"
}

stop() {
  [ -f "$d/started.pid" ] || { echo "no dockerd started by the bench"; return 0; }
  local pid
  pid=$(cat "$d/started.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$d/started.pid"
  echo "dockerd (pid $pid) stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers && echo "dockerd answers at $sock" || { echo "no dockerd at $sock"; exit 1; } ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

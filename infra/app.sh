#!/usr/bin/env bash
# The application's processes in the background, for `make up` / `make down`.
#   app.sh up    start api, PIPELINE_PROCESSES pipelines, projector and scheduler (those not
#                already running), logs and pids in .run/; return once GET /readyz answers 200.
#   app.sh down  stop every process a pid file in .run/ names: TERM, KILL after 15 s; no
#                process is left behind.
set -euo pipefail
# shellcheck source=infra/lib.sh
. "$(dirname "$0")/lib.sh"

RUN_DIR="${RUN_DIR:-$REPO_ROOT/.run}"
READY_TIMEOUT="${READY_TIMEOUT:-60}"
# One pipeline process per core by default. A process runs Python on one core at a time (its
# GIL), and the stages' CPU is what bounds throughput at a fast provider; the processes join one
# consumer group, which shares the sites' partitions between them (README, "Scaling out").
PIPELINE_PROCESSES="${PIPELINE_PROCESSES:-$(nproc)}"
[[ "$PIPELINE_PROCESSES" =~ ^[1-9][0-9]*$ ]] || die "PIPELINE_PROCESSES must be a whole number ≥ 1, not '$PIPELINE_PROCESSES'"
# The k-th pipeline process after the first serves /metrics on 9110 + k - 1 (9111, 9112, …):
# the first keeps the pipeline's default, 9101, beside the projector's 9102 and scheduler's 9103.
EXTRA_PIPELINE_METRICS_PORT=9110
SERVICES=(api pipeline)
for ((k = 2; k <= PIPELINE_PROCESSES; k++)); do SERVICES+=("pipeline-$k"); done
SERVICES+=(projector scheduler)

# A process's label is its service, and a number after a dash for a pipeline after the first.
module_of() { echo "services.${1%%-*}"; }

up() {
  mkdir -p "$RUN_DIR"
  export AUTOMATION_ADMIN_TOKEN="${AUTOMATION_ADMIN_TOKEN:-dev-admin-token}"
  local svc
  for svc in "${SERVICES[@]}"; do
    if pid_alive "$RUN_DIR/$svc.pid" "$(module_of "$svc")"; then
      log "$svc already running (pid $(cat "$RUN_DIR/$svc.pid"))"
      continue
    fi
    rm -f "$RUN_DIR/$svc.pid"
    local extra=()
    if [[ "$svc" == pipeline-* ]]; then extra=("METRICS_PORT=$((EXTRA_PIPELINE_METRICS_PORT + ${svc#pipeline-} - 1))"); fi
    # setsid: each service gets its own process group, which `down` signals as a whole, and
    # outlives make. The inner shell writes its pid, which `exec` hands on to Python.
    # shellcheck disable=SC2016
    # The subshell's own descriptors go to the log too, so nothing holds make's stdout open.
    (cd "$REPO_ROOT" && exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$RUN_DIR/$svc.pid" \
      env "${extra[@]}" "$PYTHON_BIN" -m "$(module_of "$svc")") >"$RUN_DIR/$svc.log" 2>&1 </dev/null &
    log "$svc started (log: .run/$svc.log)"
  done

  # Probe loopback when the API listens on every interface.
  local host="${API_HOST:-127.0.0.1}" port="${API_PORT:-8000}"
  case "$host" in 0.0.0.0 | "::" | "[::]") host=127.0.0.1 ;; esac
  local url="http://$host:$port/readyz" deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if "$PYTHON_BIN" - "$url" <<'PY' 2>/dev/null; then
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
PY
      log "ready: $url"
      return 0
    fi
    # No point waiting for an API process that has already exited.
    pid_alive "$RUN_DIR/api.pid" services.api || { log "the api process exited"; break; }
    sleep 1
  done
  for svc in "${SERVICES[@]}"; do
    echo "----- .run/$svc.log (last 30 lines) -----"
    tail -n 30 "$RUN_DIR/$svc.log" 2>/dev/null || true
  done
  die "GET $url did not answer 200 (deadline ${READY_TIMEOUT}s); processes still running are left for inspection: \`make down\` stops them"
}

down() {
  # Every pid file, not only this PIPELINE_PROCESSES's: an `up` with more pipelines stops too.
  local pidfile pidfiles=()
  for pidfile in "$RUN_DIR"/*.pid; do [ -s "$pidfile" ] && pidfiles+=("$pidfile"); done
  # TERM all at once, so shutdowns overlap; then wait for (or KILL) each.
  for pidfile in "${pidfiles[@]}"; do kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null || true; done
  for pidfile in "${pidfiles[@]}"; do
    stop_pid "$pidfile" 15
    log "$(basename "$pidfile" .pid) stopped"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac

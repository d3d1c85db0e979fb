#!/usr/bin/env bash
# The application's processes in the background, for `make up` / `make down`.
#   app.sh up    start api, pipeline, projector and scheduler (those not already running),
#                logs and pids in .run/; return once GET /readyz answers 200.
#   app.sh down  stop them: TERM, KILL after 15 s; no process is left behind.
set -euo pipefail
# shellcheck source=infra/lib.sh
. "$(dirname "$0")/lib.sh"

RUN_DIR="$REPO_ROOT/.run"
SERVICES=(api pipeline projector scheduler)
READY_TIMEOUT="${READY_TIMEOUT:-60}"

up() {
  mkdir -p "$RUN_DIR"
  export AUTOMATION_ADMIN_TOKEN="${AUTOMATION_ADMIN_TOKEN:-dev-admin-token}"
  local svc
  for svc in "${SERVICES[@]}"; do
    if pid_alive "$RUN_DIR/$svc.pid" "services.$svc"; then
      log "$svc already running (pid $(cat "$RUN_DIR/$svc.pid"))"
      continue
    fi
    rm -f "$RUN_DIR/$svc.pid"
    # setsid: each service gets its own process group, which `down` signals as a whole, and
    # outlives make. The inner shell writes its pid, which `exec` hands on to Python.
    # shellcheck disable=SC2016
    # The subshell's own descriptors go to the log too, so nothing holds make's stdout open.
    (cd "$REPO_ROOT" && exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$RUN_DIR/$svc.pid" \
      "$PYTHON_BIN" -m "services.$svc") >"$RUN_DIR/$svc.log" 2>&1 </dev/null &
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
  local svc
  # TERM all at once, so shutdowns overlap; then wait for (or KILL) each.
  for svc in "${SERVICES[@]}"; do
    if [ -s "$RUN_DIR/$svc.pid" ]; then kill -TERM -- "-$(cat "$RUN_DIR/$svc.pid")" 2>/dev/null || true; fi
  done
  for svc in "${SERVICES[@]}"; do
    if [ -s "$RUN_DIR/$svc.pid" ]; then
      stop_pid "$RUN_DIR/$svc.pid" 15
      log "$svc stopped"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac

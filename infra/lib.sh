# shellcheck shell=bash disable=SC2034
# Helpers shared by the infra/*.sh scripts (sourced, not run).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Downloaded jars and broker data live outside the repo so that every clone (and CI's
# fresh clone on the same machine) reuses them instead of fetching again.
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/automation-pipeline"
PYTHON_BIN="${PYTHON_BIN:-$REPO_ROOT/.venv/bin/python}"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# CI and the dev machines run as root; elsewhere fall back to sudo.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt-get update is slow and needed only once per script run, before the first install.
_apt_updated=""
apt_install() {
  if [ -z "$_apt_updated" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    _apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# A pid file is trusted only while its process is alive and is still the program we started
# (pids are reused after a crash or a reboot).
pid_alive() {
  local pidfile="$1" pattern="$2" pid
  [ -s "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"
}

# Every process these scripts start is made a process-group leader (setsid), so its pid is
# also the id of its group. True while the group has a live (non-zombie) member; zombies are
# ignored, since a killed process whose parent has gone may wait a while to be reaped.
group_alive() {
  ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# stop_pid PIDFILE SECONDS: TERM the process group, wait up to SECONDS, then KILL it, so
# that any children go with their parent.
stop_pid() {
  local pidfile="$1" grace="$2" pid i
  [ -s "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    group_alive "$pid" || break
    sleep 0.1
  done
  if group_alive "$pid"; then
    log "process group $pid still alive after ${grace}s; sending KILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do group_alive "$pid" || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
}

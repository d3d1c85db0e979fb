#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) on 127.0.0.1:9092, run from Maven Central jars
# (no Docker here). Everything lives in $CACHE_ROOT/kafka-<version>/: libs/, config/,
# data/, logs/ and kafka.pid.
#   kafka.sh up    fetch the jars and format the storage once, start the broker in the
#                  background, wait until it answers, then make sure the topics exist.
#   kafka.sh down  stop it: TERM (a clean shutdown takes a few seconds), KILL after 30 s.
set -euo pipefail
# shellcheck source=infra/lib.sh
. "$(dirname "$0")/lib.sh"

POM="$REPO_ROOT/infra/kafka/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"
[ -n "$KAFKA_VERSION" ] || die "no <kafka.version> in $POM"
KAFKA_HOME="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
CONFIG="$KAFKA_HOME/config"
DATA="$KAFKA_HOME/data"
LOGS="$KAFKA_HOME/logs"
PIDFILE="$KAFKA_HOME/kafka.pid"
HOST=127.0.0.1
PORT=9092
START_TIMEOUT=90
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
# KAFKA_HEAP_OPTS is split into words on purpose: it holds several flags.
# shellcheck disable=SC2206
JAVA=(java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true -Dkafka.logs.dir="$LOGS"
  -Dlog4j2.configurationFile="$CONFIG/log4j2.properties" -cp "$LIBS/*")

fetch_jars() {
  # Keyed on the whole pom, so that changing a pinned logging jar refetches too.
  local want tmp="$KAFKA_HOME/libs.tmp"
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  [ "$(cat "$LIBS/.pom.sha256" 2>/dev/null)" = "$want" ] && return 0
  command -v mvn >/dev/null || apt_install maven
  log "fetching Kafka $KAFKA_VERSION jars into $LIBS"
  rm -rf "$tmp"
  mkdir -p "$KAFKA_HOME"
  # Maven's output goes to a file, shown only if the fetch fails.
  mvn -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" \
    -DincludeScope=runtime >"$KAFKA_HOME/fetch.log" 2>&1 \
    || { tail -n 40 "$KAFKA_HOME/fetch.log"; die "could not fetch the Kafka jars (log: $KAFKA_HOME/fetch.log)"; }
  echo "$want" >"$tmp/.pom.sha256"
  # Swapped in whole, so an interrupted fetch never leaves a half-filled libs/.
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
}

start() {
  command -v java >/dev/null || apt_install default-jre-headless
  fetch_jars
  mkdir -p "$CONFIG" "$DATA" "$LOGS"
  sed "s|@DATA_DIR@|$DATA|" "$REPO_ROOT/infra/kafka/server.properties" >"$CONFIG/server.properties"
  cp "$REPO_ROOT/infra/kafka/log4j2.properties" "$CONFIG/log4j2.properties"

  # KRaft refuses to start on unformatted storage; formatting again would wipe the cluster id.
  if [ ! -f "$DATA/meta.properties" ]; then
    local cluster_id
    cluster_id="$("${JAVA[@]}" kafka.tools.StorageTool random-uuid | tail -n1)"
    log "formatting storage in $DATA (cluster id $cluster_id)"
    "${JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG/server.properties" >/dev/null
  fi

  log "starting Kafka $KAFKA_VERSION (log: $LOGS/server.log)"
  rm -f "$PIDFILE"
  # setsid: the broker outlives this script and make, and is stopped by its pid file only.
  # The inner shell writes its own pid, which `exec` hands on to the JVM.
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDFILE" \
    "${JAVA[@]}" kafka.Kafka "$CONFIG/server.properties" >"$LOGS/kafka.out" 2>&1 </dev/null &

  local i
  for ((i = 0; i < START_TIMEOUT * 4; i++)); do
    port_open "$HOST" "$PORT" && return 0
    if [ -s "$PIDFILE" ] && ! pid_alive "$PIDFILE" kafka.Kafka; then
      tail -n 30 "$LOGS/kafka.out" "$LOGS/server.log" 2>/dev/null || true
      die "Kafka exited during start-up"
    fi
    sleep 0.25
  done
  tail -n 30 "$LOGS/kafka.out" "$LOGS/server.log" 2>/dev/null || true
  die "Kafka did not open $HOST:$PORT within ${START_TIMEOUT}s"
}

up() {
  if pid_alive "$PIDFILE" kafka.Kafka; then
    log "Kafka already running (pid $(cat "$PIDFILE"))"
  elif port_open "$HOST" "$PORT"; then
    log "WARNING: $HOST:$PORT is taken by a process this script did not start; using it"
  else
    start
  fi
  # An open port is not yet a working broker: the topics script waits for metadata answers.
  # It targets this local broker whatever KAFKA_BOOTSTRAP_SERVERS says; KAFKA_TOPIC_PREFIX
  # is honoured.
  (cd "$REPO_ROOT" && KAFKA_BOOTSTRAP_SERVERS="$HOST:$PORT" "$PYTHON_BIN" -m shared.infra.topics --wait 60)
}

down() {
  if pid_alive "$PIDFILE" kafka.Kafka; then
    log "stopping Kafka (pid $(cat "$PIDFILE"))"
    stop_pid "$PIDFILE" 30
    log "Kafka stopped"
  else
    rm -f "$PIDFILE"
    log "Kafka not running"
    if port_open "$HOST" "$PORT"; then log "WARNING: $HOST:$PORT is held by a process this script did not start"; fi
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac

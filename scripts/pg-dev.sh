#!/usr/bin/env bash
# pg-dev.sh - a throw-away PostgreSQL for tests and development, on 127.0.0.1 only.
#   pg-dev.sh start DIR   initdb in DIR (empty or absent), start on a free port, create
#                         database "strata"; prints "ready" and writes DIR/env with
#                         STRATA_TEST_PG_URL=postgresql://strata@127.0.0.1:PORT/strata
#   pg-dev.sh stop DIR    stop the server(s) started in DIR (either mode)
#   pg-dev.sh restart DIR restart the single server of DIR (fast shutdown)
# High availability (a primary and a synchronous streaming standby, both on loopback):
#   pg-dev.sh start-ha DIR      primary in DIR/primary, standby in DIR/standby made by
#                               pg_basebackup (standby.signal, primary_conninfo with
#                               application_name=standby1), synchronous_standby_names on the
#                               primary, so that COMMIT returns only once the standby has
#                               flushed the WAL. DIR/env: STRATA_TEST_PG_URL is the multi-host
#                               URL (primary,standby; target_session_attrs=read-write),
#                               PGDEV_PRIMARY_PORT / PGDEV_STANDBY_PORT the two ports.
#   pg-dev.sh kill-primary DIR  SIGKILL the primary's postmaster and every backend of it (a
#                               machine that died: no shutdown checkpoint, no goodbye).
#   pg-dev.sh promote DIR       promote the standby (pg_ctl promote -w): it leaves recovery
#                               and takes writes; its synchronous_standby_names is empty, so
#                               it does not wait for a standby that is gone.
#   pg-dev.sh ha-status DIR     prints "primary: up|down", "standby: up (recovery|primary)|down"
# Needs Debian's postgresql package (apt-get install postgresql). When run as root, the
# server runs as the "postgres" system user (initdb refuses to run as root).
set -euo pipefail
ACTION=${1:-}; DIR=${2:-}
USAGE="usage: $0 start|stop|restart|start-ha|kill-primary|promote|ha-status DIR"
[ -n "$ACTION" ] && [ -n "$DIR" ] || { echo "$USAGE" >&2; exit 2; }
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$BIN/initdb" ] || { echo "PostgreSQL not installed: apt-get install postgresql" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# initdb + settings for one server: DATA PORT SOCKDIR
init_server() {
  as_pg "$BIN/initdb" -D "$1" -U strata --auth=trust -E UTF8 >"$1.initdb.log" 2>&1 \
    || { cat "$1.initdb.log" >&2; exit 1; }
  cat >>"$1/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$3'
fsync = on
max_connections = 200
shared_buffers = 128MB
CONF
}

# The postmaster of DATA if it runs (first line of postmaster.pid, checked against /proc).
postmaster_pid() {
  local pid
  [ -s "$1/postmaster.pid" ] || return 1
  pid=$(head -n1 "$1/postmaster.pid")
  [[ $pid =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$1" || return 1
  echo "$pid"
}

case "$ACTION" in
start)
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
  PORT=$(free_port)
  init_server "$DIR/data" "$PORT" "$DIR"
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null
  as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U strata strata
  echo "STRATA_TEST_PG_URL=postgresql://strata@127.0.0.1:$PORT/strata" >"$DIR/env"
  echo "PGDEV_PORT=$PORT" >>"$DIR/env"
  echo "STRATA_TEST_PG_DIR=$DIR" >>"$DIR/env"
  echo ready
  ;;
start-ha)
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  [ -z "$(ls -A "$DIR")" ] || { echo "$DIR is not empty" >&2; exit 1; }
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
  P1=$(free_port); P2=$(free_port)
  while [ "$P2" = "$P1" ]; do P2=$(free_port); done
  init_server "$DIR/primary" "$P1" "$DIR"
  cat >>"$DIR/primary/postgresql.conf" <<CONF
wal_level = replica
max_wal_senders = 4
wal_keep_size = 512MB
synchronous_commit = on
CONF
  as_pg "$BIN/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -w -t 60 start >/dev/null
  as_pg "$BIN/createdb" -h 127.0.0.1 -p "$P1" -U strata strata
  # Until the standby is attached a synchronous primary would hang every COMMIT: the database
  # and the base backup come first, synchronous_standby_names only once the standby streams.
  as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U strata -D "$DIR/standby" -X stream -c fast \
    >"$DIR/basebackup.log" 2>&1 || { cat "$DIR/basebackup.log" >&2; exit 1; }
  as_pg touch "$DIR/standby/standby.signal"
  cat >>"$DIR/standby/postgresql.conf" <<CONF
# the standby (pg-dev.sh start-ha); once promoted it has no standby of its own to wait for
port = $P2
synchronous_standby_names = ''
primary_conninfo = 'host=127.0.0.1 port=$P1 user=strata application_name=standby1'
hot_standby = on
CONF
  as_pg "$BIN/pg_ctl" -D "$DIR/standby" -l "$DIR/standby.log" -w -t 60 start >/dev/null
  for _ in $(seq 300); do
    s=$(psql "postgresql://strata@127.0.0.1:$P1/strata" -tAc \
        "SELECT sync_state FROM pg_stat_replication WHERE application_name='standby1'" 2>/dev/null || true)
    [ "$s" = async ] && break
    sleep 0.1
  done
  [ "$s" = async ] || { echo "standby did not attach (see $DIR/standby.log)" >&2; exit 1; }
  # From here COMMIT waits until the standby has flushed the commit record.
  echo "synchronous_standby_names = 'standby1'" >>"$DIR/primary/postgresql.conf"
  as_pg "$BIN/pg_ctl" -D "$DIR/primary" reload >/dev/null
  for _ in $(seq 300); do
    s=$(psql "postgresql://strata@127.0.0.1:$P1/strata" -tAc \
        "SELECT sync_state FROM pg_stat_replication WHERE application_name='standby1'" 2>/dev/null || true)
    [ "$s" = sync ] && break
    sleep 0.1
  done
  [ "$s" = sync ] || { echo "standby did not become synchronous (see $DIR/standby.log)" >&2; exit 1; }
  cat >"$DIR/env" <<ENV
STRATA_TEST_PG_URL=postgresql://strata@127.0.0.1:$P1,127.0.0.1:$P2/strata?target_session_attrs=read-write&connect_timeout=3
PGDEV_PORT=$P1
PGDEV_PRIMARY_PORT=$P1
PGDEV_STANDBY_PORT=$P2
STRATA_TEST_PG_DIR=$DIR
ENV
  echo ready
  ;;
kill-primary)
  pid=$(postmaster_pid "$DIR/primary") || { echo "primary of $DIR is not running" >&2; exit 1; }
  kids=$(ps -o pid= --ppid "$pid" || true)
  # Frozen first, then the postmaster (and its listening socket) gone before the backends'
  # connections drop: a client that sees its session die finds the port closed, as when a
  # machine dies, instead of a half-dead server that accepts and hangs up.
  # shellcheck disable=SC2086
  kill -STOP "$pid" $kids 2>/dev/null || true
  kill -KILL "$pid" 2>/dev/null || true
  # gone, or a zombie nobody reaps (PID 1 of a container)
  for _ in $(seq 100); do
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)
    [ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ] && break
    sleep 0.05
  done
  # shellcheck disable=SC2086
  [ -z "$kids" ] || kill -KILL $kids 2>/dev/null || true
  echo killed
  ;;
promote)
  as_pg "$BIN/pg_ctl" -D "$DIR/standby" -w -t 60 promote >/dev/null
  P2=$(sed -n 's/^PGDEV_STANDBY_PORT=//p' "$DIR/env")
  for _ in $(seq 300); do
    [ "$(psql "postgresql://strata@127.0.0.1:$P2/strata" -tAc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] \
      && { echo promoted; exit 0; }
    sleep 0.1
  done
  echo "standby did not leave recovery" >&2; exit 1
  ;;
ha-status)
  if postmaster_pid "$DIR/primary" >/dev/null; then echo "primary: up"; else echo "primary: down"; fi
  P2=$(sed -n 's/^PGDEV_STANDBY_PORT=//p' "$DIR/env")
  r=$(psql "postgresql://strata@127.0.0.1:$P2/strata" -tAc 'SELECT pg_is_in_recovery()' 2>/dev/null || true)
  case "$r" in t) echo "standby: up (recovery)";; f) echo "standby: up (primary)";; *) echo "standby: down";; esac
  ;;
stop)
  for d in "$DIR/data" "$DIR/standby" "$DIR/primary"; do
    [ -d "$d" ] || continue
    as_pg "$BIN/pg_ctl" -D "$d" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  done
  ;;
restart)
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -m fast -w -t 60 restart >/dev/null
  ;;
*) echo "$USAGE" >&2; exit 2 ;;
esac

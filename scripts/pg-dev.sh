#!/usr/bin/env bash
# pg-dev.sh - a throw-away PostgreSQL for tests and development, on 127.0.0.1 only.
#   pg-dev.sh start DIR   initdb in DIR (empty or absent), start on a free port, create
#                         database "strata"; prints "ready" and writes DIR/env with
#                         STRATA_TEST_PG_URL=postgresql://strata@127.0.0.1:PORT/strata
#   pg-dev.sh stop DIR    stop the server started in DIR
# Needs Debian's postgresql package (apt-get install postgresql). When run as root, the
# server runs as the "postgres" system user (initdb refuses to run as root).
set -euo pipefail
ACTION=${1:-}; DIR=${2:-}
[ -n "$ACTION" ] && [ -n "$DIR" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$BIN/initdb" ] || { echo "PostgreSQL not installed: apt-get install postgresql" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$ACTION" in
start)
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$BIN/initdb" -D "$DIR/data" -U strata --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
  cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = on
max_connections = 200
shared_buffers = 128MB
CONF
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null
  as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U strata strata
  echo "STRATA_TEST_PG_URL=postgresql://strata@127.0.0.1:$PORT/strata" >"$DIR/env"
  echo "PGDEV_PORT=$PORT" >>"$DIR/env"
  echo "STRATA_TEST_PG_DIR=$DIR" >>"$DIR/env"
  echo ready
  ;;
stop)
  [ -d "$DIR/data" ] || exit 0
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  ;;
restart)
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -m fast -w -t 60 restart >/dev/null
  ;;
*) echo "usage: $0 start|stop|restart DIR" >&2; exit 2 ;;
esac

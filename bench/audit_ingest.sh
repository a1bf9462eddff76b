#!/bin/bash
# Ingest of 360 CT images (512x512) with and without the audit trail: one storescu association,
# and 4 parallel associations of 90 images. Prints seconds per run.
# Usage: cd EMPTY_DIR && strata-gen ct --out imgs --series 3 --slices 120 --flat -q && bench/audit_ingest.sh
# The audit_closed line of the server log gives the records, fdatasyncs and time spent in them.
set -e
BIN=${STRATA_BIN:-$(dirname "$0")/../build/strata}
run_one() {  # $1 = audit on|off, $2 = parallel 1|4
  rm -rf data; mkdir data
  local extra=()
  [ "$1" = on ] && extra=(--audit-file data/audit.jsonl)
  port=$((20700 + RANDOM % 200))
  $BIN serve --data data --port $port --http-port 0 --tiering-enabled false "${extra[@]}" > serve.log 2>&1 &
  pid=$!
  for i in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  sync
  t0=$(date +%s.%N)
  if [ "$2" = 1 ]; then
    storescu -aec STRATA 127.0.0.1 $port imgs/*.dcm
  else
    ls imgs/*.dcm | split -n r/4 - part.
    for f in part.*; do storescu -aec STRATA 127.0.0.1 $port $(cat $f) & done
    wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
  fi
  t1=$(date +%s.%N)
  kill $pid; wait $pid || true
  rm -f part.*
  n=$(grep -c '"action":"store"' data/audit.jsonl 2>/dev/null || echo 0)
  echo "audit=$1 parallel=$2 seconds=$(echo "$t1 - $t0" | bc) audit_store_records=$n $(grep -o "records=[0-9]* syncs=[0-9]* sync_ms=[0-9.]*" serve.log)"
}
for rep in 1 2 3; do
  for p in 1 4; do
    run_one off $p
    run_one on $p
  done
done

#!/usr/bin/env bash
# bench/tiering.sh [--quick] [--s3]: the tiering figures of issues 3, 4 and 6.
#  - pack conversion throughput (MB/s) for one 360-slice CT study and a 20-study set
#  - whole-study C-GET, hot vs cold (getscu), and whole-study reads with 1/2/4 clients
#  - single-image cold read latency p50/p99
#  - the same conversion with each lossless codec (ratio, MB/s) and cold retrieval MB/s
#    when the client wants uncompressed
# With --s3 the cold store is a local Ceph RGW (scripts/ceph-dev.sh), else a local directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD; B=$ROOT/build
QUICK=0; S3=0
for a in "$@"; do case $a in --quick) QUICK=1 ;; --s3) S3=1 ;; esac; done
SLICES=360; SET=20; SET_SLICES=40
[ $QUICK = 1 ] && { SLICES=60; SET=4; SET_SLICES=20; }
W=$(mktemp -d /tmp/strata-tierbench.XXXXXX); chmod 755 "$W"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
            [ $S3 = 1 ] && "$ROOT/scripts/ceph-dev.sh" stop "$W/ceph" >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
export TCP_NODELAY=1   # for the DCMTK tools (Strata sets it on its own sockets)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mb() { du -sb "$1" | awk '{printf "%.1f", $1/1e6}'; }

"$B/src/testdata/strata-gen" ct --out "$W/one" --patients 1 --studies-per-patient 1 --series 1 --slices $SLICES --seed 5 --quiet >/dev/null
"$B/src/testdata/strata-gen" ct --out "$W/set" --patients $SET --studies-per-patient 1 --series 1 --slices $SET_SLICES --seed 6 --quiet >/dev/null
COLD_ARGS=()
if [ $S3 = 1 ]; then
  "$ROOT/scripts/ceph-dev.sh" start "$W/ceph" >/dev/null 2>&1
  set -a; . "$W/ceph/env"; set +a
  python3 - <<PY
import sys; sys.path.insert(0, "$ROOT/tests/integration")
from s3util import S3; S3().create_bucket("bench")
PY
  COLD_ARGS=(--cold s3://bench/run --s3-endpoint "$S3_ENDPOINT")
fi

run_case() {  # name codec dataset
  local name=$1 codec=$2 data=$3 d=$W/$1 p; p=$(port)
  "$B/strata" serve --data "$d" --port "$p" --http-port 0 --tiering-enabled false "${COLD_ARGS[@]}" >"$W/$name.log" 2>&1 &
  PIDS+=($!); sleep 0.5
  storescu -aec STRATA +sd +r 127.0.0.1 "$p" "$data" >/dev/null
  local study; study=$(ls "$data" | head -1)
  local raw; raw=$(mb "$data")
  if [ "$codec" = none ] && [[ $name == one* ]]; then
    rm -rf "$W/hot-get"; mkdir "$W/hot-get"
    local t0=$(date +%s.%N)
    getscu -S -aec STRATA -od "$W/hot-get" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$study" 127.0.0.1 "$p" >/dev/null
    local t1=$(date +%s.%N)
    printf "%-22s C-GET hot study   %6.1f MB  %6.2f s  %7.1f MB/s\n" "$name" "$raw" "$(echo "$t1-$t0" | bc)" "$(echo "$raw/($t1-$t0)" | bc -l)"
  fi
  local out; out=$("$B/strata" migrate --data "$d" --older-than 0s --tiering-codec "$codec" "${COLD_ARGS[@]}" 2>/dev/null | tail -1)
  local packed; packed=$(echo "$out" | sed -n 's/.*MB -> \([0-9.]*\) MB in packs.*/\1/p')
  local rate; rate=$(echo "$out" | sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p')
  printf "%-22s migrate (%s)  %6.1f MB -> %6.1f MB (ratio %.2f)  %7.1f MB/s\n" "$name" "$codec" "$raw" "$packed" \
    "$(echo "$raw/$packed" | bc -l)" "$rate"
  if [[ $name == one* ]]; then
    rm -rf "$W/cold-get"; mkdir "$W/cold-get"
    local t0=$(date +%s.%N)
    getscu -S -aec STRATA -od "$W/cold-get" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$study" 127.0.0.1 "$p" >/dev/null
    local t1=$(date +%s.%N)
    printf "%-22s C-GET cold study  %6.1f MB  %6.2f s  %7.1f MB/s (uncompressed to the client)\n" "$name" "$raw" \
      "$(echo "$t1-$t0" | bc)" "$(echo "$raw/($t1-$t0)" | bc -l)"
  fi
  if [ "$codec" = none ] && [ -x "$B/bench/strata-bench-read" ]; then
    "$B/bench/strata-bench-read" latency --samples 300 --data "$d" "${COLD_ARGS[@]}" | sed "s/^/$name  /"
    "$B/bench/strata-bench-read" study --clients 1,2,4 --rounds 4 --data "$d" "${COLD_ARGS[@]}" | sed "s/^/$name  /"
  fi
}

echo "# machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -r), $(date -u +%F)"
echo "# cold store: $([ $S3 = 1 ] && echo "Ceph RGW (memstore) on loopback" || echo "local directory")"
if [ -z "${CODECS:-}" ]; then run_case one-$SLICES none "$W/one"; run_case set-$SET none "$W/set"; fi
for c in ${CODECS:-jpeg-ls htj2k j2k}; do run_case "one-$SLICES-$c" "$c" "$W/one"; done

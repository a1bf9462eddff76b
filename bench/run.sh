#!/usr/bin/env bash
# bench/run.sh - Strata vs Orthanc on the same machine, in one run, one table.
#
# Generates a CT study (strata-gen, 360 slices of 512x512 by default), starts Strata and
# Debian's Orthanc (by hand, in a temp dir, default SQLite index - see bench/lib/orthanc.sh)
# one after the other with fresh storage, and measures for each:
#   ingest     storescu 1 association (tuned, and as shipped: Nagle on); 4 storescu in
#              parallel (each 1/4 of the files);
#              `strata send` with 1, 4 and 8 associations        -> MB/s, images/s
#   C-FIND     study level by PatientID, each query timed inside one association
#              (bench/find_latency.cc), on a catalog holding just that study  -> p50 / p99
#   retrieval  whole study with getscu (1 association; tuned and as shipped) and
#              `strata get` -j1 / -j4 -> MB/s
#   cold       the same study packed (uncompressed, and JPEG-LS) in a file: cold store, and
#              with --s3 in a Ceph RGW: tuned getscu C-GET (client wants uncompressed),
#              reported beside the hot C-GET
#   ceilings   cp + fdatasync per file, DCMTK storescp (ingest), DCMTK dcmqrscp (C-GET): the
#              report prints each Strata figure beside them (not in --smoke)
#   big catalog  the same C-FIND, and ingest of further 360-slice studies (strata send -j4,
#              storescu x1), on a catalog pre-filled with 100k studies / 1M instances for
#              Strata (bench/catalog_fill.cc writes rows through the catalog's own API) and
#              with what C-STORE can feed Orthanc in a couple of minutes (5k studies / 50k
#              small instances; its SQLite index is documented to slow down past ~25k).
# Orthanc and every DCMTK tool get TCP_NODELAY=1 (their best setting here); Strata gets no
# such help (it sets Nagle off itself). Everything runs in a private network namespace
# (unshare --net, loopback only) because Orthanc 1.10 cannot bind to 127.0.0.1 alone.
#
# Usage: bench/run.sh [--quick | --smoke] [--build DIR] [--reps N] [--slices N] [--keep]
#                     [--results FILE]
#   (default)  full run, 3 repetitions (medians), ~10-15 min
#   --quick    1 repetition, smaller pre-filled catalogs (10k / 200 studies), ~2 min
#   --smoke    Strata only, 20 slices, 1k-study catalog, no netns, < 1 min (a CTest test)
#   --build    where strata, strata-gen and bench/strata-bench-{fill,find} are (default build/)
#   --keep     keep the work dir (data, logs, results.tsv)
#   --s3       also the cold rows from a Ceph RGW (scripts/ceph-dev.sh, started in the netns)
# Needs: orthanc dcmtk curl python3 (Debian's /usr/bin/python3), util-linux unshare.
# Only processes this script started are stopped, by pid; the work dir is removed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SELF="$HERE/$(basename "$0")"
ARGS=("$@")
MODE=full BUILD="$ROOT/build" REPS="" SLICES="" KEEP=0 RESULTS_OUT="" S3=0
die() { echo "bench/run.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) MODE=quick; shift;;
    --smoke) MODE=smoke; shift;;
    --build) BUILD=$2; shift 2;;
    --reps) REPS=$2; shift 2;;
    --slices) SLICES=$2; shift 2;;
    --keep) KEEP=1; shift;;
    --results) RESULTS_OUT=$2; shift 2;;
    --s3) S3=1; shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) die "unknown option $1 (see --help)";;
  esac
done
case $MODE in
  full)  : "${REPS:=3}" "${SLICES:=360}"; FILL_STUDIES=100000 ORTHANC_FILL_STUDIES=5000 FIND_N=1000 ORTHANC=1;;
  quick) : "${REPS:=1}" "${SLICES:=360}"; FILL_STUDIES=10000 ORTHANC_FILL_STUDIES=200 FIND_N=300 ORTHANC=1;;
  smoke) : "${REPS:=1}" "${SLICES:=20}"; FILL_STUDIES=1000 ORTHANC_FILL_STUDIES=0 FIND_N=50 ORTHANC=0;;
esac
PER_STUDY=10  # instances per pre-filled study

BUILD=$(cd "$BUILD" && pwd)
STRATA=$BUILD/strata GEN=$BUILD/src/testdata/strata-gen
FILL=$BUILD/bench/strata-bench-fill FINDB=$BUILD/bench/strata-bench-find
for b in "$STRATA" "$GEN" "$FILL" "$FINDB"; do
  [[ -x $b ]] || die "missing $b (ninja -C $BUILD strata strata-gen strata-bench-fill strata-bench-find)"
done
PY=/usr/bin/python3
TOOLS=(storescu getscu "$PY")
[[ $ORTHANC == 1 ]] && TOOLS+=(Orthanc curl unshare ip)
for c in "${TOOLS[@]}"; do command -v "$c" >/dev/null || die "missing $c (apt-get install dcmtk orthanc curl)"; done

# ---- private network namespace (loopback only) when Orthanc takes part --------------------
if [[ $ORTHANC == 1 && -z ${STRATA_BENCH_IN_NETNS:-} ]]; then
  unshare --net true 2>/dev/null || die "cannot create a network namespace (unshare --net); Orthanc must not listen on the host"
  exec unshare --net -- env STRATA_BENCH_IN_NETNS=1 bash -c 'ip link set lo up && exec bash "$0" "$@"' "$SELF" "${ARGS[@]}"
fi
NETMODE=$([[ -n ${STRATA_BENCH_IN_NETNS:-} ]] && echo "private netns (loopback only)" || echo "host loopback")
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if [[ -n ${STRATA_BENCH_IN_NETNS:-} ]]; then SPORT=11112 OPORT=4242 OHTTP=8042
else SPORT=$(free_port) OPORT=0 OHTTP=0; fi

# ---- work dir and cleanup of what we started --------------------------------------------
W=$(mktemp -d /tmp/strata-bench.XXXXXX)
RES=$W/results.tsv
: > "$RES"
STRATA_PID=""
source "$HERE/lib/orthanc.sh"
cleanup() {
  local rc=$?
  set +e  # a killed child's status must not end the cleanup early
  [[ -n $STRATA_PID ]] && { kill "$STRATA_PID" 2>/dev/null; wait "$STRATA_PID" 2>/dev/null; } || true
  orthanc_stop || true
  [[ -n ${CEPH_STARTED:-} ]] && "$ROOT/scripts/ceph-dev.sh" stop "$W/ceph" > /dev/null 2>&1 || true
  [[ -n ${DCMQR_PID:-} ]] && { kill "$DCMQR_PID" 2>/dev/null; wait "$DCMQR_PID" 2>/dev/null; } || true
  [[ -n $RESULTS_OUT && -s $RES ]] && cp "$RES" "$RESULTS_OUT" || true
  if [[ $KEEP == 1 ]]; then log "kept $W"; else rm -rf "$W"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.6f", b - a}'; }
rec() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RES"; }  # server metric rep value bytes count
nodelay() { TCP_NODELAY=1 "$@"; }                             # DCMTK tools: their best setting
as_shipped() { env -u TCP_NODELAY "$@"; }                     # DCMTK tools as shipped: Nagle on
strata_cli() { env -u TCP_NODELAY "$STRATA" "$@"; }            # Strata needs no help

# ---- data -------------------------------------------------------------------------------
log "mode $MODE: $REPS rep(s), $SLICES slices; work dir $W; $NETMODE"
gen_study() { # dir seed
  "$GEN" ct --out "$1" --patients 1 --studies-per-patient 1 --series 1 --slices "$SLICES" --seed "$2" --quiet >/dev/null
}
gen_study "$W/data/one" 5
mapfile -t ONE_FILES < <(find "$W/data/one" -name '*.dcm' | sort)
ONE_N=${#ONE_FILES[@]}
ONE_BYTES=$(du -cb "${ONE_FILES[@]}" | tail -1 | cut -f1)
read -r ONE_STUDY ONE_PID < <("$PY" -c 'import pydicom,sys; d=pydicom.dcmread(sys.argv[1], stop_before_pixels=True); print(d.StudyInstanceUID, d.PatientID)' "${ONE_FILES[0]}")
[[ $ONE_N == "$SLICES" ]] || die "strata-gen wrote $ONE_N files, expected $SLICES"
# Further studies (other seeds, other patients) for ingest into the big catalogs.
for ((r = 1; r <= 2 * REPS; r++)); do gen_study "$W/data/more-$r" $((100 + r)); done
if [[ $ORTHANC_FILL_STUDIES -gt 0 ]]; then
  "$GEN" ct --out "$W/data/fill" --patients $((ORTHANC_FILL_STUDIES / 2)) --studies-per-patient 2 --series 1 \
      --slices $PER_STUDY --size 32 --seed 9 --uid-root 1.2.826.0.1.3680043.10.1337.65 --quiet >/dev/null
fi
log "data: $ONE_N files, $((ONE_BYTES / 1000000)) MB in the bench study; patient $ONE_PID"

# ---- servers ------------------------------------------------------------------------------
source "$HERE/lib/wait_port.sh"  # wait_port PORT PID [TRIES]
strata_start() { # datadir
  mkdir -p "$1"
  env -u TCP_NODELAY "$STRATA" serve --data "$1" --port "$SPORT" --http-port 0 --tiering-enabled false \
      > "$1.log" 2>&1 &
  STRATA_PID=$!
  wait_port "$SPORT" "$STRATA_PID" || { tail -20 "$1.log" >&2; die "strata serve did not start"; }
}
strata_stop() { kill "$STRATA_PID"; wait "$STRATA_PID" || true; STRATA_PID=""; }

# SERVER is "strata" or "orthanc"; these dispatch on it.
start_server() { # datadir
  if [[ $SERVER == strata ]]; then strata_start "$1"; else orthanc_start "$1" "$OPORT" "$OHTTP" ORTHANC; fi
}
stop_server() { if [[ $SERVER == strata ]]; then strata_stop; else orthanc_stop; fi; }
port() { [[ $SERVER == strata ]] && echo "$SPORT" || echo "$OPORT"; }
aet() { [[ $SERVER == strata ]] && echo STRATA || echo ORTHANC; }
count_instances() { # datadir
  if [[ $SERVER == strata ]]; then
    "$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM instances").fetchone()[0])' "$1/catalog.db"
  else orthanc_count_instances; fi
}

# ---- measurements -------------------------------------------------------------------------
ingest() { # metric datadir rep files-dir client n
  local metric=$1 dd=$2 rep=$3 dir=$4 client=$5 n=$6 t0 t1 before after k pids=() fail=0 files count bytes
  mapfile -t files < <(find "$dir" -name '*.dcm' | sort)
  count=${#files[@]}; bytes=$(du -cb "${files[@]}" | tail -1 | cut -f1)
  before=$(count_instances "$dd")
  t0=$(now)
  if [[ $client == storescu || $client == storescu_default ]]; then
    local per=$(( (count + n - 1) / n )) how=nodelay
    [[ $client == storescu_default ]] && how=as_shipped
    for ((k = 0; k < n; k++)); do
      $how storescu -aet BENCHSCU -aec "$(aet)" 127.0.0.1 "$(port)" "${files[@]:k*per:per}" \
          > "$W/storescu-$k.log" 2>&1 &
      pids+=($!)
    done
    for k in "${pids[@]}"; do wait "$k" || fail=1; done
  else
    strata_cli send "$dir" --to "127.0.0.1:$(port)" --called-aet "$(aet)" --aet BENCHSCU -j "$n" -q \
        > "$W/send.log" 2>&1 || fail=1
  fi
  t1=$(now)
  [[ $fail == 0 ]] || { cat "$W"/storescu-*.log "$W/send.log" 2>/dev/null | tail -20 >&2; die "$metric on $SERVER failed"; }
  after=$(count_instances "$dd")
  [[ $((after - before)) == "$count" ]] || die "$metric on $SERVER: $((after - before)) new instances, expected $count"
  [[ -n $metric ]] && rec "$SERVER" "$metric" "$rep" "$(elapsed "$t0" "$t1")" "$bytes" "$count"
  return 0
}

find_latency() { # metric rep
  local out
  out=$("$FINDB" --to "127.0.0.1:$(port)" --called-aet "$(aet)" --key "PatientID=$ONE_PID" \
         --queries "$FIND_N" --expect 1) || die "C-FIND benchmark on $SERVER failed"
  local p50 p99
  p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<< "$out"); p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<< "$out")
  rec "$SERVER" "$1_p50" "$2" "$p50" 0 "$FIND_N"
  rec "$SERVER" "$1_p99" "$2" "$p99" 0 "$FIND_N"
}

retrieve() { # rep client n
  local out=$W/out t0 t1 got bytes
  rm -rf "$out"; mkdir -p "$out"
  t0=$(now)
  if [[ $2 == getscu || $2 == getscu_default ]]; then
    local how=nodelay; [[ $2 == getscu_default ]] && how=as_shipped
    $how getscu -S -aet BENCHSCU -aec "$(aet)" -od "$out" -k QueryRetrieveLevel=STUDY \
        -k StudyInstanceUID="$ONE_STUDY" 127.0.0.1 "$(port)" > "$W/getscu.log" 2>&1 || die "getscu on $SERVER failed"
  else
    strata_cli get --study "$ONE_STUDY" --from "127.0.0.1:$(port)" --called-aet "$(aet)" --aet BENCHSCU \
        --out "$out" -j "$3" -q > "$W/get.log" 2>&1 || { cat "$W/get.log" >&2; die "strata get on $SERVER failed"; }
  fi
  t1=$(now)
  got=$(find "$out" -type f | wc -l)
  [[ $got == "$ONE_N" ]] || die "retrieve with $2 from $SERVER: $got files, expected $ONE_N"
  bytes=$(find "$out" -type f -printf '%s\n' | awk '{s+=$1} END{print s}')
  rec "$SERVER" "get_$2_x$3" "$1" "$(elapsed "$t0" "$t1")" "$bytes" "$got"
  rm -rf "$out"
}

fill_catalog() { # datadir
  local t0 t1 out
  t0=$(now)
  if [[ $SERVER == strata ]]; then
    mkdir -p "$1"
    out=$("$FILL" --catalog "sqlite:$1/catalog.db" --studies "$FILL_STUDIES" --instances-per-study $PER_STUDY) ||
      die "strata-bench-fill failed"
    log "$out"
    t1=$(now)
    strata_start "$1"
    rec strata fill 1 "$(elapsed "$t0" "$t1")" 0 $((FILL_STUDIES * PER_STUDY))
  else
    start_server "$1"
    strata_cli send "$W/data/fill" --to "127.0.0.1:$OPORT" --called-aet ORTHANC --aet BENCHSCU -j 8 -q \
        > "$W/fill.log" 2>&1 || { tail "$W/fill.log" >&2; die "filling Orthanc failed"; }
    t1=$(now)
    rec orthanc fill 1 "$(elapsed "$t0" "$t1")" 0 "$(count_instances "$1")"
  fi
}

# ---- cold: the study packed, retrieved by a tuned getscu (uncompressed to the client) ------
COLD_S3_ARGS=()
cold_s3_start() {
  "$ROOT/scripts/ceph-dev.sh" start "$W/ceph" > "$W/ceph.log" 2>&1 || { tail -20 "$W/ceph.log" >&2; die "Ceph did not start"; }
  CEPH_STARTED=1
  set -a; . "$W/ceph/env"; set +a
  "$PY" - "$ROOT" <<'PY'
import sys; sys.path.insert(0, sys.argv[1] + "/tests/integration")
from s3util import S3; S3().create_bucket("bench")
PY
  COLD_S3_ARGS=(--cold s3://bench/run --s3-endpoint "$S3_ENDPOINT")
}
cold_case() { # metric codec cold-args...
  local metric=$1 codec=$2 dd=$W/srv/strata-cold; shift 2
  SERVER=strata
  rm -rf "$dd" "$dd.log"; mkdir -p "$dd"
  env -u TCP_NODELAY "$STRATA" serve --data "$dd" --port "$SPORT" --http-port 0 --tiering-enabled false "$@" \
      > "$dd.log" 2>&1 &
  STRATA_PID=$!
  wait_port "$SPORT" "$STRATA_PID" || { tail -20 "$dd.log" >&2; die "strata serve did not start"; }
  ingest "" "$dd" 0 "$W/data/one" send 4
  strata_cli migrate --data "$dd" --older-than 0s --tiering-codec "$codec" "$@" > "$W/migrate.log" 2>&1 ||
    { tail "$W/migrate.log" >&2; die "migrate ($codec) failed"; }
  local hot_left
  hot_left=$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM instances WHERE tier != 1").fetchone()[0])' "$dd/catalog.db")
  [[ $hot_left == 0 ]] || die "migrate ($codec) left $hot_left instances hot: the cold figure would be a hot one"
  local rep
  for ((rep = 1; rep <= REPS; rep++)); do
    retrieve "$rep" getscu 1
    # retrieve records get_getscu_x1: rename this repetition's row to the cold metric
    sed -i '$ s/\tget_getscu_x1\t/\t'"$metric"'\t/' "$RES"
  done
  strata_stop
  rm -rf "$dd"
}

# ---- ceilings: what the machine and DCMTK's own servers reach (no catalog, no checks) ------
# cp_fsync   each file copied and fdatasync'ed, the directory fsync'ed once: durable ingest
#            can not beat it on this disk
# storescp   DCMTK's storescp writing each file (no fsync, no database), tuned storescu
# dcmqrscp   DCMTK's own Q/R archive (index file, no database): tuned getscu C-GET
cp_fsync() { # rep
  local d=$W/srv/cp t0 t1
  rm -rf "$d"; mkdir -p "$d"
  t0=$(now)
  "$PY" - "$d" "${ONE_FILES[@]}" <<'PY'
import os, sys
out = sys.argv[1]
for i, f in enumerate(sys.argv[2:]):
    with open(f, "rb") as src:
        data = src.read()
    fd = os.open(os.path.join(out, "%06d.dcm" % i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, data); os.fdatasync(fd); os.close(fd)
dfd = os.open(out, os.O_RDONLY); os.fsync(dfd); os.close(dfd)
PY
  t1=$(now)
  rec limit cp_fsync "$1" "$(elapsed "$t0" "$t1")" "$ONE_BYTES" "$ONE_N"
  rm -rf "$d"
}
storescp_ceiling() { # rep
  local d=$W/srv/storescp p=$((SPORT + 7)) pid t0 t1 got
  rm -rf "$d"; mkdir -p "$d"
  # Started as a plain command, not through nodelay(): $! must be storescp itself (a function
  # run in the background is a subshell, and killing that left storescp holding the port).
  TCP_NODELAY=1 storescp -aet STORESCP -od "$d" "$p" > "$W/storescp.log" 2>&1 &
  pid=$!
  wait_port "$p" "$pid" || die "storescp did not start"
  t0=$(now)
  nodelay storescu -aet BENCHSCU -aec STORESCP 127.0.0.1 "$p" "${ONE_FILES[@]}" > "$W/storescu-ceiling.log" 2>&1 ||
    die "storescu to storescp failed"
  t1=$(now)
  kill "$pid" 2>/dev/null || log "storescp had exited already: $(tail -3 "$W/storescp.log" | tr '\n' ' ')"
  wait "$pid" 2>/dev/null || true
  got=$(find "$d" -type f | wc -l)
  [[ $got == "$ONE_N" ]] || die "storescp stored $got files, expected $ONE_N"
  rec limit storescp "$1" "$(elapsed "$t0" "$t1")" "$ONE_BYTES" "$ONE_N"
  rm -rf "$d"
}
DCMQR_PID=""
dcmqrscp_start() { # leaves DCMQR_PID running on port SPORT+8, AE DCMQRSCP, holding the study
  local d=$W/srv/dcmqr p=$((SPORT + 8))
  rm -rf "$d"; mkdir -p "$d/db"
  cat > "$d/dcmqrscp.cfg" <<CFG
NetworkTCPPort = $p
MaxPDUSize = 16384
MaxAssociations = 16
HostTable BEGIN
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
DCMQRSCP $d/db RW (2000, 4096mb) ANY
AETable END
CFG
  TCP_NODELAY=1 dcmqrscp -c "$d/dcmqrscp.cfg" > "$W/dcmqrscp.log" 2>&1 &  # $! is dcmqrscp (see storescp)
  DCMQR_PID=$!
  wait_port "$p" "$DCMQR_PID" || { tail "$W/dcmqrscp.log" >&2; die "dcmqrscp did not start"; }
  nodelay storescu -aet BENCHSCU -aec DCMQRSCP 127.0.0.1 "$p" "${ONE_FILES[@]}" > "$W/storescu-dcmqr.log" 2>&1 ||
    die "storescu to dcmqrscp failed"
}
dcmqrscp_get() { # rep
  local out=$W/out t0 t1 got bytes
  rm -rf "$out"; mkdir -p "$out"
  t0=$(now)
  nodelay getscu -S -aet BENCHSCU -aec DCMQRSCP -od "$out" -k QueryRetrieveLevel=STUDY \
      -k StudyInstanceUID="$ONE_STUDY" 127.0.0.1 $((SPORT + 8)) > "$W/getscu-dcmqr.log" 2>&1 || die "getscu from dcmqrscp failed"
  t1=$(now)
  got=$(find "$out" -type f | wc -l)
  [[ $got == "$ONE_N" ]] || die "getscu from dcmqrscp: $got files, expected $ONE_N"
  bytes=$(find "$out" -type f -printf '%s\n' | awk '{s+=$1} END{print s}')
  rec limit dcmqrscp_get "$1" "$(elapsed "$t0" "$t1")" "$bytes" "$got"
  rm -rf "$out"
}

# The servers take turns inside every repetition (Strata, then Orthanc, for each client),
# so a burst of load from elsewhere on a shared box hits both rather than one of them.
SERVERS=(strata)
[[ $ORTHANC == 1 ]] && SERVERS+=(orthanc)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

log "ingest into an empty archive (${SERVERS[*]})"
for ((rep = 1; rep <= REPS; rep++)); do
  for c in storescu:1 storescu_default:1 storescu:4 send:1 send:4 send:8; do
    for SERVER in "${SERVERS[@]}"; do
      dd=$W/srv/$SERVER-ingest
      rm -rf "$dd" "$dd.log"
      start_server "$dd"
      ingest "ingest_${c%:*}_x${c#*:}" "$dd" "$rep" "$W/data/one" "${c%:*}" "${c#*:}"
      stop_server
      rm -rf "$dd"
    done
  done
done

log "C-FIND and retrieval, each archive holding the one study"
for SERVER in "${SERVERS[@]}"; do
  start_server "$W/srv/$SERVER-qr"
  ingest "" "$W/srv/$SERVER-qr" 0 "$W/data/one" send 4
done
for SERVER in "${SERVERS[@]}"; do find_latency find_small 1; done
for ((rep = 1; rep <= REPS; rep++)); do
  for c in getscu:1 getscu_default:1 strata-get:1 strata-get:4; do
    for SERVER in "${SERVERS[@]}"; do retrieve "$rep" "${c%:*}" "${c#*:}"; done
  done
done
for SERVER in "${SERVERS[@]}"; do stop_server; rm -rf "$W/srv/$SERVER-qr"; done

if [[ $MODE != smoke ]]; then
  log "cold: the study packed (file: and$([[ $S3 == 1 ]] || echo ' no') RGW), C-GET by a tuned getscu"
  cold_case cold_none_getscu none --cold "file:$W/srv/cold-none"
  cold_case cold_jpegls_getscu jpeg-ls --cold "file:$W/srv/cold-jls"
  if [[ $S3 == 1 ]]; then
    cold_s3_start
    cold_case cold_rgw_getscu none "${COLD_S3_ARGS[@]}"
  fi
fi

if [[ $MODE != smoke ]]; then
  log "ceilings: cp + fdatasync, DCMTK storescp, DCMTK dcmqrscp"
  command -v dcmqrscp >/dev/null && command -v storescp >/dev/null || die "missing storescp/dcmqrscp (apt-get install dcmtk)"
  dcmqrscp_start
  for ((rep = 1; rep <= REPS; rep++)); do cp_fsync "$rep"; storescp_ceiling "$rep"; dcmqrscp_get "$rep"; done
  kill "$DCMQR_PID"; wait "$DCMQR_PID" 2>/dev/null || true; DCMQR_PID=""
fi

log "big catalogs: filling"
for SERVER in "${SERVERS[@]}"; do
  fill_catalog "$W/srv/$SERVER-big"   # leaves the server running
  ingest "" "$W/srv/$SERVER-big" 0 "$W/data/one" send 4
done
log "big catalogs: C-FIND and ingest"
for SERVER in "${SERVERS[@]}"; do find_latency find_big 1; done
for ((rep = 1; rep <= REPS; rep++)); do
  for SERVER in "${SERVERS[@]}"; do
    ingest big_ingest_send_x4 "$W/srv/$SERVER-big" "$rep" "$W/data/more-$((2 * rep - 1))" send 4
    ingest big_ingest_storescu_x1 "$W/srv/$SERVER-big" "$rep" "$W/data/more-$((2 * rep))" storescu 1
  done
done
for SERVER in "${SERVERS[@]}"; do
  rec "$SERVER" big_instances 1 "$(count_instances "$W/srv/$SERVER-big")" 0 0
  stop_server
  rm -rf "$W/srv/$SERVER-big"
done

# ---- report ------------------------------------------------------------------------------
{
  echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), $(df -T "$W" | awk 'NR==2{print $2}') on $(df "$W" | awk 'NR==2{print $1}'); $(date -u +%F); $NETMODE; load avg (1/5/15 min) at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions: strata $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), orthanc $(dpkg-query -W -f='${Version}' orthanc 2>/dev/null || echo -), dcmtk $(dpkg-query -W -f='${Version}' dcmtk 2>/dev/null)"
  echo "data: one study x $ONE_N CT slices (512x512 int16, Explicit VR LE, strata-gen), $(awk -v b="$ONE_BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB; MB = 10^6 bytes; $REPS rep(s), medians; wall clock incl. client start; clients and servers share the cores"
  echo "servers: fresh storage per ingest, Strata and Orthanc alternating within each repetition; Strata defaults (SQLite catalog, fsync'd), no TCP_NODELAY in its env; Orthanc SQLite index, SyncStorageArea, 4 DICOM threads, TCP_NODELAY=1 (also for storescu/getscu)"
} > "$W/header.txt"
"$PY" - "$RES" "$W/header.txt" "$ORTHANC" <<'EOF'
import collections, statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print(open(sys.argv[2]).read().rstrip())
with_orthanc = sys.argv[3] == "1"
v = collections.defaultdict(list)
for server, metric, rep, value, b, n in rows:
    v[(server, metric)].append((float(value), int(b), int(n)))
def med(server, metric):
    x = v.get((server, metric))
    return (st.median(a for a, _, _ in x), x[0][1], x[0][2]) if x else None
def tput(server, metric):
    m = med(server, metric)
    if not m: return None, "-"
    s, b, n = m
    return b / 1e6 / s, "%.0f MB/s, %.0f img/s" % (b / 1e6 / s, n / s)
def lat(server, metric):
    m = med(server, metric)
    return (m[0], "%.2f ms" % m[0]) if m else (None, "-")
fill = {s: med(s, "fill") for s in ("strata", "orthanc")}
big = {s: med(s, "big_instances") for s in ("strata", "orthanc")}
def big_label(s):
    return "{:,} instances".format(int(big[s][0])) if big[s] else "-"
lines = [
    ("ingest: storescu, 1 association", "ingest_storescu_x1", tput, True),
    ("ingest: storescu as shipped (Nagle on), 1 assoc.", "ingest_storescu_default_x1", tput, True),
    ("ingest: 4 storescu in parallel", "ingest_storescu_x4", tput, True),
    ("ingest: strata send -j1", "ingest_send_x1", tput, True),
    ("ingest: strata send -j4", "ingest_send_x4", tput, True),
    ("ingest: strata send -j8", "ingest_send_x8", tput, True),
    ("C-FIND study by PatientID, p50 (1 study)", "find_small_p50", lat, False),
    ("C-FIND study by PatientID, p99 (1 study)", "find_small_p99", lat, False),
    ("retrieve study: getscu (C-GET, 1 assoc.)", "get_getscu_x1", tput, True),
    ("retrieve study: getscu as shipped (Nagle on)", "get_getscu_default_x1", tput, True),
    ("retrieve study: strata get -j1", "get_strata-get_x1", tput, True),
    ("retrieve study: strata get -j4", "get_strata-get_x4", tput, True),
    ("cold C-GET, uncompressed pack (file:), getscu", "cold_none_getscu", tput, True),
    ("cold C-GET, JPEG-LS pack (file:) to an uncompressed client", "cold_jpegls_getscu", tput, True),
    ("cold C-GET, uncompressed pack in Ceph RGW, getscu", "cold_rgw_getscu", tput, True),
    ("big catalog: C-FIND p50", "find_big_p50", lat, False),
    ("big catalog: C-FIND p99", "find_big_p99", lat, False),
    ("big catalog: ingest, strata send -j4", "big_ingest_send_x4", tput, True),
    ("big catalog: ingest, storescu x1", "big_ingest_storescu_x1", tput, True),
]
print()
hdr = "| measurement | Strata | Orthanc | Strata advantage |" if with_orthanc else "| measurement | Strata |"
print(hdr)
print("|---|---|---|---|" if with_orthanc else "|---|---|")
for label, metric, f, higher_better in lines:
    sv, stext = f("strata", metric)
    if not with_orthanc:
        print("| %s | %s |" % (label, stext)); continue
    ov, otext = f("orthanc", metric)
    ratio = "-"
    if sv and ov:
        ratio = "%.1fx" % ((sv / ov) if higher_better else (ov / sv))
    print("| %s | %s | %s | %s |" % (label, stext, otext, ratio))
print()
print("per-repetition values (MB/s for transfers, ms for C-FIND):")
for label, metric, f, _ in lines:
    parts = []
    for s in ("strata", "orthanc"):
        x = v.get((s, metric))
        if x:
            vals = [b / 1e6 / a for a, b, _ in x] if f is tput else [a for a, _, _ in x]
            parts.append("%s %s" % (s, "/".join("%.0f" % y if f is tput else "%.2f" % y for y in vals)))
    if parts:
        print("  %-44s %s" % (label + ":", "; ".join(parts)))
print()
for s in ("strata", "orthanc"):
    if fill[s]:
        secs, _, n = fill[s]
        how = "strata-bench-fill (catalog API, 20k rows per transaction)" if s == "strata" else "C-STORE of small 32x32 CT files (strata send -j8)"
        print("big catalog, %s: %s at the end (pre-filled %d instances in %.1f s = %.0f/s via %s)" %
              (s, big_label(s), n, secs, n / secs, how))
# Against the ceilings (issue 13): each figure beside what the machine / DCMTK itself reaches.
limits = [
    ("ingest, storescu x1 vs cp + fdatasync per file", "ingest_storescu_x1", "cp_fsync"),
    ("ingest, storescu x1 vs DCMTK storescp (no fsync)", "ingest_storescu_x1", "storescp"),
    ("ingest, storescu as shipped vs cp + fdatasync", "ingest_storescu_default_x1", "cp_fsync"),
    ("C-GET, getscu vs DCMTK dcmqrscp", "get_getscu_x1", "dcmqrscp_get"),
    ("C-GET, getscu as shipped vs DCMTK dcmqrscp", "get_getscu_default_x1", "dcmqrscp_get"),
]
if v.get(("limit", "cp_fsync")):
    print()
    print("| against the limit | Strata | Orthanc | limit | Strata / limit | Strata / Orthanc |")
    print("|---|---|---|---|---|---|")
    for label, metric, lim in limits:
        sv, stext = tput("strata", metric)
        ov, otext = tput("orthanc", metric)
        lv, ltext = tput("limit", lim)
        print("| %s | %s | %s | %s | %s | %s |" % (label, stext, otext, ltext,
              "%.2f" % (sv / lv) if sv and lv else "-", "%.1fx" % (sv / ov) if sv and ov else "-"))
    hot = tput("strata", "get_getscu_x1")[0]
    for label, metric in (("file: uncompressed", "cold_none_getscu"), ("file: JPEG-LS", "cold_jpegls_getscu"),
                          ("Ceph RGW uncompressed", "cold_rgw_getscu")):
        c = tput("strata", metric)[0]
        if c and hot:
            print("cold / hot C-GET (tuned getscu), %s: %.2f" % (label, c / hot))
    d, t = tput("strata", "ingest_storescu_default_x1")[0], tput("strata", "ingest_storescu_x1")[0]
    if d and t:
        print()
        print("storescu as shipped vs tuned (TCP_NODELAY=1), Strata: %.0f %% of the tuned figure" % (100 * d / t))
    print("per-repetition ceilings (MB/s): " + "; ".join(
        "%s %s" % (m, "/".join("%.0f" % (b / 1e6 / a) for a, b, _ in v[("limit", m)]))
        for m in ("cp_fsync", "storescp", "dcmqrscp_get") if v.get(("limit", m))))
EOF
[[ -n $RESULTS_OUT ]] && log "raw results -> $RESULTS_OUT"
exit 0

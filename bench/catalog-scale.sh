#!/usr/bin/env bash
# bench/catalog-scale.sh - is the catalog flat? (issue 13 item 6)
#
# For each backend (SQLite, and PostgreSQL from scripts/pg-dev.sh), compares an empty catalog
# with one pre-filled with ~1M instances:
#   fill       ~2,800 studies of 360 instances. SQLite: bench/catalog_fill.cc
#              (strata-bench-fill) through Catalog::AddInstances, the server's own write path,
#              in big transactions (~1 min): the rows, counters and index entries are exactly
#              what C-STORE writes, whatever the schema version. The rows carry a real slice's
#              header JSON (--template, the bench study's first file) and scanner-like UIDs
#              spread over the UID indexes (bench/synthetic_rows.h). PostgreSQL: one study
#              that way, then copied by bench/catalog_fill_pg.sql in one transaction (the API
#              costs ~2 ms per instance there: 1M would take over half an hour), then VACUUM
#              ANALYZE (what autovacuum does after a bulk load).
#   ingest     the same 360-slice CT study (strata-gen) by one storescu association
#              (TCP_NODELAY=1), into a fresh empty catalog and into the big one, the two cases
#              alternating (and swapping order) in every round; REPS rounds, medians. Each
#              round stores a study of its own (another seed), and every ingest starts its
#              server afresh on an empty hot tier (the catalog URL points elsewhere), so both
#              cases pay the same start-up.
#              Also the server's CPU seconds per ingest (/proc/PID/stat), which other load on
#              a shared machine moves far less than wall time.
#   C-FIND     study level, by PatientID and by a StudyDate range of one month
#              (bench/find_latency.cc: queries timed alone inside one association) -> p50/p99
#   catalog    Catalog::AddInstances per batch of N = 1, 16, 256 (bench/catalog_add_bench.cc,
#              Google Benchmark, wall time incl. the commit's fsync) at 0 and at 1M rows
# Prints MB/s, images/s, percentiles and each 1M/empty ratio.
#
# Usage: bench/catalog-scale.sh [--backend sqlite|pg|both] [--instances N] [--reps N]
#                               [--build DIR] [--keep] [--save]
#   --instances  size of the big catalog (default 1000000; rounded to whole studies)
#   --fill-per-study  instances per pre-filled study (default 360: ~2,800 CT studies; 10 gives
#              bench/run.sh's 100k-study shape)
#   --save       also write the report to bench/results/catalog-scale-<backend>-<date>.txt
#   --keep       keep the work dir (catalogs, logs, raw results)
# Needs: dcmtk (storescu), python3 (Debian's), postgresql for --backend pg|both.
# Only processes this script started are stopped, by pid; the work dir is removed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SELF="$HERE/$(basename "$0")"
BACKENDS=both BUILD="$ROOT/build" REPS=3 INSTANCES=1000000 KEEP=0 SAVE=0 PER_STUDY=360 FILL_PER_STUDY=360
die() { echo "bench/catalog-scale.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --backend) BACKENDS=$2; shift 2;;
    --instances) INSTANCES=$2; shift 2;;
    --reps) REPS=$2; shift 2;;
    --fill-per-study) FILL_PER_STUDY=$2; shift 2;;
    --build) BUILD=$2; shift 2;;
    --keep) KEEP=1; shift;;
    --save) SAVE=1; shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) die "unknown option $1 (see --help)";;
  esac
done
case $BACKENDS in both) BACKENDS="sqlite pg";; sqlite|pg) ;; *) die "--backend sqlite|pg|both";; esac
BUILD=$(cd "$BUILD" && pwd)
STRATA=$BUILD/strata GEN=$BUILD/src/testdata/strata-gen FILL=$BUILD/bench/strata-bench-fill
FINDB=$BUILD/bench/strata-bench-find ADDB=$BUILD/bench/strata-bench-catalog-add
for b in "$STRATA" "$GEN" "$FILL" "$FINDB" "$ADDB"; do
  [[ -x $b ]] || die "missing $b (ninja -C $BUILD strata strata-gen strata-bench-fill strata-bench-find strata-bench-catalog-add)"
done
PY=/usr/bin/python3
for c in storescu "$PY"; do command -v "$c" >/dev/null || die "missing $c (apt-get install dcmtk)"; done
FILL_STUDIES=$(( (INSTANCES + FILL_PER_STUDY - 1) / FILL_PER_STUDY ))

W=$(mktemp -d /tmp/strata-catscale.XXXXXX)
chmod 755 "$W"  # pg-dev.sh runs PostgreSQL as the postgres user when we are root
RES=$W/results.tsv
: > "$RES"
STRATA_PID="" PG_STARTED=""
cleanup() {
  local rc=$?
  set +e
  [[ -n $STRATA_PID ]] && { kill "$STRATA_PID" 2>/dev/null; wait "$STRATA_PID" 2>/dev/null; }
  [[ -n $PG_STARTED ]] && "$ROOT/scripts/pg-dev.sh" stop "$W/pg" > /dev/null 2>&1
  if [[ $KEEP == 1 ]]; then log "kept $W"; else rm -rf "$W"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.6f", b - a}'; }
rec() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RES"; }  # backend metric round value bytes count
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SPORT=$(free_port)

# ---- data: one study per round (the same one goes into both catalogs) --------------------
STUDY_DATE=20240115
for ((r = 1; r <= REPS; r++)); do
  "$GEN" ct --out "$W/data/r$r" --patients 1 --studies-per-patient 1 --series 1 --slices $PER_STUDY \
      --seed $((300 + r)) --study-date $STUDY_DATE --quiet > /dev/null
done
mapfile -t FILES1 < <(find "$W/data/r1" -name '*.dcm' | sort)
[[ ${#FILES1[@]} == "$PER_STUDY" ]] || die "strata-gen wrote ${#FILES1[@]} files, expected $PER_STUDY"
TEMPLATE=${FILES1[0]}
STUDY_BYTES=$(du -cb "${FILES1[@]}" | tail -1 | cut -f1)
# C-FIND asks for the last round's patient: its study is in the last empty catalog and in the big one.
LAST=$(find "$W/data/r$REPS" -name '*.dcm' | sort | head -1)
read -r FIND_PID < <("$PY" -c 'import pydicom,sys; print(pydicom.dcmread(sys.argv[1], stop_before_pixels=True).PatientID)' "$LAST")
log "data: $REPS studies of $PER_STUDY slices ($((STUDY_BYTES / 1000000)) MB each); big catalogs: $FILL_STUDIES studies"

# ---- servers and catalogs ------------------------------------------------------------------
source "$HERE/lib/wait_port.sh"  # wait_port PORT PID [TRIES]
strata_start() { # datadir catalog-url
  mkdir -p "$1"
  env -u TCP_NODELAY "$STRATA" serve --data "$1" --catalog "$2" --port "$SPORT" --http-port 0 \
      --tiering-enabled false > "$1.log" 2>&1 &
  STRATA_PID=$!
  wait_port "$SPORT" "$STRATA_PID" 600 || { tail -20 "$1.log" >&2; die "strata serve did not start"; }
}
strata_stop() { kill "$STRATA_PID"; wait "$STRATA_PID" || true; STRATA_PID=""; }

PSQL=""
pg_start() {
  [[ -n $PG_STARTED ]] && return 0
  "$ROOT/scripts/pg-dev.sh" start "$W/pg" > "$W/pg-start.log" 2>&1 || { cat "$W/pg-start.log" >&2; die "PostgreSQL did not start"; }
  PG_STARTED=1
  # shellcheck disable=SC1091
  . "$W/pg/env"
  PG_BASE=${STRATA_TEST_PG_URL%/*}
  PSQL="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/psql"
}
pg_sql() { "$PSQL" -X -q -t -A "$PG_BASE/strata" -c "$1"; }
new_catalog() { # backend name -> prints the catalog URL of a new, empty catalog
  if [[ $1 == sqlite ]]; then mkdir -p "$W/cat"; rm -f "$W/cat/$2.db"*; echo "sqlite:$W/cat/$2.db"
  else pg_sql "DROP DATABASE IF EXISTS $2" > /dev/null; pg_sql "CREATE DATABASE $2" > /dev/null; echo "$PG_BASE/$2"; fi
}
count_instances() { # backend url (0 for a catalog no server has opened yet)
  if [[ $1 == sqlite ]]; then
    "$PY" -c 'import os,sqlite3,sys
if not os.path.exists(sys.argv[1]): print(0); sys.exit()
print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM instances").fetchone()[0])' "${2#sqlite:}"
  else
    "$PSQL" -X -q -t -A "$2" -c "SELECT CASE WHEN to_regclass('instances') IS NULL THEN 0 ELSE
        (xpath('/row/c/text()', query_to_xml('SELECT COUNT(*) AS c FROM instances', false, true, '')))[1]::text::bigint END"
  fi
}

ingest() { # backend case round url datadir files-dir
  local be=$1 case=$2 round=$3 url=$4 dd=$5 dir=$6 files before after t0 t1 cpu
  mapfile -t files < <(find "$dir" -name '*.dcm' | sort)
  before=$(count_instances "$be" "$url")
  # A fresh hot tier for both cases: the start-up reconcile then walks nothing in either.
  rm -rf "$dd" "$dd.log"
  strata_start "$dd" "$url"
  t0=$(now)
  TCP_NODELAY=1 storescu -aet BENCHSCU -aec STRATA 127.0.0.1 "$SPORT" "${files[@]}" > "$W/storescu.log" 2>&1 ||
    { tail -20 "$W/storescu.log" >&2; die "storescu ($be $case) failed"; }
  t1=$(now)
  # The server's CPU seconds for the whole run (start-up included, the same in both cases):
  # unlike wall time, barely moved by other load on a shared machine.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$STRATA_PID/stat")
  strata_stop
  after=$(count_instances "$be" "$url")
  [[ $((after - before)) == "${#files[@]}" ]] || die "$be $case: $((after - before)) new instances, expected ${#files[@]}"
  rec "$be" "ingest_$case" "$round" "$(elapsed "$t0" "$t1")" "$STUDY_BYTES" "${#files[@]}"
  rec "$be" "cpu_$case" "$round" "$cpu" 0 "${#files[@]}"
}

find_latency() { # backend case url datadir
  local out key metric
  strata_start "$4" "$3"
  for key in "pid:PatientID=$FIND_PID" "date:StudyDate=20240101-20240131"; do
    out=$("$FINDB" --to "127.0.0.1:$SPORT" --called-aet STRATA --key "${key#*:}" --queries 500 --expect -1) ||
      die "C-FIND ($1 $2 ${key%%:*}) failed"
    metric=find_${key%%:*}
    rec "$1" "${metric}_p50_$2" 1 "$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<< "$out")" 0 "$(sed -n 's/.*matches=\([0-9]*\).*/\1/p' <<< "$out")"
    rec "$1" "${metric}_p99_$2" 1 "$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<< "$out")" 0 "$(sed -n 's/.*matches=\([0-9]*\).*/\1/p' <<< "$out")"
  done
  strata_stop
}

add_bench() { # backend case url round (the empty case starts from an empty catalog each round)
  local j="$W/add-$1-$2-$4.json" base=20000000
  [[ $2 == big ]] && base=30000000
  "$ADDB" --catalog "$3" --template "$TEMPLATE" --first $((base + $4 * 100000)) \
      --benchmark_min_time=1 --benchmark_out="$j" --benchmark_out_format=json \
      > "${j%.json}.log" 2>&1 || { tail "${j%.json}.log" >&2; die "strata-bench-catalog-add ($1 $2) failed"; }
  "$PY" - "$j" "$1" "$2" "$4" >> "$RES" <<'PY'
import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    n = b["name"].split("/")[1]
    print("%s\tadd_%s_%s\t%s\t%f\t0\t%d" % (sys.argv[2], n, sys.argv[3], sys.argv[4], b["real_time"], int(n)))
PY
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for be in $BACKENDS; do
  [[ $be == pg ]] && pg_start
  log "$be: filling the big catalog ($FILL_STUDIES studies x $FILL_PER_STUDY)"
  BIG=$(new_catalog "$be" big)
  t0=$(now)
  if [[ $be == sqlite ]]; then
    out=$("$FILL" --catalog "$BIG" --studies "$FILL_STUDIES" --instances-per-study "$FILL_PER_STUDY" --template "$TEMPLATE" \
          --batch 20000) || die "strata-bench-fill ($be) failed"
  else  # one exemplar study through the API, copied by SQL (bench/catalog_fill_pg.sql says why)
    out=$("$FILL" --catalog "$BIG" --studies 1 --instances-per-study "$FILL_PER_STUDY" --template "$TEMPLATE") ||
      die "strata-bench-fill ($be) failed"
    "$PSQL" -X -q -v studies="$FILL_STUDIES" -f "$HERE/catalog_fill_pg.sql" "$BIG" || die "bench/catalog_fill_pg.sql failed"
  fi
  t1=$(now)
  log "$out"
  rec "$be" fill 1 "$(elapsed "$t0" "$t1")" 0 "$(count_instances "$be" "$BIG")"
  if [[ $be == pg ]]; then "$PSQL" -X -q "$BIG" -c "VACUUM ANALYZE" > /dev/null; fi

  log "$be: ingest, empty vs big, $REPS rounds alternating"
  for ((r = 1; r <= REPS; r++)); do
    EMPTY=$(new_catalog "$be" "empty$r")
    rm -rf "$W/srv/$be-empty"
    if (( r % 2 )); then
      ingest "$be" empty "$r" "$EMPTY" "$W/srv/$be-empty" "$W/data/r$r"
      ingest "$be" big "$r" "$BIG" "$W/srv/$be-big" "$W/data/r$r"
    else
      ingest "$be" big "$r" "$BIG" "$W/srv/$be-big" "$W/data/r$r"
      ingest "$be" empty "$r" "$EMPTY" "$W/srv/$be-empty" "$W/data/r$r"
    fi
  done
  log "$be: C-FIND, one-study catalog vs big"
  find_latency "$be" empty "$EMPTY" "$W/srv/$be-empty"
  find_latency "$be" big "$BIG" "$W/srv/$be-big"
  rec "$be" big_instances 1 "$(count_instances "$be" "$BIG")" 0 0
  log "$be: Catalog::AddInstances per batch, 0 vs big (alternating, 2 rounds)"
  ZERO=$(new_catalog "$be" addzero)
  add_bench "$be" empty "$ZERO" 1; add_bench "$be" big "$BIG" 1
  add_bench "$be" big "$BIG" 2; add_bench "$be" empty "$(new_catalog "$be" addzero)" 2
done

# ---- report ----------------------------------------------------------------------------------
REPORT=$W/report.txt
{
  echo "machine: $(nproc) vCPU, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), $(df -T "$W" | awk 'NR==2{print $2}'); $(date -u +%F); load avg (1/5/15 min) at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions: strata $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), sqlite $("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)'), $("$PSQL" --version 2>/dev/null || echo 'postgresql -')"
  echo "data: $PER_STUDY-slice CT studies (512x512 int16, strata-gen), $(awk -v b="$STUDY_BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB each; MB = 10^6 bytes; storescu x1, TCP_NODELAY=1; $REPS rounds, empty and big alternating, medians"
  "$PY" "$HERE/lib/catalog_scale_report.py" "$RES"
} > "$REPORT"
cat "$REPORT"
if [[ $SAVE == 1 ]]; then
  out="$HERE/results/catalog-scale-$(echo "$BACKENDS" | tr ' ' '+')-$(date -u +%F).txt"
  cp "$REPORT" "$out"; log "report -> $out"
fi
exit 0

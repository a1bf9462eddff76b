#!/usr/bin/env bash
# soak-safety.sh [ROUNDS] [MODE] [FIRST_SEED] [-- extra run_safety.py args]: the safety checker
# (tests/safety) for many rounds, each with a new seed; prints the count survived. MODE is full
# (two nodes on PostgreSQL + Ceph; default) or embedded. One PostgreSQL and one Ceph serve every
# round (each round gets a fresh database and S3 prefix). Logs of failed rounds are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-10}; MODE=${2:-full}; SEED=${3:-$(( $(date +%s) % 100000 ))}
shift $(( $# < 3 ? $# : 3 )); [ "${1:-}" = "--" ] && shift
WORK=$(mktemp -d /tmp/soak-safety.XXXXXX)
chmod 755 "$WORK"  # the PostgreSQL server runs as user postgres and must reach its directory
ENGINES=()
cleanup() {
  [ -d "$WORK/pg" ] && scripts/pg-dev.sh stop "$WORK/pg" || true
  [ -d "$WORK/ceph" ] && scripts/ceph-dev.sh stop "$WORK/ceph" >/dev/null 2>&1 || true
}
trap cleanup EXIT
if [ "$MODE" = full ]; then
  scripts/pg-dev.sh start "$WORK/pg" >/dev/null
  scripts/ceph-dev.sh start "$WORK/ceph" >/dev/null 2>&1
  ENGINES=(--pg-dir "$WORK/pg" --ceph-dir "$WORK/ceph")
fi
survived=0
for ((r = 0; r < ROUNDS; r++)); do
  s=$((SEED + r))
  log="$WORK/round-$s.log"
  if STRATA_BIN=$PWD/build/strata STRATA_GEN_BIN=$PWD/build/src/testdata/strata-gen \
      /usr/bin/python3 tests/safety/run_safety.py --mode "$MODE" --seed "$s" "${ENGINES[@]}" "$@" >"$log" 2>&1; then
    survived=$((survived + 1)); res=ok
  else
    res="FAILED (log $log)"
  fi
  line=$(grep '^safety:' "$log" | tail -n1 || true)
  [ "$res" = ok ] && rm -f "$log"
  echo "round $((r + 1))/$ROUNDS seed $s: $res ${line}"
done
echo "soak-safety: mode=$MODE rounds=$ROUNDS survived=$survived first_seed=$SEED"
[ "$survived" = "$ROUNDS" ]

#!/usr/bin/env bash
# soak-kill9.sh [ROUNDS] [SEEDS...]: the converter's kill -9 test, longer than CI runs it.
# Each seed runs ROUNDS (default 100) migrations killed at random points, then checks that
# nothing was lost and no orphan (hot file, pack object, pending upload, temp file) remains.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-100}; shift || true
SEEDS=${*:-1 2 3}
for seed in $SEEDS; do
  echo "== seed $seed, $ROUNDS rounds"
  STRATA_KILL_ROUNDS=$ROUNDS STRATA_KILL_SEED=$seed STRATA_BIN=$PWD/build/strata \
    STRATA_GEN_BIN=$PWD/build/src/testdata/strata-gen \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_tiering.py -k kill9
done

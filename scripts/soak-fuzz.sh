#!/usr/bin/env bash
# soak-fuzz.sh [CASES]: the front doors' mutation fuzzer (C-STORE / C-FIND PDUs and STOW-RS
# bodies against a real `strata serve`) for many more cases than CI runs (default 100000).
# Fails on any crash, hang or growth of memory, like the CI run of 6000 cases.
set -euo pipefail
cd "$(dirname "$0")/.."
export STRATA_FUZZ_CASES=${1:-100000}
export STRATA_BIN=${STRATA_BIN:-$PWD/build/strata}
export STRATA_GEN_BIN=${STRATA_GEN_BIN:-$PWD/build/src/testdata/strata-gen}
exec /usr/bin/python3 -m pytest -q -x -p no:cacheprovider tests/integration/test_front_doors.py -k mutation_fuzz

#!/usr/bin/env bash
# strata-gen's output is a pure function of its arguments: this check generates every image
# kind (and each output syntax, CT bit depths, every MR sequence and CT protocol) with fixed
# seeds and compares the SHA-256 of every file with golden_output.sha256, recorded from the
# generator before its builders were split into one file per kind (session 5). A change of a
# single byte fails; a deliberate change of the output re-records the file:
#   tests/testdata/golden_output.sh STRATA_GEN --record
# The values hold for Debian 12's DCMTK 3.6.7 (its implementation UID is in every meta group).
set -euo pipefail
gen=${1:?usage: golden_output.sh STRATA_GEN [--record]}
mode=${2:-check}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() {  # NAME ARGS...: one generated set under $work/NAME
  local name=$1; shift
  "$gen" "$@" --out "$work/$name" --quiet --threads 2 >/dev/null
}
run ct ct --patients 2 --series 4 --slices 3 --size 96 --seed 7
run ct12 ct --series 1 --slices 2 --rows 64 --cols 80 --bits-stored 12 --seed 3 --study-date 20240229
run mr mr --series 3 --slices 4 --size 64 --seed 7
run mr14 mr --slices 2 --size 48 --bits-stored 14 --seed 9
run multiframe multiframe --series 2 --slices 2 --frames 3 --size 64 --seed 7
run color color --series 2 --slices 2 --rows 60 --cols 100 --seed 7
run mono1 mono1 --patients 2 --slices 2 --seed 7
run implicit ct --slices 2 --size 32 --seed 5 --syntax implicit
run deflated mr --slices 2 --size 32 --seed 5 --syntax deflated
run big mono1 --slices 1 --rows 31 --cols 33 --seed 5 --syntax big
run flat color --slices 2 --size 24 --seed 5 --flat --uid-root 1.2.3.4 --first-patient 9
run defaults ct --slices 1 --seed 11

(cd "$work" && find . -type f | LC_ALL=C sort | xargs sha256sum) > "$work.sha256"
if [[ $mode == --record ]]; then
  cp "$work.sha256" "$here/golden_output.sha256"
  echo "recorded $(wc -l < "$here/golden_output.sha256") files"
  rm -f "$work.sha256"
  exit 0
fi
if ! diff -u "$here/golden_output.sha256" "$work.sha256"; then
  rm -f "$work.sha256"
  echo "strata-gen output differs from golden_output.sha256 (lines above)" >&2
  exit 1
fi
echo "$(wc -l < "$work.sha256") files byte-identical to golden_output.sha256"
rm -f "$work.sha256"

#!/usr/bin/env bash
# bench/jpegls-decoders.sh [--slices N] [--reps N] [--rounds N]: DCMTK's JPEG-LS decoder (its
# bundled CharLS 1.x fork, what Strata uses through dcmjpls) against Debian's CharLS 2, on the
# same codestreams: strata-gen CT slices (512x512 int16) compressed by DCMTK's dcmcjpls, as the
# converter writes them into packs. Each decoder is a small probe (bench/jpegls/*.cc, built
# here with g++) that decodes every codestream REPS times, checks the pixels against the
# original, and prints CPU-time and wall-clock MB/s of native pixels; the probes take turns for
# ROUNDS rounds so load from elsewhere falls on both. One core each (one thread).
# Needs: libcharls-dev (apt-get install libcharls-dev; not one of Strata's dependencies),
# dcmtk, Debian's /usr/bin/python3 with pydicom, build/src/testdata/strata-gen.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SLICES=32 REPS=5 ROUNDS=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --slices) SLICES=$2; shift 2;; --reps) REPS=$2; shift 2;; --rounds) ROUNDS=$2; shift 2;;
    *) echo "usage: $0 [--slices N] [--reps N] [--rounds N]" >&2; exit 2;;
  esac
done
[[ -f /usr/include/charls/charls.h ]] || { echo "needs libcharls-dev (apt-get install libcharls-dev)" >&2; exit 1; }
GEN=$ROOT/build/src/testdata/strata-gen
[[ -x $GEN ]] || { echo "missing $GEN (bash scripts/build.sh)" >&2; exit 1; }
W=$(mktemp -d /tmp/strata-jpegls.XXXXXX)
trap 'rm -rf "$W"' EXIT
g++ -O2 -std=c++20 -o "$W/charls2" bench/jpegls/charls2_decode.cc -lcharls
g++ -O2 -std=c++20 -o "$W/dcmtk" bench/jpegls/dcmtk_charls_decode.cc -l:libdcmtkcharls.so.17
"$GEN" ct --out "$W/ct" --patients 1 --studies-per-patient 1 --series 1 --slices "$SLICES" --seed 5 --quiet >/dev/null
mkdir -p "$W/frames"
i=0
for f in $(find "$W/ct" -name '*.dcm' | sort); do
  dcmcjpls "$f" "$W/c.dcm"
  /usr/bin/python3 - "$f" "$W/c.dcm" "$W/frames/$i" <<'PY'
import sys, pydicom
from pydicom.encaps import generate_pixel_data_frame
raw = pydicom.dcmread(sys.argv[1]).PixelData
c = pydicom.dcmread(sys.argv[2])
frame = next(generate_pixel_data_frame(c.PixelData, 1))
open(sys.argv[3] + ".raw", "wb").write(raw)
open(sys.argv[3] + ".jls", "wb").write(frame)
PY
  i=$((i + 1))
done
echo "# $(nproc) cores, $(uname -r), $(date -u +%F), load $(cut -d' ' -f1-3 /proc/loadavg); dcmtk $(dpkg-query -W -f='${Version}' dcmtk), libcharls2 $(dpkg-query -W -f='${Version}' libcharls2 2>/dev/null)"
echo "# $i CT slices 512x512 int16 compressed by dcmcjpls ($(du -cb "$W"/frames/*.jls | tail -1 | cut -f1) bytes coded, $(du -cb "$W"/frames/*.raw | tail -1 | cut -f1) native), $REPS decodes each per round"
for ((r = 1; r <= ROUNDS; r++)); do
  "$W/dcmtk" "$W/frames" "$i" "$REPS"
  "$W/charls2" "$W/frames" "$i" "$REPS"
done

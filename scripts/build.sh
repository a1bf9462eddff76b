#!/usr/bin/env bash
# Configures and builds Strata into ./build (Ninja, ccache, two jobs: the machines have 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >/dev/null
ninja -C build -j${JOBS:-2}

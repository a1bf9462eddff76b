#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then integration tests against real peers. Starts a
# throw-away PostgreSQL and Ceph (S3) on loopback for the tests that need them and stops them
# again on exit. Extra arguments go to ctest (e.g. -R catalog).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/strata-test.XXXXXX)
chmod 755 "$WORK"  # the PostgreSQL server runs as user postgres and must reach its directory
cleanup() {
  "$ROOT/scripts/pg-dev.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  [ -x "$ROOT/scripts/ceph-dev.sh" ] && "$ROOT/scripts/ceph-dev.sh" stop "$WORK/ceph" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if "$ROOT/scripts/pg-dev.sh" start "$WORK/pg" >"$WORK/pg.log" 2>&1; then
  set -a; . "$WORK/pg/env"; set +a
  echo "PostgreSQL for tests: $STRATA_TEST_PG_URL"
else
  echo "WARNING: could not start PostgreSQL; its tests will be skipped" >&2
  tail -20 "$WORK/pg.log" >&2 || true
fi
if [ -x "$ROOT/scripts/ceph-dev.sh" ]; then
  if "$ROOT/scripts/ceph-dev.sh" start "$WORK/ceph" >"$WORK/ceph.log" 2>&1; then
    set -a; . "$WORK/ceph/env"; set +a
    export STRATA_TEST_S3_ENDPOINT=${STRATA_TEST_S3_ENDPOINT:-${S3_ENDPOINT:-}}
    echo "Ceph S3 for tests: $STRATA_TEST_S3_ENDPOINT"
  else
    echo "WARNING: could not start Ceph; S3 tests will be skipped" >&2
    tail -20 "$WORK/ceph.log" >&2 || true
  fi
fi
cd build
ctest --output-on-failure -j2 "$@"

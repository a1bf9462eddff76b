#!/usr/bin/env bash
# test-s3.sh [TEST_BINARY [GTEST_ARGS...]] - runs the cold store's S3 tests against a real
# Ceph: starts a throwaway cluster with scripts/ceph-dev.sh in a temp dir, exports its
# endpoint and keys (STRATA_TEST_S3_*), runs the binary (default:
# build-cold/tests/cold/cold_s3_test), and stops and removes the cluster however the run
# ends. STRATA_KEEP_CEPH=1 keeps the directory (logs in DIR/log) for a post-mortem.
# Exit status: the test binary's, or 2 if Ceph could not be started.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${1:-$here/../build-cold/tests/cold/cold_s3_test}
[[ $# -gt 0 ]] && shift
[[ -x $bin ]] || { echo "test-s3: no test binary at $bin (build it first)" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/strata-ceph.XXXXXX")
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    "$here/ceph-dev.sh" stop "$dir" >/dev/null 2>&1 || true
    if [[ ${STRATA_KEEP_CEPH:-0} == 1 ]]; then
        echo "test-s3: kept $dir" >&2
    else
        rm -rf "$dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$here/ceph-dev.sh" start "$dir" >/dev/null; then
    echo "test-s3: could not start Ceph; last setup log lines:" >&2
    tail -n 20 "$dir/log/setup.log" >&2 2>/dev/null || true
    exit 2
fi
# shellcheck source=/dev/null
source "$dir/env"
# A bucket per run keeps runs apart even against a shared endpoint.
export STRATA_TEST_S3_BUCKET="strata-test-$$"
status=0
"$bin" "$@" || status=$?
exit "$status"

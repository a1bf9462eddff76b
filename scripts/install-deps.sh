#!/usr/bin/env bash
# Installs everything Strata needs to build, run and test on Debian 12 (as root).
# Idempotent and quick when everything is there already.
set -euo pipefail
PKGS=(
  # build
  cmake ninja-build g++ ccache pkg-config git
  # libraries (docs/architecture.md says why each one is here)
  libdcmtk-dev libsqlite3-dev libpq-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libtoml11-dev libxxhash-dev zlib1g-dev libssl-dev libcurl4-openssl-dev libcpp-httplib-dev
  libopenjp2-7-dev libopenjph-dev libgtest-dev libgmock-dev
  # runtime tools and test peers
  dcmtk libopenjp2-tools libgdcm-tools sqlite3 unzip python3 python3-pydicom python3-numpy python3-pytest postgresql
  ceph-mon ceph-osd ceph-mgr radosgw ceph-common curl iproute2 chromium
  # a DICOM peer that is not DCMTK (storage commitment SCU, C-STORE/C-GET interop)
  orthanc
  # tests/safety: a node whose clock is minutes off (libfaketime)
  faketime
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The OHIF Viewer served at /viewer (npm @ohif/app's built dist/, into web/ohif).
bash "$(dirname "$0")/install-ohif.sh"
# The Debian postgresql package starts a cluster on port 5432; Strata's tests run their own.
echo "dependencies ok"

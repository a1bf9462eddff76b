#!/usr/bin/env bash
# Installs the OHIF Viewer that `strata serve` offers at /viewer: npm's @ohif/app ships the
# built viewer in its package's dist/; only that is unpacked, into web/ohif (the server's
# default web.viewer_dir). Run at set-up time (npm must reach its registry); the server
# never downloads anything. Idempotent: nothing is fetched when that version is in place.
set -euo pipefail
cd "$(dirname "$0")/.."
OHIF_VERSION=${OHIF_VERSION:-3.13.2}
DEST=${STRATA_VIEWER_DIR:-web/ohif}
if [ -f "$DEST/index.html" ] && [ "$(cat "$DEST/.ohif-version" 2>/dev/null)" = "$OHIF_VERSION" ]; then
  echo "OHIF Viewer $OHIF_VERSION ok ($DEST)"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@ohif/app@$OHIF_VERSION" >/dev/null)
tar -xzf "$tmp"/ohif-app-*.tgz -C "$tmp" package/dist package/package.json
[ -f "$tmp/package/dist/index.html" ] || { echo "@ohif/app@$OHIF_VERSION has no dist/index.html" >&2; exit 1; }
rm -rf "$DEST.new" && mkdir -p "$(dirname "$DEST")" && mv "$tmp/package/dist" "$DEST.new"
echo "$OHIF_VERSION" > "$DEST.new/.ohif-version"
rm -rf "$DEST.old" && { [ -d "$DEST" ] && mv "$DEST" "$DEST.old" || true; }
mv "$DEST.new" "$DEST" && rm -rf "$DEST.old"
echo "OHIF Viewer $OHIF_VERSION installed in $DEST ($(du -sh "$DEST" | cut -f1))"

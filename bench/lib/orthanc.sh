# bench/lib/orthanc.sh - start and stop Debian's Orthanc by hand (never systemd) with a
# throw-away config, SQLite index and storage in a directory; sourced by bench/run.sh and the
# Orthanc interop test. The settings follow ../shared/bench/orthanc-anchor.sh (its verified
# way to run Orthanc here): default SQLite index, fsync per file, 4 DICOM threads,
# TCP_NODELAY=1 (DCMTK inside Orthanc keeps Nagle on otherwise).
# Orthanc 1.10 listens on all interfaces (no bind option): callers run it inside a private
# network namespace (unshare --net), where only loopback exists.
#
#   orthanc_start DIR DICOM_PORT HTTP_PORT AET   fresh index + storage under DIR; waits until up
#   orthanc_stop                                 stops the instance orthanc_start started (by pid)
#   orthanc_count_instances                      CountInstances from /statistics
#   orthanc_rss_kib                              peak RSS (VmHWM) of the running instance

ORTHANC_PID="" ORTHANC_HTTP_PORT="" ORTHANC_DIR=""

orthanc_start() {
  local dir=$1 dicom_port=$2 http_port=$3 aet=$4 i
  ORTHANC_DIR=$dir ORTHANC_HTTP_PORT=$http_port
  rm -rf "$dir/storage" "$dir/index"
  mkdir -p "$dir/storage" "$dir/index"
  cat > "$dir/config.json" <<JSON
{
  "Name" : "strata-bench-orthanc",
  "StorageDirectory" : "$dir/storage",
  "IndexDirectory" : "$dir/index",
  "StorageCompression" : false,
  "SyncStorageArea" : true,
  "StorageAccessOnFind" : "Always",
  "MaximumStorageCacheSize" : 128,
  "Plugins" : [],
  "HttpServerEnabled" : true,
  "HttpPort" : $http_port,
  "RemoteAccessAllowed" : false,
  "AuthenticationEnabled" : false,
  "HttpCompressionEnabled" : false,
  "WebDavEnabled" : false,
  "DicomServerEnabled" : true,
  "DicomAet" : "$aet",
  "DicomPort" : $dicom_port,
  "DicomCheckCalledAet" : false,
  "DicomCheckModalityHost" : false,
  "DicomAlwaysAllowEcho" : true,
  "DicomAlwaysAllowStore" : true,
  "DicomAlwaysAllowFind" : true,
  "DicomAlwaysAllowGet" : true,
  "DicomAlwaysAllowMove" : true,
  "UnknownSopClassAccepted" : true,
  "DicomThreadsCount" : 4,
  "MaximumPduLength" : 16384,
  "DicomScuTimeout" : 30,
  "DicomScpTimeout" : 60,
  "DicomAssociationCloseDelay" : 0,
  "SaveJobs" : false,
  "StableAge" : 60,
  "OverwriteInstances" : false,
  "LimitFindResults" : 0,
  "LimitFindInstances" : 0
}
JSON
  TCP_NODELAY=1 Orthanc --logfile="$dir/orthanc.log" "$dir/config.json" &
  ORTHANC_PID=$!
  for i in $(seq 1 300); do
    curl -sf -m 2 "http://127.0.0.1:$http_port/system" >/dev/null 2>&1 && return 0
    if ! kill -0 "$ORTHANC_PID" 2>/dev/null; then
      tail -20 "$dir/orthanc.log" >&2
      ORTHANC_PID=""
      echo "orthanc.sh: Orthanc exited" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "orthanc.sh: Orthanc did not answer on $http_port" >&2
  return 1
}

orthanc_stop() {
  [[ -n $ORTHANC_PID ]] || return 0
  kill "$ORTHANC_PID" 2>/dev/null || true
  wait "$ORTHANC_PID" 2>/dev/null || true
  ORTHANC_PID=""
}

orthanc_count_instances() {
  curl -sf "http://127.0.0.1:$ORTHANC_HTTP_PORT/statistics" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])'
}

orthanc_rss_kib() {
  awk '/^VmHWM/{print $2}' "/proc/$ORTHANC_PID/status"
}

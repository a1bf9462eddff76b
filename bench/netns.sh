#!/usr/bin/env bash
# bench/netns.sh - the second paper's experiment: a study moves faster spread over several
# storage nodes, each behind its own rate-limited link, than down one link single-stream.
#
# Topology (all of it inside a private network namespace made by this script, so no address
# outside it is ever touched): the client namespace, and NODES node namespaces each joined to
# the client by its own veth pair, 10.99.<i>.1 (client side) <-> 10.99.<i>.2 (node i), with a
# `tc` token-bucket rate limit on both ends of every link. One `strata serve` per node.
# For each link rate, time to send the CT study:
#   storescu -> node 1            single stream (1 association, TCP_NODELAY=1)
#   strata send -j1 -> node 1     single stream
#   strata send -j5 -> node 1     5 associations, still one link
#   strata send -j5 -> 5 nodes    one association per node link (round-robin)
# Every node starts empty for every measurement; the stored instance count is checked.
#
# Usage: bench/netns.sh [--quick] [--build DIR] [--nodes 5] [--slices 360] [--slow-slices 10]
#                       [--rates 1gbit,100mbit,2mbit] [--keep]
#   --slow-slices  images sent on links of 10 Mbit/s or less (360 images at 2 Mbit/s = 13 min)
#   --quick        60 slices (5 on slow links): about a minute
# Needs root (network namespaces), iproute2 (ip, tc with the tbf qdisc), util-linux
# (unshare, nsenter), dcmtk. Everything is torn down at the end (trap): processes by pid, the
# namespaces with them.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SELF="$HERE/$(basename "$0")"
ARGS=("$@")
BUILD="$ROOT/build" NODES=5 SLICES=360 SLOW_SLICES=10 RATES=1gbit,100mbit,2mbit KEEP=0
die() { echo "bench/netns.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) SLICES=60 SLOW_SLICES=5; shift;;
    --build) BUILD=$2; shift 2;;
    --nodes) NODES=$2; shift 2;;
    --slices) SLICES=$2; shift 2;;
    --slow-slices) SLOW_SLICES=$2; shift 2;;
    --rates) RATES=$2; shift 2;;
    --keep) KEEP=1; shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) die "unknown option $1 (see --help)";;
  esac
done
BUILD=$(cd "$BUILD" && pwd)
STRATA=$BUILD/strata GEN=$BUILD/src/testdata/strata-gen PY=/usr/bin/python3
for b in "$STRATA" "$GEN"; do [[ -x $b ]] || die "missing $b (ninja -C $BUILD strata strata-gen)"; done
for c in ip tc unshare nsenter storescu "$PY"; do command -v "$c" >/dev/null || die "missing $c"; done

# ---- our own network namespace: the client side; the nodes' namespaces are made below it ----
if [[ -z ${STRATA_NETNS_INSIDE:-} ]]; then
  unshare --net true 2>/dev/null || die "cannot create network namespaces (needs root / CAP_SYS_ADMIN)"
  exec unshare --net -- env STRATA_NETNS_INSIDE=1 bash -c 'ip link set lo up && exec bash "$0" "$@"' "$SELF" "${ARGS[@]}"
fi

W=$(mktemp -d /tmp/strata-netns.XXXXXX)
HOLDERS=() SERVERS=()
cleanup() {
  local rc=$?
  set +e  # a killed child's status must not end the cleanup early p
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done  # takes its netns and veth along
  if [[ $KEEP == 1 ]]; then log "kept $W"; else rm -rf "$W"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- topology ---------------------------------------------------------------------------
in_node() { local i=$1; shift; nsenter --net="/proc/${HOLDERS[$((i - 1))]}/ns/net" "$@"; }
for ((i = 1; i <= NODES; i++)); do
  unshare --net sleep infinity &
  HOLDERS+=($!)
done
sleep 0.2
for ((i = 1; i <= NODES; i++)); do
  ip link add "c$i" type veth peer name "n$i"
  ip link set "n$i" netns "${HOLDERS[$((i - 1))]}"
  ip addr add "10.99.$i.1/24" dev "c$i"
  ip link set "c$i" up
  in_node "$i" ip link set lo up
  in_node "$i" ip addr add "10.99.$i.2/24" dev "n$i"
  in_node "$i" ip link set "n$i" up
done

set_rate() { # rate (tc syntax, e.g. 100mbit) on both ends of every link
  local bps burst i
  bps=$("$PY" -c 'import re,sys; m=re.fullmatch(r"(\d+)([kmg]?)bit", sys.argv[1]); print(int(m.group(1)) * {"":1,"k":10**3,"m":10**6,"g":10**9}[m.group(2)])' "$1") \
    || die "bad rate $1 (use e.g. 1gbit, 100mbit, 2mbit)"
  burst=$(( bps / 8 / 100 ))            # 10 ms worth of bytes
  (( burst < 15000 )) && burst=15000     # at least a few full-size frames
  for ((i = 1; i <= NODES; i++)); do
    tc qdisc replace dev "c$i" root tbf rate "$1" burst "$burst" latency 100ms
    in_node "$i" tc qdisc replace dev "n$i" root tbf rate "$1" burst "$burst" latency 100ms
  done
}

start_nodes() { # fresh data for every node
  local i
  for ((i = 1; i <= NODES; i++)); do
    rm -rf "$W/node$i"; mkdir -p "$W/node$i"
    # nsenter and env exec: $! is the server itself.
    nsenter --net="/proc/${HOLDERS[$((i - 1))]}/ns/net" env -u TCP_NODELAY "$STRATA" serve --data "$W/node$i" \
        --bind "10.99.$i.2" --port 11112 --http-port 0 --tiering-enabled false > "$W/node$i.log" 2>&1 &
    SERVERS+=($!)
  done
  for ((i = 1; i <= NODES; i++)); do
    local k
    for k in $(seq 1 200); do
      (exec 3<>"/dev/tcp/10.99.$i.2/11112") 2>/dev/null && break
      sleep 0.05
    done
  done
}
stop_nodes() {
  local p
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  SERVERS=()
}
stored_total() {
  local i n=0 c
  for ((i = 1; i <= NODES; i++)); do
    c=$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM instances").fetchone()[0])' "$W/node$i/catalog.db")
    n=$((n + c))
  done
  echo "$n"
}

# ---- data -------------------------------------------------------------------------------
"$GEN" ct --out "$W/data/full" --patients 1 --studies-per-patient 1 --series 1 --slices "$SLICES" --seed 5 --quiet >/dev/null
"$GEN" ct --out "$W/data/slow" --patients 1 --studies-per-patient 1 --series 1 --slices "$SLOW_SLICES" --seed 5 --quiet >/dev/null

now() { date +%s.%N; }
RES=$W/results.tsv
: > "$RES"
measure() { # rate label dataset command...
  local rate=$1 label=$2 ds=$3 t0 t1 n bytes got; shift 3
  n=$(find "$W/data/$ds" -name '*.dcm' | wc -l)
  bytes=$(find "$W/data/$ds" -name '*.dcm' -printf '%s\n' | awk '{s+=$1} END{print s}')
  start_nodes
  t0=$(now)
  "$@" > "$W/client.log" 2>&1 || { tail -20 "$W/client.log" >&2; die "$label at $rate failed"; }
  t1=$(now)
  got=$(stored_total)
  stop_nodes
  [[ $got == "$n" ]] || die "$label at $rate: $got instances stored, expected $n"
  printf '%s\t%s\t%s\t%s\t%s\n' "$rate" "$label" "$n" "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" >> "$RES"
  log "  $label: $n images in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
}

ALL=""
for ((i = 1; i <= NODES; i++)); do ALL+="${ALL:+,}10.99.$i.2:11112"; done
IFS=, read -r -a RATE_LIST <<< "$RATES"
for rate in "${RATE_LIST[@]}"; do
  set_rate "$rate"
  ds=full
  slow=$("$PY" -c 'import re,sys; m=re.fullmatch(r"(\d+)([kmg]?)bit", sys.argv[1]); print(int(int(m.group(1)) * {"":1,"k":10**3,"m":10**6,"g":10**9}[m.group(2)] <= 10**7))' "$rate")
  [[ $slow == 1 ]] && ds=slow
  log "link rate $rate per node, dataset $ds"
  measure "$rate" "storescu, 1 node" "$ds" env TCP_NODELAY=1 storescu -aec STRATA +sd +r 10.99.1.2 11112 "$W/data/$ds"
  measure "$rate" "strata send -j1, 1 node" "$ds" "$STRATA" send "$W/data/$ds" --to 10.99.1.2:11112 -j 1 -q
  measure "$rate" "strata send -j$NODES, 1 node" "$ds" "$STRATA" send "$W/data/$ds" --to 10.99.1.2:11112 -j "$NODES" -q
  measure "$rate" "strata send -j$NODES, $NODES nodes" "$ds" "$STRATA" send "$W/data/$ds" --to "$ALL" -j "$NODES" -q
done

# ---- report ------------------------------------------------------------------------------
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r); $(date -u +%F); $NODES nodes, each behind its own veth with a tbf rate limit on both ends"
"$PY" - "$RES" "$NODES" <<'EOF'
import collections, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
nodes = sys.argv[2]
by = collections.OrderedDict()
for rate, label, n, b, s in rows:
    by.setdefault(rate, []).append((label, int(n), int(b), float(s)))
print()
print("| link rate per node | images (MB) | " + " | ".join(l for l, *_ in next(iter(by.values()))) + " | speed-up, %s nodes vs storescu |" % nodes)
print("|---|---|" + "---|" * len(next(iter(by.values()))) + "---|")
for rate, ms in by.items():
    n, b = ms[0][1], ms[0][2]
    cells = ["%.1f s (%.1f MB/s)" % (s, bb / 1e6 / s) for _, _, bb, s in ms]
    print("| %s | %d (%.1f) | %s | %.1fx |" % (rate, n, b / 1e6, " | ".join(cells), ms[0][3] / ms[-1][3]))
EOF

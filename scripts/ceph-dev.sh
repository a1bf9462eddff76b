#!/usr/bin/env bash
# ceph-dev.sh - a throwaway single-node Ceph for Strata's S3 cold store: a monitor, one OSD
# (memstore: data in RAM), radosgw serving S3 and optionally a manager, all on 127.0.0.1,
# all state in one directory, no root paths, no systemd.
#
#   scripts/ceph-dev.sh start DIR    DIR must be empty or absent. Picks a free block of
#                                    ports (so several clusters and a dev instance coexist),
#                                    creates the S3 user, writes DIR/env, prints "ready".
#   scripts/ceph-dev.sh stop DIR     stops the daemons of DIR: radosgw, then OSD, then
#                                    manager and monitor; each pid file is checked against
#                                    the process's command line before any signal.
#   scripts/ceph-dev.sh status DIR   which daemons run, their ports, and `ceph -s`.
#   scripts/ceph-dev.sh kill-osd DIR ID   SIGKILLs osd.ID of DIR (a disk that died: memstore
#                                    loses that OSD's copies); prints "killed". With
#                                    CEPH_DEV_OSDS=3 the other two keep every object.
#   scripts/ceph-dev.sh replace-osd DIR ID   a new disk for a dead osd.ID (kill-osd first): the
#                                    old one is destroyed, a fresh memstore OSD takes its id
#                                    and the cluster re-replicates onto it; prints "replaced".
#   scripts/ceph-dev.sh wait-clean DIR   waits until every PG is active+clean and health is
#                                    HEALTH_OK (needs the manager: CEPH_DEV_MGR=1 at start);
#                                    prints "clean" and the seconds it took.
#   scripts/ceph-dev.sh restart-rgw DIR   kills radosgw of DIR (SIGKILL, or SIGTERM with
#                                    CEPH_DEV_RGW_SIGNAL=TERM), starts it again with the same
#                                    command line (same ceph.conf, so the same port), waits
#                                    until it answers HTTP, prints "ready". A fault for tests.
#
# Several clusters run side by side (each DIR has its own fsid, port block, admin sockets,
# pid files and ceph.conf; every command here passes -c DIR/ceph.conf, so a CEPH_CONF left in
# the environment by another cluster's env does not matter). scripts/test.sh runs two: the
# cold store's and the replica's.
#
# After start, `source DIR/env` sets S3_ENDPOINT, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION, the STRATA_TEST_S3_* variables the tests read, and
# CEPH_CONF. Virtual-hosted requests work too: http://BUCKET.localhost:PORT.
#
# This script installs nothing. It needs (Debian 12, Ceph 16.2):
#   apt-get install --no-install-recommends ceph-mon ceph-osd ceph-mgr radosgw ceph-common
#
# Settings (environment, optional):
#   CEPH_DEV_PORT_BASE    first of 16 consecutive ports to use (default: a free random block
#                         in 20000-31999, below Linux's ephemeral range)
#   CEPH_DEV_OSDS         number of OSDs (default 1: pools of size 1). 3 = pools of size 3,
#                         min_size 2, one copy per OSD, so the cluster serves reads and writes
#                         with any one OSD dead; failure detection tuned for a test (a killed
#                         OSD is marked down within seconds). Costs RAM and CPU: CI's default is 1.
#   CEPH_DEV_MGR          1 = also run ceph-mgr (default 0: S3 does not need it; saves memory)
#   CEPH_DEV_OSD_BYTES    memstore capacity (default 2 GiB; only what is written uses RAM)
#   CEPH_DEV_ACCESS_KEY / CEPH_DEV_SECRET_KEY   S3 credentials (defaults below)
#   CEPH_DEV_REGION       region written to DIR/env (default us-east-1)
#   CEPH_DEV_TIMEOUT      seconds to wait for each step (default 60)
#   CEPH_DEV_RGW_SIGNAL   restart-rgw's signal: KILL (default) or TERM (then KILL after 15 s)
set -euo pipefail

PACKAGES="ceph-mon ceph-osd ceph-mgr radosgw ceph-common"
ACCESS_KEY=${CEPH_DEV_ACCESS_KEY:-STRATADEVACCESSKEY01}
SECRET_KEY=${CEPH_DEV_SECRET_KEY:-strata-dev-secret-key-not-for-production}
REGION=${CEPH_DEV_REGION:-us-east-1}
WITH_MGR=${CEPH_DEV_MGR:-0}
OSD_BYTES=${CEPH_DEV_OSD_BYTES:-2147483648}
TIMEOUT=${CEPH_DEV_TIMEOUT:-60}
IP=127.0.0.1
OSDS=${CEPH_DEV_OSDS:-1}
[[ $OSDS =~ ^[1-9]$ ]] || { echo "ceph-dev: CEPH_DEV_OSDS must be 1-9" >&2; exit 2; }
# each OSD binds 8 ports (public, cluster, two heartbeats; msgr v1 and v2)
PORT_BLOCK=$((8 + 8 * OSDS))
((PORT_BLOCK >= 16)) || PORT_BLOCK=16
OSD_NAMES=$(for ((i = 0; i < OSDS; i++)); do printf 'osd.%d ' "$i"; done)
# Daemon names in start order; DIR/run/NAME.pid is each one's pid file.
DAEMONS="mon.a mgr.x $OSD_NAMES client.rgw.dev"

say() { printf 'ceph-dev: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }
usage() { echo "usage: $0 start|stop|status|restart-rgw|wait-clean DIR | kill-osd|replace-osd DIR ID" >&2; exit 2; }

# --- processes ---------------------------------------------------------------------------

# Prints the pid of daemon NAME of this DIR if it is alive: the pid file must name a
# process whose command line contains this DIR's ceph.conf (never signal a stranger).
daemon_pid() {
    local file="$DIR/run/$1.pid" pid
    [[ -s $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$CONF" || return 1
    alive "$pid" || return 1
    echo "$pid"
}

# True while PID runs. An exited daemon can linger as a zombie when nothing reaps it (PID 1
# of a container); a zombie leader whose other threads still run is still running.
alive() {
    local state tasks
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
    [[ -n $state ]] || return 1
    if [[ $state == Z || $state == X ]]; then
        tasks=$(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
        [[ $tasks -gt 1 ]]
    fi
}

# SIGTERM the named daemons, wait up to 15 s, SIGKILL what is left (re-verified first).
stop_tier() {
    local name pid pids=() left
    for name in "$@"; do
        if pid=$(daemon_pid "$name"); then
            say "stopping $name (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid:$name")
        fi
    done
    for _ in $(seq 75); do
        left=()
        for entry in "${pids[@]}"; do alive "${entry%%:*}" && left+=("$entry"); done
        pids=("${left[@]}")
        [[ ${#pids[@]} -eq 0 ]] && break
        sleep 0.2
    done
    for entry in "${pids[@]}"; do
        if pid=$(daemon_pid "${entry#*:}") && [[ $pid == "${entry%%:*}" ]]; then
            say "${entry#*:} (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for name in "$@"; do rm -f "$DIR/run/$name.pid"; done
}

# radosgw needs the OSD while it shuts down; the OSD tells the monitor it is going.
stop_all() {
    stop_tier client.rgw.dev
    # shellcheck disable=SC2086
    stop_tier $OSD_NAMES
    stop_tier mgr.x mon.a
}

# --- ports -------------------------------------------------------------------------------

port_listening() {  # PORT
    if command -v ss >/dev/null; then
        [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/$IP/$1") 2>/dev/null
    fi
}

block_free() {  # BASE
    local p
    for ((p = $1; p < $1 + PORT_BLOCK; p++)); do
        port_listening "$p" && return 1
    done
    return 0
}

choose_ports() {
    local base
    if [[ -n ${CEPH_DEV_PORT_BASE:-} ]]; then
        base=$CEPH_DEV_PORT_BASE
        block_free "$base" || fail "ports $base-$((base + PORT_BLOCK - 1)) are not all free"
    else
        for _ in $(seq 50); do
            base=$((20000 + (RANDOM % (12000 / PORT_BLOCK)) * PORT_BLOCK))
            block_free "$base" && break
            base=""
        done
        [[ -n $base ]] || fail "found no free block of $PORT_BLOCK ports in 20000-31999"
    fi
    MON_PORT=$base
    MON_V1_PORT=$((base + 1))
    RGW_PORT=$((base + 2))
    MS_MIN=$((base + 3))
    MS_MAX=$((base + PORT_BLOCK - 1))
}

# --- start -------------------------------------------------------------------------------

wait_until() {  # WHAT COMMAND...
    local what=$1 deadline=$((SECONDS + TIMEOUT))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "no $what after ${TIMEOUT}s (logs: $DIR/log)"
        sleep 0.2
    done
}

write_conf() {
    POOL_SIZE=$OSDS
    POOL_MIN_SIZE=$((OSDS >= 3 ? 2 : 1))
    cat >"$CONF" <<EOF
# Written by scripts/ceph-dev.sh: a single-node test cluster, not for real data.
[global]
fsid = $FSID
mon host = [v2:$IP:$MON_PORT,v1:$IP:$MON_V1_PORT]
public addr = $IP
cluster addr = $IP
ms bind ipv6 = false
ms bind port min = $MS_MIN
ms bind port max = $MS_MAX
# no cephx: loopback only, throwaway data
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
run dir = $DIR/run
crash dir = $DIR/crash
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
keyring = $DIR/keyring
# $OSDS OSD(s) on one host: one copy per OSD, few placement groups, no autoscaler
osd pool default size = $POOL_SIZE
osd pool default min size = $POOL_MIN_SIZE
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
# a killed OSD: its peers see refused connections and report it; one report from any OSD
# (all share one host) is enough, and a silent one is declared dead after a few seconds
mon osd min down reporters = 1
mon osd reporter subtree level = osd
osd heartbeat interval = 1
osd heartbeat grace = 6
# a dead OSD stays "in" (its placement is not remapped: the test cluster has no spare)
mon osd down out interval = 0
mon warn on osd down out interval zero = false
# do not refuse to run on a fullish disk
mon data avail warn = 1
mon data avail crit = 0

[mon]
admin socket = $DIR/run/\$name.asok
mon data = $DIR/mon/\$name
mon cluster log file = $DIR/log/cluster.log
# commit map changes at once (the 1 s default makes every pool creation slow)
paxos propose interval = 0.05
paxos min wait = 0.01

[mgr]
admin socket = $DIR/run/\$name.asok
mgr data = $DIR/mgr/\$name
mgr disabled modules = alerts,diskprediction_local,influx,insights,iostat,localpool,mirroring,nfs,osd_perf_query,osd_support,prometheus,restful,selftest,snap_schedule,stats,telegraf,test_orchestrator,zabbix

[osd]
admin socket = $DIR/run/\$name.asok
osd data = $DIR/osd/\$name
osd objectstore = memstore
memstore device bytes = $OSD_BYTES
osd class load list = *
osd class default list = *
# a replaced OSD is refilled at once (the hdd defaults sleep 0.1 s between recovery ops)
osd recovery sleep = 0
osd recovery sleep hdd = 0
osd recovery max active = 8
osd max backfills = 8

[client.rgw.dev]
admin socket = $DIR/run/\$name.asok
rgw data = $DIR/rgw
rgw frontends = beast endpoint=$IP:$RGW_PORT tcp_nodelay=1
rgw dns name = localhost
rgw thread pool size = 64
rgw enable usage log = false
rgw exit timeout secs = 5
EOF
}

check_binaries() {
    local missing=() bin
    local needed=(ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl flock)
    [[ $WITH_MGR == 1 ]] && needed+=(ceph-mgr)
    for bin in "${needed[@]}"; do command -v "$bin" >/dev/null || missing+=("$bin"); done
    if [[ ${#missing[@]} -gt 0 ]]; then
        fail "missing ${missing[*]}; install with: apt-get install --no-install-recommends $PACKAGES"
    fi
}

start() {
    local t0=$SECONDS uuid id
    check_binaries
    if [[ -e $DIR && -n $(ls -A "$DIR" 2>/dev/null) ]]; then
        fail "$DIR is not empty (stop it and remove it, or use a new directory)"
    fi
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    CONF=$DIR/ceph.conf
    mkdir -p "$DIR"/{mon/mon.a,mgr/mgr.x,rgw,log,run,crash}
    FSID=$(cat /proc/sys/kernel/random/uuid)
    trap 'if [[ ! -e $DIR/ready ]]; then say "start failed; stopping what was started (logs: $DIR/log)"; stop_all; fi' EXIT

    # Ports are chosen and bound under one lock, so concurrent starts do not collide.
    exec 9>"${TMPDIR:-/tmp}/strata-ceph-dev.lock"
    flock -w 300 9 || fail "could not take the port lock"
    choose_ports
    printf 'mon=%s mon_v1=%s rgw=%s ms=%s-%s\n' "$MON_PORT" "$MON_V1_PORT" "$RGW_PORT" "$MS_MIN" "$MS_MAX" >"$DIR/ports"
    write_conf

    say "monitor on $IP:$MON_PORT"
    # shellcheck disable=SC2129
    monmaptool --create --clobber --fsid "$FSID" --addv a "[v2:$IP:$MON_PORT,v1:$IP:$MON_V1_PORT]" \
        "$DIR/monmap" >>"$DIR/log/setup.log" 2>&1
    ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring /dev/null >>"$DIR/log/setup.log" 2>&1
    ceph-mon -c "$CONF" -i a </dev/null >>"$DIR/log/setup.log" 2>&1
    wait_until "monitor" ceph -c "$CONF" --connect-timeout 5 mon stat

    if [[ $WITH_MGR == 1 ]]; then
        say "manager"
        ceph-mgr -c "$CONF" -i x </dev/null >>"$DIR/log/setup.log" 2>&1
    fi

    local i
    for ((i = 0; i < OSDS; i++)); do
        say "OSD $i (memstore, $((OSD_BYTES >> 20)) MiB)"
        mkdir -p "$DIR/osd/osd.$i"
        uuid=$(cat /proc/sys/kernel/random/uuid)
        id=$(ceph -c "$CONF" osd new "$uuid" 2>>"$DIR/log/setup.log")
        [[ $id == "$i" ]] || fail "expected OSD id $i, got '$id'"
        ceph-osd -c "$CONF" -i "$i" --mkfs --osd-uuid "$uuid" >>"$DIR/log/setup.log" 2>&1
        ceph-osd -c "$CONF" -i "$i" </dev/null >>"$DIR/log/setup.log" 2>&1
    done
    for ((i = 0; i < OSDS; i++)); do
        wait_until "osd.$i up" sh -c "ceph -c '$CONF' osd dump 2>/dev/null | grep -q '^osd.$i up'"
    done

    say "radosgw on http://$IP:$RGW_PORT"
    radosgw -c "$CONF" -n client.rgw.dev </dev/null >>"$DIR/log/setup.log" 2>&1
    wait_until "radosgw answering" curl -sf -o /dev/null --max-time 5 "http://$IP:$RGW_PORT/"
    flock -u 9
    exec 9>&-

    radosgw-admin -c "$CONF" user create --uid=strata --display-name="Strata tests" \
        --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >>"$DIR/log/setup.log" 2>&1
    # S3 with the new credentials, signed by curl: creating a bucket also makes radosgw
    # create its index and data pools, so the first real request is not the slow one.
    local s3=(curl -sS -f -o /dev/null --max-time "$TIMEOUT" --user "$ACCESS_KEY:$SECRET_KEY"
              --aws-sigv4 "aws:amz:$REGION:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
    "${s3[@]}" -X PUT "http://$IP:$RGW_PORT/ceph-dev-probe" 2>>"$DIR/log/setup.log" ||
        fail "radosgw rejected a signed PUT bucket (see $DIR/log)"
    "${s3[@]}" -X DELETE "http://$IP:$RGW_PORT/ceph-dev-probe" 2>>"$DIR/log/setup.log" ||
        fail "radosgw rejected a signed DELETE bucket (see $DIR/log)"

    echo "$OSDS" >"$DIR/osds"
    cat >"$DIR/env" <<EOF
# source this file: the S3 endpoint of the ceph-dev cluster in $DIR
export CEPH_CONF='$CONF'
export CEPH_DEV_OSDS='$OSDS'
export S3_ENDPOINT='http://$IP:$RGW_PORT'
export AWS_ENDPOINT_URL='http://$IP:$RGW_PORT'
export AWS_ACCESS_KEY_ID='$ACCESS_KEY'
export AWS_SECRET_ACCESS_KEY='$SECRET_KEY'
export AWS_REGION='$REGION'
export AWS_DEFAULT_REGION='$REGION'
export STRATA_TEST_S3_ENDPOINT='http://$IP:$RGW_PORT'
export STRATA_TEST_S3_ACCESS_KEY='$ACCESS_KEY'
export STRATA_TEST_S3_SECRET_KEY='$SECRET_KEY'
export STRATA_TEST_S3_REGION='$REGION'
EOF
    touch "$DIR/ready"
    say "S3 ready in $((SECONDS - t0)) s at http://$IP:$RGW_PORT; source $DIR/env"
    echo ready
}

# --- restart-rgw -------------------------------------------------------------------------

gone() { ! alive "$1"; }
not_listening() { ! port_listening "$1"; }

# The port block stays ours while radosgw is down (the monitor still listens on its first
# port, so a concurrent start finds the block taken): no port lock is needed here.
restart_rgw() {
    local t0=$SECONDS pid sig=${CEPH_DEV_RGW_SIGNAL:-KILL} port
    [[ $sig == KILL || $sig == TERM ]] || fail "CEPH_DEV_RGW_SIGNAL must be KILL or TERM, not '$sig'"
    [[ -f $DIR/ready ]] || fail "$DIR was not started to the end (no $DIR/ready)"
    port=$(sed -n 's/.* rgw=\([0-9]*\).*/\1/p' "$DIR/ports")
    [[ -n $port ]] || fail "no rgw port in $DIR/ports"
    daemon_pid mon.a >/dev/null || fail "the monitor of $DIR is not running"
    local n=0 name
    for name in $OSD_NAMES; do daemon_pid "$name" >/dev/null && n=$((n + 1)); done
    ((n > 0)) || fail "no OSD of $DIR is running"
    if pid=$(daemon_pid client.rgw.dev); then
        if [[ $sig == KILL ]]; then
            say "radosgw (pid $pid): SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_until "exit of radosgw pid $pid" gone "$pid"
        else
            stop_tier client.rgw.dev
        fi
    else
        say "radosgw was not running; starting it"
    fi
    # the old listener must be gone before the new one binds (the old process may linger)
    wait_until "port $port released" not_listening "$port"
    rm -f "$DIR/run/client.rgw.dev.pid" "$DIR/run/client.rgw.dev.asok"
    say "radosgw on http://$IP:$port"
    echo "=== restart-rgw at $(date -u +%H:%M:%S) ($sig)" >>"$DIR/log/setup.log"
    radosgw -c "$CONF" -n client.rgw.dev </dev/null >>"$DIR/log/setup.log" 2>&1
    wait_until "radosgw answering" curl -sf -o /dev/null --max-time 5 "http://$IP:$port/"
    say "radosgw back in $((SECONDS - t0)) s (pid $(daemon_pid client.rgw.dev || echo '?'))"
    echo ready
}

# --- replace-osd / wait-clean -----------------------------------------------------------

replace_osd() {  # ID
    local id=$1 uuid got
    [[ -f $DIR/ready ]] || fail "$DIR was not started to the end (no $DIR/ready)"
    ((id < OSDS)) || fail "osd.$id is not an OSD of $DIR ($OSDS OSDs)"
    ! daemon_pid "osd.$id" >/dev/null || fail "osd.$id of $DIR is running (kill-osd it first)"
    echo "=== replace-osd $id at $(date -u +%H:%M:%S)" >>"$DIR/log/setup.log"
    ceph -c "$CONF" osd destroy "$id" --yes-i-really-mean-it >>"$DIR/log/setup.log" 2>&1 ||
        fail "ceph osd destroy $id failed (see $DIR/log/setup.log)"
    rm -rf "${DIR:?}/osd/osd.$id"
    mkdir -p "$DIR/osd/osd.$id"
    uuid=$(cat /proc/sys/kernel/random/uuid)
    got=$(ceph -c "$CONF" osd new "$uuid" "$id" 2>>"$DIR/log/setup.log") || fail "ceph osd new $uuid $id failed"
    [[ $got == "$id" ]] || fail "expected OSD id $id, got '$got'"
    ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >>"$DIR/log/setup.log" 2>&1
    ceph-osd -c "$CONF" -i "$id" </dev/null >>"$DIR/log/setup.log" 2>&1
    wait_until "osd.$id up" sh -c "ceph -c '$CONF' osd dump 2>/dev/null | grep -q '^osd.$id up'"
    say "osd.$id replaced (new uuid $uuid); the cluster refills it"
    echo replaced
}

# True when every PG is active+clean and health is HEALTH_OK (PG states come from the manager).
all_clean() {
    local stat
    stat=$(ceph -c "$CONF" --connect-timeout 5 pg stat 2>/dev/null) || return 1
    # "24 pgs: 24 active+clean; ..." and nothing else in the state list
    [[ $stat =~ ^([0-9]+)\ pgs:\ ([0-9]+)\ active\+clean\; ]] || return 1
    [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" && ${BASH_REMATCH[1]} -gt 0 ]] || return 1
    [[ $(ceph -c "$CONF" --connect-timeout 5 health 2>/dev/null) == HEALTH_OK* ]]
}

wait_clean() {
    local t0=$SECONDS
    daemon_pid mgr.x >/dev/null || fail "wait-clean needs the manager (start the cluster with CEPH_DEV_MGR=1)"
    wait_until "all PGs active+clean and HEALTH_OK" all_clean
    say "all PGs active+clean, HEALTH_OK after $((SECONDS - t0)) s"
    echo "clean $((SECONDS - t0))"
}

# --- main --------------------------------------------------------------------------------

[[ $# -eq 2 || ($# -eq 3 && ($1 == kill-osd || $1 == replace-osd)) ]] || usage
ACTION=$1
DIR=$2
# the OSD count of an existing cluster is its own, whatever the environment says
if [[ $ACTION != start && -s $DIR/osds ]]; then
    OSDS=$(<"$DIR/osds")
    OSD_NAMES=$(for ((i = 0; i < OSDS; i++)); do printf 'osd.%d ' "$i"; done)
    DAEMONS="mon.a mgr.x $OSD_NAMES client.rgw.dev"
fi
case $ACTION in
    start)
        start
        ;;
    stop)
        [[ -f $DIR/ceph.conf ]] || fail "$DIR is not a ceph-dev directory (no ceph.conf)"
        DIR=$(cd "$DIR" && pwd)
        CONF=$DIR/ceph.conf
        stop_all
        rm -f "$DIR/ready"
        ;;
    status)
        [[ -f $DIR/ceph.conf ]] || fail "$DIR is not a ceph-dev directory (no ceph.conf)"
        DIR=$(cd "$DIR" && pwd)
        CONF=$DIR/ceph.conf
        for name in $DAEMONS; do
            if pid=$(daemon_pid "$name"); then echo "$name: running (pid $pid)"
            else echo "$name: not running"; fi
        done
        [[ -f $DIR/ports ]] && echo "ports: $(<"$DIR/ports")"
        [[ -f $DIR/ready ]] && echo "ready: $(grep '^export S3_ENDPOINT=' "$DIR/env" | cut -d"'" -f2)"
        timeout 15 ceph -c "$CONF" --connect-timeout 5 -s 2>/dev/null || echo "ceph -s: no answer"
        ;;
    kill-osd)
        [[ -f $DIR/ceph.conf ]] || fail "$DIR is not a ceph-dev directory (no ceph.conf)"
        [[ ${3:-} =~ ^[0-9]$ ]] || fail "usage: $0 kill-osd DIR ID"
        DIR=$(cd "$DIR" && pwd)
        CONF=$DIR/ceph.conf
        pid=$(daemon_pid "osd.$3") || fail "osd.$3 of $DIR is not running"
        say "osd.$3 (pid $pid): SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_until "exit of osd.$3 pid $pid" gone "$pid"
        rm -f "$DIR/run/osd.$3.pid"
        echo killed
        ;;
    restart-rgw)
        [[ -f $DIR/ceph.conf ]] || fail "$DIR is not a ceph-dev directory (no ceph.conf)"
        DIR=$(cd "$DIR" && pwd)
        CONF=$DIR/ceph.conf
        restart_rgw
        ;;
    replace-osd)
        [[ -f $DIR/ceph.conf ]] || fail "$DIR is not a ceph-dev directory (no ceph.conf)"
        [[ ${3:-} =~ ^[0-9]$ ]] || fail "usage: $0 replace-osd DIR ID"
        DIR=$(cd "$DIR" && pwd)
        CONF=$DIR/ceph.conf
        replace_osd "$3"
        ;;
    wait-clean)
        [[ -f $DIR/ceph.conf ]] || fail "$DIR is not a ceph-dev directory (no ceph.conf)"
        DIR=$(cd "$DIR" && pwd)
        CONF=$DIR/ceph.conf
        TIMEOUT=${CEPH_DEV_TIMEOUT:-180}
        wait_clean
        ;;
    *)
        usage
        ;;
esac

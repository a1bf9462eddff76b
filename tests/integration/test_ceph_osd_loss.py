"""A Ceph that can lose a disk (issue 16): scripts/ceph-dev.sh with CEPH_DEV_OSDS=3 (pools of
size 3, min_size 2). One OSD is SIGKILLed while a `strata serve` node migrates studies into
packs, and, on a second cluster, while clients read packed studies by C-GET and WADO-RS.
Strata's clients must see no error (no failed migration, no short or failed read, every read
bit-identical), and the safety checker's verdict must be clean. A third run replaces the dead
OSD (a new disk under its id), waits until every PG is active+clean again, then kills a
SECOND, different OSD: with only the refilled one and one other left, every read must still
succeed, which it could not (min_size 2) had the refill not re-replicated the data. Starts its
own clusters (with the manager, for the PG states): with CI=true a cluster that cannot start
fails the test."""
import os
import shutil
import time
from pathlib import Path

import pytest

import ha_system as ha
import kill_during as kd

ROOT = Path(__file__).resolve().parents[2]
CEPH_DEV = ROOT / "scripts" / "ceph-dev.sh"


@pytest.fixture
def ceph3(tmp_path):
    if not shutil.which("ceph-osd") or not shutil.which("radosgw"):
        ha.engine_missing("Ceph is not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common)")
    d = tmp_path / "ceph"
    p = ha.cluster.run([CEPH_DEV, "start", d], timeout=300, env=dict(os.environ, CEPH_DEV_OSDS="3", CEPH_DEV_MGR="1"))
    if p.returncode != 0:
        ha.engine_missing("scripts/ceph-dev.sh start with CEPH_DEV_OSDS=3 failed: " + (p.stdout + p.stderr)[-1500:])
    env = ha.cluster.read_env(d / "env")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        os.environ[k] = env[k]
    env["dir"] = d
    yield env
    ha.cluster.run([CEPH_DEV, "stop", d], timeout=180)


def make_system(ceph, tmp_path, tiering):
    w = tmp_path / "w"
    return ha.HaSystem(w, ha.args(), "sqlite:%s" % (w / "catalog.db"), "s3://strata-osd/run1",
                       s3_endpoint=ceph["STRATA_TEST_S3_ENDPOINT"], tiering=tiering, names=("a",))


def kill_osd(ceph, osd):
    t = time.time()
    p = ha.cluster.run([CEPH_DEV, "kill-osd", ceph["dir"], str(osd)], timeout=120)
    assert p.returncode == 0, p.stderr
    return t


def osd_down_marked(ceph, osd, t_kill, timeout=60):
    """Seconds from the kill until the monitor marked the OSD down."""
    conf = ceph["CEPH_CONF"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = ha.cluster.run(["ceph", "-c", conf, "--connect-timeout", "5", "osd", "dump"], timeout=30)
        if any(line.startswith("osd.%d down" % osd) for line in p.stdout.splitlines()):
            return time.time() - t_kill
        time.sleep(0.2)
    return None


def pg_stat(ceph):
    return ha.cluster.run(["ceph", "-c", ceph["CEPH_CONF"], "--connect-timeout", "5", "pg", "stat"], timeout=30).stdout


def node_errors(system):
    """Lines of the node logs that say something failed against the cold store."""
    bad = []
    for n in system.nodes:
        for line in n.log.read_text(errors="replace").splitlines():
            if "migrate_failed" in line or " error " in line or "event=cold_read_failed" in line:
                bad.append(line[:300])
    return bad


def packed_system(ceph3, tmp_path, studies, seed):
    """A node whose every instance is packed in the 3-OSD cluster; returns (system, ledger)."""
    system = make_system(ceph3, tmp_path, tiering=True)
    try:
        ha.start_nodes(system)
        insts, ledger = kd.ingest_all(system, tmp_path / "gen", studies=studies, slices=6, seed=seed)
        kd.wait_all_packed(system, len(insts), timeout=90)
        return system, ledger
    except BaseException:
        system.close()
        raise


def test_osd_killed_during_migration(ceph3, tmp_path):
    system = make_system(ceph3, tmp_path, tiering=True)
    try:
        ha.start_nodes(system)
        insts, ledger = kd.ingest_all(system, tmp_path / "gen", studies=24, slices=6, seed=31)
        at_kill = kd.wait_migrating(system, len(insts))
        t_kill = kill_osd(ceph3, 1)
        down_after = osd_down_marked(ceph3, 1, t_kill)
        kd.wait_all_packed(system, len(insts), timeout=120)
        print("osd loss: migration, %d images, %d packed at the kill; osd.1 marked down %.2f s after the kill; "
              "all packed %.2f s after the kill" % (len(insts), at_kill, down_after or -1, time.time() - t_kill))
        assert not node_errors(system), "\n".join(node_errors(system)[:10])
        kd.assert_clean(system, ledger)
    finally:
        system.close()


def test_osd_killed_during_reads(ceph3, tmp_path):
    system, ledger = packed_system(ceph3, tmp_path, studies=12, seed=32)
    readers = kd.Readers(system, ledger)
    try:
        readers.start()
        time.sleep(3)
        readers.mark("kill")
        t_kill = kill_osd(ceph3, 0)
        down_after = osd_down_marked(ceph3, 0, t_kill)
        time.sleep(10)
        readers.stop()
        print("osd loss: reads, %d studies read (%d after the kill), slowest read %.2f s; osd.0 marked down "
              "%.2f s after the kill" % (readers.reads, readers.since("kill"), readers.slowest, down_after or -1))
        assert readers.since("kill") > 0
        assert not readers.errors, "\n".join(readers.errors[:10])
        assert not node_errors(system), "\n".join(node_errors(system)[:10])
        kd.assert_clean(system, ledger)
    finally:
        readers.stop()
        system.close()


def test_osd_replaced_then_another_killed(ceph3, tmp_path):
    """Refill: osd.0 dies, a new disk takes its place, the cluster re-replicates onto it (all PGs
    active+clean, HEALTH_OK); then osd.2 dies. Reads go on across all three steps."""
    system, ledger = packed_system(ceph3, tmp_path, studies=12, seed=33)
    readers = kd.Readers(system, ledger)
    try:
        readers.start()
        time.sleep(2)
        t_kill = kill_osd(ceph3, 0)
        osd_down_marked(ceph3, 0, t_kill)
        deadline = time.time() + 60  # the manager's PG states lag the monitor's "down" a little
        while time.time() < deadline and "undersized" not in pg_stat(ceph3):
            time.sleep(0.5)
        degraded = pg_stat(ceph3)
        assert "undersized" in degraded, degraded
        t_replace = time.time()
        p = ha.cluster.run([CEPH_DEV, "replace-osd", ceph3["dir"], "0"], timeout=120)
        assert p.returncode == 0 and "replaced" in p.stdout, p.stdout + p.stderr
        p = ha.cluster.run([CEPH_DEV, "wait-clean", ceph3["dir"]], timeout=300)
        assert p.returncode == 0 and p.stdout.startswith("clean"), p.stdout + p.stderr + pg_stat(ceph3)
        refill_s = time.time() - t_replace
        clean = pg_stat(ceph3)
        readers.mark("second")
        t_kill2 = kill_osd(ceph3, 2)
        down2 = osd_down_marked(ceph3, 2, t_kill2)
        time.sleep(8)
        after = readers.since("second")
        readers.stop()
        print("osd refill: osd.0 replaced and refilled in %.1f s (%s); osd.2 killed after, marked down %.2f s later; "
              "%d studies read in all, %d after the second kill, slowest %.2f s" % (
                  refill_s, clean.split(";")[0].strip(), down2 or -1, readers.reads, after, readers.slowest))
        assert after > 0, "no read finished after the second kill"
        assert not readers.errors, "\n".join(readers.errors[:10])
        assert not node_errors(system), "\n".join(node_errors(system)[:10])
        kd.assert_clean(system, ledger)
    finally:
        readers.stop()
        system.close()

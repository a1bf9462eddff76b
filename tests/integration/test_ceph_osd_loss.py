"""A Ceph that can lose a disk (issue 16): scripts/ceph-dev.sh with CEPH_DEV_OSDS=3 (pools of
size 3, min_size 2). One OSD is SIGKILLed while a `strata serve` node migrates studies into
packs, and, on a second cluster, while clients read packed studies by C-GET and WADO-RS.
Strata's clients must see no error (no failed migration, no short or failed read, every read
bit-identical), and the safety checker's verdict must be clean. Starts its own clusters: with
CI=true a cluster that cannot start fails the test."""
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

import ha_system as ha
from dicomio import file_digest  # tests/safety (ha_system puts it on the path)
from workload import wado

ROOT = Path(__file__).resolve().parents[2]
CEPH_DEV = ROOT / "scripts" / "ceph-dev.sh"


@pytest.fixture
def ceph3(tmp_path):
    if not shutil.which("ceph-osd") or not shutil.which("radosgw"):
        ha.engine_missing("Ceph is not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common)")
    d = tmp_path / "ceph"
    p = ha.cluster.run([CEPH_DEV, "start", d], timeout=300, env=dict(os.environ, CEPH_DEV_OSDS="3"))
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


def packed_count(system):
    return int(system.sql("SELECT count(*) FROM instances WHERE tier <> 0")[0][0])


def node_errors(system):
    """Lines of the node logs that say something failed against the cold store."""
    bad = []
    for n in system.nodes:
        for line in n.log.read_text(errors="replace").splitlines():
            if "migrate_failed" in line or " error " in line or "event=cold_read_failed" in line:
                bad.append(line[:300])
    return bad


def test_osd_killed_during_migration(ceph3, tmp_path):
    system = make_system(ceph3, tmp_path, tiering=True)
    try:
        ha.start_nodes(system)
        insts = ha.instances(tmp_path / "gen", studies=24, slices=6, seed=31)
        ledger = ha.Ledger()
        ha.Ingest(system, ledger, insts, threads=3, batch=6).start().join()
        assert len(ledger.acked) == len(insts)
        deadline = time.time() + 60
        while time.time() < deadline and packed_count(system) == 0:
            time.sleep(0.05)
        at_kill = packed_count(system)
        assert 0 < at_kill < len(insts), "migration did not start, or finished before the kill (%d)" % at_kill
        t_kill = kill_osd(ceph3, 1)
        down_after = osd_down_marked(ceph3, 1, t_kill)
        deadline = time.time() + 120
        while time.time() < deadline and packed_count(system) < len(insts):
            time.sleep(0.1)
        assert packed_count(system) == len(insts), "migration stalled with an OSD down"
        print("osd loss: migration, %d images, %d packed at the kill; osd.1 marked down %.2f s after the kill; "
              "all packed %.2f s after the kill" % (len(insts), at_kill, down_after or -1, time.time() - t_kill))
        assert not node_errors(system), "\n".join(node_errors(system)[:10])
        v = ha.verdict(system, ledger)
        assert v.total() == 0, ha.describe(v)
    finally:
        system.close()


def test_osd_killed_during_reads(ceph3, tmp_path):
    system = make_system(ceph3, tmp_path, tiering=True)
    try:
        ha.start_nodes(system)
        insts = ha.instances(tmp_path / "gen", studies=12, slices=6, seed=32)
        ledger = ha.Ledger()
        ha.Ingest(system, ledger, insts, threads=3, batch=6).start().join()
        assert len(ledger.acked) == len(insts)
        deadline = time.time() + 90
        while time.time() < deadline and packed_count(system) < len(insts):
            time.sleep(0.1)
        assert packed_count(system) == len(insts), "studies were not all packed"
        studies = {}
        for sop, e in ledger.acked.items():
            studies.setdefault(e["study"], {})[sop] = e["sha"]
        node = system.nodes[0]
        stop = threading.Event()
        errors, reads, slowest = [], [0], [0.0]
        lock = threading.Lock()
        tmp = Path(tempfile.mkdtemp(dir=str(system.work)))

        def reader(k):
            order = sorted(studies)
            i = k
            while not stop.is_set():
                study = order[i % len(order)]
                i += 1
                expect = studies[study]
                t0 = time.time()
                if i % 2:
                    out = Path(tempfile.mkdtemp(dir=str(tmp)))
                    p = ha.cluster.run(["getscu", "-S", "-aec", node.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY",
                                        "-k", "StudyInstanceUID=" + study, *node.addr()], timeout=120)
                    got = dict(file_digest(f) for f in out.iterdir())
                    shutil.rmtree(out, ignore_errors=True)
                    route = "c-get rc %d" % p.returncode
                else:
                    got = dict(wado(node, study, timeout=120))
                    route = "wado-rs"
                dt = time.time() - t0
                with lock:
                    reads[0] += 1
                    slowest[0] = max(slowest[0], dt)
                    if got != expect:
                        errors.append("%s study %s: %d of %d instances, %d differ" % (
                            route, study, len(set(got) & set(expect)), len(expect),
                            sum(1 for s in expect if s in got and got[s] != expect[s])))

        threads = [threading.Thread(target=reader, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        time.sleep(3)
        before = reads[0]
        t_kill = kill_osd(ceph3, 0)
        down_after = osd_down_marked(ceph3, 0, t_kill)
        time.sleep(10)
        stop.set()
        for t in threads:
            t.join()
        print("osd loss: reads, %d studies read (%d after the kill), slowest read %.2f s; osd.0 marked down "
              "%.2f s after the kill" % (reads[0], reads[0] - before, slowest[0], down_after or -1))
        assert reads[0] - before > 0
        assert not errors, "\n".join(errors[:10])
        assert not node_errors(system), "\n".join(node_errors(system)[:10])
        v = ha.verdict(system, ledger)
        assert v.total() == 0, ha.describe(v)
    finally:
        system.close()

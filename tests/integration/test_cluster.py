"""Several nodes on real engines: PostgreSQL catalog, S3 cold store on Ceph's RADOS Gateway,
a shared hot directory. Needs STRATA_TEST_PG_URL and STRATA_TEST_S3_ENDPOINT (scripts/test.sh
starts both on loopback); skipped with a message otherwise."""
import os
import random
import subprocess
import time
import uuid

import pydicom
import pytest

from conftest import STRATA, TOOL_ENV, gen, run, same_dataset, study_uid_of
from faultproxy import FaultProxy
from s3util import S3

pytestmark = pytest.mark.skipif(
    not (os.environ.get("STRATA_TEST_PG_URL") and os.environ.get("STRATA_TEST_S3_ENDPOINT")),
    reason="needs STRATA_TEST_PG_URL and STRATA_TEST_S3_ENDPOINT (scripts/test.sh starts PostgreSQL and Ceph)")

BUCKET = "strata-cluster"
PG = os.environ.get("STRATA_TEST_PG_URL", "")


def psql(sql):
    return run(["psql", PG, "-tAc", sql]).stdout.strip()


@pytest.fixture
def cluster(tmp_path, server_factory):
    """A clean catalog schema, a fresh S3 prefix, a shared hot directory."""
    psql("DROP TABLE IF EXISTS instances, series, studies, patients, packs, migrations, schema_version CASCADE")
    s3 = S3()
    s3.create_bucket(BUCKET)
    prefix = "t-" + uuid.uuid4().hex[:8]
    hot = tmp_path / "shared-hot"

    class Cluster:
        def flags(self, node, endpoint=None):
            return ["--catalog", PG, "--cold", "s3://%s/%s" % (BUCKET, prefix), "--hot-dir", str(hot),
                    "--node-id", node, "--s3-endpoint", endpoint or os.environ["STRATA_TEST_S3_ENDPOINT"],
                    "--tiering-enabled", "false"]

        def node(self, name, endpoint=None):
            return server_factory(extra=self.flags(name, endpoint))

        def migrate(self, name, endpoint=None, check=True):
            return run([STRATA, "migrate", "--older-than", "0s", *self.flags(name, endpoint)], check=check)

        def objects(self):
            return s3.list_keys(BUCKET, prefix + "/")

        def uploads(self):
            return s3.list_uploads(BUCKET, prefix + "/")

    c = Cluster()
    c.s3, c.prefix, c.hot = s3, prefix, hot
    return c


def store(server, files):
    return subprocess.Popen(["storescu", "-aec", "STRATA", *server.addr(), *map(str, files)], env=TOOL_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def get_study(server, study, out):
    out.mkdir(parents=True, exist_ok=True)
    return run(["getscu", "-v", "-S", "-aec", "STRATA", "-od", out, "-k", "QueryRetrieveLevel=STUDY",
                "-k", "StudyInstanceUID=" + study, *server.addr()], check=False, timeout=180)


def assert_identical(sent, out):
    got = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in out.iterdir()}
    assert len(got) == len(sent), (len(got), len(sent))
    for f in sent:
        assert same_dataset(f, got[pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID])


def by_study(files):
    groups = {}
    for f in files:
        groups.setdefault(study_uid_of([f]), []).append(f)
    return groups


def test_two_nodes_share_everything(cluster, tmp_path):
    files = gen("ct", tmp_path / "data", patients=3, studies_per_patient=1, series=2, slices=8, seed=21)
    studies = by_study(files)
    (s1, f1), (s2, f2), (s3, f3) = sorted(studies.items())
    a, b = cluster.node("node-a"), cluster.node("node-b")
    procs = [store(a, f1), store(b, f2), store(a, f3[0::2]), store(b, f3[1::2])]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stdout.read().decode()[-2000:]
    assert psql("SELECT COUNT(*) FROM instances") == str(len(files))
    # Both converters run at once; each study must be packed exactly once.
    ma = subprocess.Popen([STRATA, "migrate", "--older-than", "0s", *cluster.flags("node-a")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    mb = subprocess.Popen([STRATA, "migrate", "--older-than", "0s", *cluster.flags("node-b")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    outs = [m.communicate(timeout=300)[0].decode() for m in (ma, mb)]
    assert ma.returncode == 0 and mb.returncode == 0, "\n".join(outs)
    assert psql("SELECT COUNT(*) FROM instances WHERE tier = 0") == "0"
    per_study = psql("SELECT study_uid || ':' || COUNT(*) FROM packs GROUP BY study_uid ORDER BY 1").split()
    assert sorted(per_study) == sorted("%s:1" % s for s in studies)
    assert len(cluster.objects()) == 3
    assert cluster.uploads() == []
    assert list(cluster.hot.rglob("*.dcm")) == []
    # Any node retrieves any image.
    assert get_study(b, s1, tmp_path / "b1").returncode == 0
    assert_identical(f1, tmp_path / "b1")
    assert get_study(a, s2, tmp_path / "a2").returncode == 0
    assert_identical(f2, tmp_path / "a2")
    assert get_study(b, s3, tmp_path / "b3").returncode == 0
    assert_identical(f3, tmp_path / "b3")
    v = run([STRATA, "verify", *cluster.flags("node-a")])
    assert "OK" in v.stdout


def test_object_store_outage_during_migration_and_reads(cluster, tmp_path):
    files = gen("ct", tmp_path / "data", patients=1, studies_per_patient=1, series=1, slices=30, seed=31)
    study = study_uid_of(files)
    rgw_port = int(os.environ["STRATA_TEST_S3_ENDPOINT"].rsplit(":", 1)[1].strip("/"))
    proxy = FaultProxy("127.0.0.1", rgw_port)  # plain bytes: an object store that goes away
    endpoint = "http://127.0.0.1:%d" % proxy.port
    node = cluster.node("node-f", endpoint=endpoint)
    p = store(node, files)
    assert p.wait(timeout=120) == 0
    # The store dies a few MB into the upload.
    proxy.cut_after_bytes(4 * 1024 * 1024)
    m = cluster.migrate("node-f", endpoint=endpoint, check=False)
    assert m.returncode != 0
    assert psql("SELECT COUNT(*) FROM instances WHERE tier = 0") == str(len(files))  # hot copy kept
    assert len(list(cluster.hot.rglob("*.dcm"))) == len(files)
    assert get_study(node, study, tmp_path / "during").returncode == 0
    assert_identical(files, tmp_path / "during")
    # Back again: the next run finishes and leaves no debris.
    proxy.restore()
    cluster.migrate("node-f", endpoint=endpoint)
    assert psql("SELECT COUNT(*) FROM instances WHERE tier = 1") == str(len(files))
    assert len(cluster.objects()) == 1
    assert cluster.uploads() == []
    # Cold reads while the store is away: a clear failure, not a hang; then it works again.
    proxy.down()
    t0 = time.time()
    r = get_study(node, study, tmp_path / "outage")
    assert time.time() - t0 < 170
    assert r.returncode != 0 or "Failed" in r.stdout + r.stderr or "Warning" in r.stdout + r.stderr
    assert len(list((tmp_path / "outage").iterdir())) < len(files)
    proxy.restore()
    assert get_study(node, study, tmp_path / "after").returncode == 0
    assert_identical(files, tmp_path / "after")


def test_postgres_restart_loses_nothing(cluster, tmp_path):
    pgdir = os.environ.get("STRATA_TEST_PG_DIR")
    if not pgdir:
        pytest.skip("STRATA_TEST_PG_DIR not set")
    files = gen("ct", tmp_path / "data", patients=1, studies_per_patient=1, series=1, slices=16, seed=41)
    node = cluster.node("node-p")
    assert store(node, files[:8]).wait(timeout=120) == 0
    from pathlib import Path
    run([Path(__file__).resolve().parents[2] / "scripts" / "pg-dev.sh", "restart", pgdir])
    p = store(node, files[8:])
    out = p.communicate(timeout=120)[0].decode()
    assert p.returncode == 0, out[-2000:]
    assert psql("SELECT COUNT(*) FROM instances") == str(len(files))
    assert get_study(node, study_uid_of(files), tmp_path / "all").returncode == 0
    assert_identical(files, tmp_path / "all")

"""Lifecycle changes across two nodes (issue 15): both `strata serve` nodes on one PostgreSQL
catalog, a shared hot directory and one S3 cold store (Ceph RGW). A rejection note stored on
node A hides its instances on node B at once (C-FIND, C-GET, QIDO-RS); a delete on node A is
gone on node B at once; a retention pass run as node B deletes what node A stored; each
change is listed by both nodes' /api/lifecycle. And a compaction and a migration of the same
study never run together: two converters at once over a thinned pack plus a late image make
exactly one new generation and lose nothing. Needs STRATA_TEST_PG_URL and
STRATA_TEST_S3_ENDPOINT (scripts/test.sh starts both)."""
import datetime
import io
import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid
import zipfile

import pydicom
import pytest

from conftest import STRATA, findscu, free_port, gen, run, same_dataset, storescu, study_uid_of
from s3util import S3
from test_lifecycle import rejection_note

pytestmark = pytest.mark.skipif(
    not (os.environ.get("STRATA_TEST_PG_URL") and os.environ.get("STRATA_TEST_S3_ENDPOINT")),
    reason="needs STRATA_TEST_PG_URL and STRATA_TEST_S3_ENDPOINT (scripts/test.sh starts PostgreSQL and Ceph)")

BUCKET = "strata-lifecycle"
PG = os.environ.get("STRATA_TEST_PG_URL", "")


def psql(sql):
    return run(["psql", PG, "-tAc", sql]).stdout.strip()


def drop_all_tables():
    tables = psql("SELECT string_agg(quote_ident(tablename), ',') FROM pg_tables WHERE schemaname = current_schema()")
    if tables:
        psql("DROP TABLE IF EXISTS %s CASCADE" % tables)


@pytest.fixture
def cluster(tmp_path, server_factory):
    """A clean catalog (every table), a fresh S3 prefix, a shared hot directory."""
    drop_all_tables()
    s3 = S3()
    s3.create_bucket(BUCKET)
    prefix = "l-" + uuid.uuid4().hex[:8]
    hot = tmp_path / "shared-hot"

    class Cluster:
        def flags(self, node):
            return ["--catalog", PG, "--cold", "s3://%s/%s" % (BUCKET, prefix), "--hot-dir", str(hot),
                    "--node-id", node, "--s3-endpoint", os.environ["STRATA_TEST_S3_ENDPOINT"],
                    "--tiering-enabled", "false"]

        def node(self, name):
            return server_factory(http_port=free_port(), extra=self.flags(name))

        def cli(self, name, *args, check=True):
            return run([STRATA, *args, *self.flags(name)], check=check)

        def objects(self):  # pack objects (delete tombstones, *.json, aside)
            return [k for k in s3.list_keys(BUCKET, prefix + "/") if k.endswith(".zip")]

        def entries(self, key):
            status, body = s3.request("GET", "/%s/%s" % (BUCKET, key))
            assert status == 200, status
            return {n.split("/")[-1][:-4] for n in zipfile.ZipFile(io.BytesIO(body)).namelist() if n.endswith(".dcm")}

    yield Cluster()
    drop_all_tables()  # the other PostgreSQL tests start from their own tables


def api(server, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (server.http_port, path), timeout=60) as r:
        return r.status, json.loads(r.read() or b"null")


def qido_sops(server, study):
    req = urllib.request.Request("http://127.0.0.1:%d/dicomweb/studies/%s/instances" % (server.http_port, study),
                                 headers={"Accept": "application/dicom+json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        assert e.code == 404, e.code
        return set()
    return {i["00080018"]["Value"][0] for i in json.loads(body)} if body else set()


def cfind_sops(server, study):
    return {str(r.SOPInstanceUID) for r in findscu(server, "IMAGE", ["StudyInstanceUID=" + study, "SOPInstanceUID"])}


def cget(server, study, out):
    out.mkdir(parents=True)
    run(["getscu", "-aec", server.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY", "-k",
         "StudyInstanceUID=" + study, *server.addr()], check=False, timeout=180)
    return {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID): f for f in out.iterdir()}


def sop_of(f):
    return str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID)


def expect_on(server, study, survivors, out):
    """C-FIND, QIDO-RS and C-GET of SERVER show exactly SURVIVORS."""
    assert cfind_sops(server, study) == survivors
    assert qido_sops(server, study) == survivors
    assert set(cget(server, study, out)) == survivors


def test_rejection_delete_and_retention_seen_by_the_other_node(cluster, tmp_path):
    files = gen("ct", tmp_path / "data", patients=2, studies_per_patient=1, series=2, slices=4, seed=91)
    by_study = {}
    for f in files:
        by_study.setdefault(study_uid_of([f]), []).append(f)
    (s1, f1), (s2, f2) = sorted(by_study.items())
    a, b = cluster.node("node-a"), cluster.node("node-b")
    storescu(a, f1)
    storescu(b, f2)
    cluster.cli("node-a", "migrate", "--older-than", "0s", "--study", s1)  # s1 packed, s2 hot

    # A rejection note stored on node A: node B hides the instances at once.
    bad = sorted(f1, key=sop_of)[:3]
    kos = rejection_note(tmp_path / "kos.dcm", bad)
    p = storescu(a, [tmp_path / "kos.dcm"])
    assert "Received Store Response (Success)" in p.stdout + p.stderr
    survivors1 = {sop_of(f) for f in f1} - {sop_of(f) for f in bad} | {kos}
    expect_on(b, s1, survivors1, tmp_path / "b-after-reject")
    st = findscu(b, "STUDY", ["StudyInstanceUID=" + s1, "NumberOfStudyRelatedInstances"])
    assert int(st[0].NumberOfStudyRelatedInstances) == len(survivors1)

    # A delete on node A (one series of the hot study): node B no longer sees it.
    series = sorted({str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID) for f in f2})
    gone = {sop_of(f) for f in f2 if str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID) == series[0]}
    req = urllib.request.Request("http://127.0.0.1:%d/dicomweb/studies/%s/series/%s" % (a.http_port, s2, series[0]),
                                 method="DELETE")
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.status == 204
    survivors2 = {sop_of(f) for f in f2} - gone
    expect_on(b, s2, survivors2, tmp_path / "b-after-delete")
    got = cget(b, s2, tmp_path / "b-bytes")
    for f in f2:
        if sop_of(f) in survivors2:
            assert same_dataset(f, got[sop_of(f)])

    # A retention pass as node B deletes the study node A stored (and packed).
    date = max(str(pydicom.dcmread(f[0], stop_before_pixels=True).StudyDate) for f in (f1, f2))
    today = datetime.date(int(date[:4]), int(date[4:6]), int(date[6:])) + datetime.timedelta(days=3700)
    p = cluster.cli("node-b", "retention", "--lifecycle-retention", "*=10y", "--today", today.strftime("%Y%m%d"))
    assert "2 studies deleted" in p.stdout, p.stdout
    for node, out in ((a, "a-retention"), (b, "b-retention")):
        for study in (s1, s2):
            assert cfind_sops(node, study) == set() and qido_sops(node, study) == set()
        assert cget(node, s1, tmp_path / out) == {}
    assert cluster.objects() == []  # the pack went with its last instance
    assert psql("SELECT COUNT(*) FROM instances") == "0"

    # Both nodes list the same history: reject (node A), delete (node A), retention (node B).
    _, on_a = api(a, "/api/lifecycle?limit=50")
    _, on_b = api(b, "/api/lifecycle?limit=50")
    assert on_a == on_b
    assert [e["action"] for e in on_b] == ["retention", "retention", "delete", "reject"]
    assert on_b[3]["who"] == "dimse:STORESCU@127.0.0.1" and on_b[3]["instances"] == 3
    assert on_b[2]["who"].startswith("anonymous@127.0.0.1") and on_b[2]["series_uid"] == series[0]
    assert {e["study_uid"] for e in on_b[:2]} == {s1, s2}
    assert all(e["who"].startswith("cli:") and e["new"]["study"] == "deleted" for e in on_b[:2])
    cluster.cli("node-a", "verify", "--hot")


def test_compaction_and_migration_never_run_together(cluster, tmp_path):
    files = gen("ct", tmp_path / "data", patients=1, studies_per_patient=1, series=2, slices=8, seed=92)
    study = study_uid_of(files)
    late = files[-1]  # arrives after the pack was made
    a, b = cluster.node("node-a"), cluster.node("node-b")
    storescu(a, files[:-1])
    cluster.cli("node-a", "migrate", "--older-than", "0s")
    assert psql("SELECT generation FROM packs WHERE study_uid = '%s'" % study) == "1"
    # Thin the pack (two deletes) and add a late hot image: both a compaction and a migration
    # are due for the study.
    victims = [sop_of(f) for f in files[:2]]
    for v in victims:
        cluster.cli("node-b", "delete", "--study", study, "--sop", v)
    storescu(b, [late])
    survivors = {sop_of(f) for f in files} - set(victims)
    # Both converters at once.
    procs = [subprocess.Popen([STRATA, "migrate", "--older-than", "0s", *cluster.flags(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) for n in ("node-a", "node-b")]
    outs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(outs)
    # Exactly one new generation: one pack row, one object, holding exactly the survivors.
    assert psql("SELECT generation FROM packs WHERE study_uid = '%s'" % study) == "2", "\n".join(outs)
    objects = cluster.objects()
    assert len(objects) == 1
    assert cluster.entries(objects[0]) == survivors
    assert psql("SELECT COUNT(*) FROM instances WHERE tier = 0") == "0"
    assert psql("SELECT COUNT(*) FROM migrations WHERE study_uid = '%s' AND state NOT IN ('done', 'failed')"
                % study) == "0"
    # Nothing lost: every survivor comes back bit-identical from both nodes.
    for node, out in ((a, "a"), (b, "b")):
        got = cget(node, study, tmp_path / out)
        assert set(got) == survivors
        for f in files:
            if sop_of(f) in survivors:
                assert same_dataset(f, got[sop_of(f)])
    cluster.cli("node-b", "verify")


def test_correction_on_one_node_is_served_by_the_other(cluster, tmp_path):
    files = gen("ct", tmp_path / "data", patients=1, studies_per_patient=1, series=1, slices=4, seed=93)
    study = study_uid_of(files)
    a, b = cluster.node("node-a"), cluster.node("node-b")
    storescu(a, files)
    cluster.cli("node-a", "migrate", "--older-than", "0s")  # packed: the patch applies to pack reads too
    old_name = str(pydicom.dcmread(files[0], stop_before_pixels=True).PatientName)
    # Node B reads the metadata once before the change (its cache must not serve the old values).
    req = urllib.request.Request("http://127.0.0.1:%d/dicomweb/studies/%s/metadata" % (b.http_port, study),
                                 headers={"Accept": "application/dicom+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert json.loads(r.read())[0]["00100010"]["Value"][0]["Alphabetic"] == old_name
    req = urllib.request.Request("http://127.0.0.1:%d/api/studies/%s" % (a.http_port, study), method="PUT",
                                 data=json.dumps({"PatientName": "Moved^Elsewhere", "reason": "wrong patient"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.status == 200
    # Node B at once: C-FIND, QIDO-RS, /metadata and C-GET all carry the corrected name.
    st = findscu(b, "STUDY", ["StudyInstanceUID=" + study, "PatientName"])
    assert [str(x.PatientName) for x in st] == ["Moved^Elsewhere"]
    req = urllib.request.Request("http://127.0.0.1:%d/dicomweb/studies?StudyInstanceUID=%s" % (b.http_port, study),
                                 headers={"Accept": "application/dicom+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert json.loads(r.read())[0]["00100010"]["Value"][0]["Alphabetic"] == "Moved^Elsewhere"
    req = urllib.request.Request("http://127.0.0.1:%d/dicomweb/studies/%s/metadata" % (b.http_port, study),
                                 headers={"Accept": "application/dicom+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert {i["00100010"]["Value"][0]["Alphabetic"] for i in json.loads(r.read())} == {"Moved^Elsewhere"}
    got = cget(b, study, tmp_path / "b-corrected")
    assert len(got) == len(files)
    for f in got.values():
        ds = pydicom.dcmread(f)
        assert str(ds.PatientName) == "Moved^Elsewhere"
        assert str(ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0].PatientName) == old_name
    # Both nodes list the correction in the shared history.
    _, on_a = api(a, "/api/lifecycle?limit=10")
    _, on_b = api(b, "/api/lifecycle?limit=10")
    assert on_a == on_b and on_b[0]["action"] == "correct" and on_b[0]["study_uid"] == study
    assert on_b[0]["old"]["PatientName"] == old_name and on_b[0]["new"]["PatientName"] == "Moved^Elsewhere"

"""`strata rebuild-catalog` (issue 16) against a real `strata serve`: a populated archive (hot and
cold, two pack generations from a late series, a consolidated study, deleted instances in a pack
not yet compacted and in the hot tier) loses its catalog; after the rebuild every study answers
C-FIND (study, series, image level) exactly as before, and C-GET and WADO-RS give back the same
bytes. On SQLite always; on PostgreSQL too when STRATA_TEST_PG_URL is set. A second test times
the rebuild of N studies (docs/benchmarks.md)."""
import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pydicom
import pytest

from conftest import STRATA, findscu, free_port, gen, parse_multipart, run, storescu, study_uid_of

PG = os.environ.get("STRATA_TEST_PG_URL", "")
STUDY_KEYS = ["PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
              "AccessionNumber", "StudyID", "StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedSeries",
              "NumberOfStudyRelatedInstances"]
SERIES_KEYS = ["Modality", "SeriesNumber", "SeriesDescription", "NumberOfSeriesRelatedInstances"]
IMAGE_KEYS = ["SOPClassUID", "InstanceNumber", "Rows", "Columns"]


def wado_instances(server, study):
    req = urllib.request.Request("http://127.0.0.1:%d/dicomweb/studies/%s" % (server.http_port, study),
                                 headers={"Accept": 'multipart/related; type="application/dicom"'})
    with urllib.request.urlopen(req, timeout=120) as r:
        parts = parse_multipart(r.headers["Content-Type"], r.read())
    out = {}
    for p in parts:
        import io
        ds = pydicom.dcmread(io.BytesIO(p), stop_before_pixels=True)
        out[str(ds.SOPInstanceUID)] = hashlib.sha256(p).hexdigest()
    return out


def cget_instances(server, study, out):
    out.mkdir()
    run(["getscu", "-aec", server.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY", "-k",
         "StudyInstanceUID=" + study, *server.addr()])
    got = {}
    for f in out.iterdir():
        ds = pydicom.dcmread(f)
        # The data set, meta header aside (its source AE differs between retrievals).
        got[str(ds.SOPInstanceUID)] = hashlib.sha256(f.read_bytes()[132 + 12 + ds.file_meta.get(
            (0x0002, 0x0000)).value:]).hexdigest()
    return got


def find_answers(server, studies):
    """Canonical text of the C-FIND answers at study, series and image level."""
    def dump(rsp):
        lines = []
        for ds in rsp:
            lines.append("|".join("%s=%s" % (e.keyword, e.value) for e in sorted(ds, key=lambda e: e.tag)
                                  if e.keyword not in ("QueryRetrieveLevel", "RetrieveAETitle", "SpecificCharacterSet")))
        return sorted(lines)
    out = {"studies": dump(findscu(server, "STUDY", ["StudyInstanceUID"] + STUDY_KEYS))}
    for s in studies:
        out[s + "/series"] = dump(findscu(server, "SERIES", ["StudyInstanceUID=" + s, "SeriesInstanceUID"] + SERIES_KEYS))
        out[s + "/images"] = dump(findscu(server, "IMAGE", ["StudyInstanceUID=" + s, "SeriesInstanceUID",
                                                            "SOPInstanceUID"] + IMAGE_KEYS))
    return out


def snapshot(server, studies, tmp_path, tag):
    snap = {"find": find_answers(server, studies), "cget": {}, "wado": {}}
    for s in studies:
        snap["cget"][s] = cget_instances(server, s, tmp_path / ("get-%s-%s" % (tag, s)))
        snap["wado"][s] = wado_instances(server, s)
    return snap


def series_files(files):
    by = {}
    for f in files:
        by.setdefault(str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID), []).append(f)
    return [by[k] for k in sorted(by)]


class Catalog:
    """sqlite in the data directory, or a fresh PostgreSQL database (dropped at the end)."""

    def __init__(self, kind, data):
        self.kind, self.data = kind, data
        if kind == "pg":
            self.db = "rebuild_" + uuid.uuid4().hex[:10]
            u = urllib.parse.urlsplit(PG)
            self.admin = PG
            self.url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + self.db, u.query, ""))
            self.psql("CREATE DATABASE " + self.db)

    def psql(self, sql):
        run(["psql", self.admin, "-v", "ON_ERROR_STOP=1", "-c", sql])

    def args(self):
        return ["--catalog", self.url] if self.kind == "pg" else []

    def delete(self):
        if self.kind == "pg":
            self.psql("DROP DATABASE %s WITH (FORCE)" % self.db)
            self.psql("CREATE DATABASE " + self.db)
        else:
            for suffix in ("", "-wal", "-shm"):
                p = self.data / ("catalog.db" + suffix)
                if p.exists():
                    p.unlink()

    def drop(self):
        if self.kind == "pg":
            self.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db)


@pytest.fixture(params=["sqlite", "pg"])
def catalog_kind(request):
    if request.param == "pg" and not PG:
        pytest.skip("needs STRATA_TEST_PG_URL (scripts/pg-dev.sh start DIR)")
    return request.param


def test_rebuild_gives_every_study_back(server_factory, catalog_kind, tmp_path):
    data = tmp_path / "data0"
    cat = Catalog(catalog_kind, data)
    try:
        extra = cat.args() + ["--tiering-enabled", "false", "--duplicates", "replace"]
        server = server_factory(http_port=free_port(), extra=extra)
        a = gen("ct", tmp_path / "a", patients=1, studies_per_patient=1, series=2, slices=4, rows=64, cols=64, seed=11)
        b = gen("mr", tmp_path / "b", patients=1, studies_per_patient=1, series=1, slices=5, rows=64, cols=64, seed=12)
        c = gen("ct", tmp_path / "c", patients=1, studies_per_patient=1, series=1, slices=3, rows=64, cols=64, seed=13)
        sa, sb, sc = study_uid_of(a), study_uid_of(b), study_uid_of(c)
        a1, a2 = series_files(a)
        migrate = [STRATA, "migrate", "--data", data, *cat.args(), "--older-than", "0s", "--tiering-small-pack-share", "1"]
        storescu(server, a1 + b)
        run(migrate)                       # A generation 1, B
        storescu(server, a2)               # a late series
        run(migrate)                       # A generation 2 beside 1
        storescu(server, c)                # C stays hot
        # Deleted: one packed instance of B (its pack not compacted), one hot instance of C.
        dead_b = str(pydicom.dcmread(b[2], stop_before_pixels=True).SOPInstanceUID)
        dead_c = str(pydicom.dcmread(c[1], stop_before_pixels=True).SOPInstanceUID)
        p = run([STRATA, "delete", "--data", data, *cat.args(), "--study", sb, "--sop", dead_b])
        assert "1 packs to compact" in p.stdout, p.stdout
        run([STRATA, "delete", "--data", data, *cat.args(), "--study", sc, "--sop", dead_c])
        packs = sorted(p for p in (data / "cold").rglob("*.zip"))
        assert len(packs) == 3, packs
        before = snapshot(server, [sa, sb, sc], tmp_path, "before")
        assert len(before["wado"][sa]) == 8 and len(before["wado"][sb]) == 4 and len(before["wado"][sc]) == 2
        assert dead_b not in before["wado"][sb] and dead_c not in before["wado"][sc]
        assert before["cget"][sa].keys() == before["wado"][sa].keys()

        server.stop()
        cat.delete()
        t0 = time.time()
        p = run([STRATA, "rebuild-catalog", "--data", data, *cat.args()])
        elapsed = time.time() - t0
        assert "rebuilt 3 studies, 14 instances from 3 packs" in p.stdout, p.stdout
        assert "1 deleted copies left out" in p.stdout, p.stdout
        assert "0 problem(s)" in p.stdout, p.stdout
        server.start()
        after = snapshot(server, [sa, sb, sc], tmp_path, "after")
        assert after["find"] == before["find"]
        assert after["cget"] == before["cget"]
        assert after["wado"] == before["wado"]
        run([STRATA, "verify", "--data", data, *cat.args(), "--hot"])
        # A second rebuild into the catalog that now has rows is refused.
        server.stop()
        p = run([STRATA, "rebuild-catalog", "--data", data, *cat.args()], check=False)
        assert p.returncode == 1 and "not empty" in p.stderr, p.stderr
        print("rebuild of 3 studies / 14 instances on %s: %.2f s" % (catalog_kind, elapsed))
    finally:
        cat.drop()


N_STUDIES = int(os.environ.get("STRATA_REBUILD_BENCH_STUDIES", "40"))


def test_rebuild_time_for_n_studies(server_factory, tmp_path):
    """Figure for docs/benchmarks.md: N studies of 2 series x 5 images, 3 in 4 packed."""
    data = tmp_path / "data0"
    server = server_factory(extra=["--tiering-enabled", "false"])
    files = gen("ct", tmp_path / "n", patients=N_STUDIES, studies_per_patient=1, series=2, slices=5, rows=128,
                cols=128, seed=21)
    by_study = {}
    for f in files:
        by_study.setdefault(study_uid_of([f]), []).append(f)
    studies = sorted(by_study)
    packed = [s for k, s in enumerate(studies) if k % 4 != 3]
    storescu(server, [f for s in packed for f in by_study[s]])
    run([STRATA, "migrate", "--data", data, "--older-than", "0s"])
    storescu(server, [f for s in studies if s not in packed for f in by_study[s]])
    before = findscu(server, "IMAGE", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
    server.stop()
    for suffix in ("", "-wal", "-shm"):
        p = data / ("catalog.db" + suffix)
        if p.exists():
            p.unlink()
    t0 = time.time()
    p = run([STRATA, "rebuild-catalog", "--data", data])
    elapsed = time.time() - t0
    assert "rebuilt %d studies, %d instances" % (N_STUDIES, len(files)) in p.stdout, p.stdout
    server.start()
    after = findscu(server, "IMAGE", ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
    assert sorted(str(d.SOPInstanceUID) for d in after) == sorted(str(d.SOPInstanceUID) for d in before)
    print("BENCH rebuild-catalog: %d studies, %d instances (%d packed studies), %.2f s (%.1f instances/s)"
          % (N_STUDIES, len(files), len(packed), elapsed, len(files) / elapsed))


S3_URL = os.environ.get("STRATA_TEST_S3_ENDPOINT", "")


@pytest.mark.skipif(not S3_URL, reason="needs STRATA_TEST_S3_ENDPOINT (scripts/ceph-dev.sh or ceph-micro.sh)")
def test_rebuild_from_ceph(server_factory, tmp_path):
    """The packs in an RGW bucket (two generations, a deleted packed instance), hot files beside."""
    from s3util import S3
    bucket = "rebuild-" + uuid.uuid4().hex[:8]
    S3().create_bucket(bucket)
    data = tmp_path / "data0"
    stores = ["--cold", "s3://" + bucket, "--s3-endpoint", S3_URL]
    server = server_factory(http_port=free_port(), extra=["--tiering-enabled", "false"] + stores)
    a = gen("ct", tmp_path / "a", patients=1, studies_per_patient=1, series=2, slices=3, rows=64, cols=64, seed=51)
    c = gen("mr", tmp_path / "c", patients=1, studies_per_patient=1, series=1, slices=2, rows=64, cols=64, seed=52)
    sa, sc = study_uid_of(a), study_uid_of(c)
    a1, a2 = series_files(a)
    migrate = [STRATA, "migrate", "--data", data, "--older-than", "0s", "--tiering-small-pack-share", "1"] + stores
    storescu(server, a1)
    run(migrate)
    storescu(server, a2)
    run(migrate)
    storescu(server, c)
    dead = str(pydicom.dcmread(a1[0], stop_before_pixels=True).SOPInstanceUID)
    run([STRATA, "delete", "--data", data, "--study", sa, "--sop", dead] + stores)
    before = snapshot(server, [sa, sc], tmp_path, "before")
    server.stop()
    for suffix in ("", "-wal", "-shm"):
        p = data / ("catalog.db" + suffix)
        if p.exists():
            p.unlink()
    p = run([STRATA, "rebuild-catalog", "--data", data] + stores)
    assert "rebuilt 2 studies, 7 instances from 2 packs" in p.stdout and "0 problem(s)" in p.stdout, p.stdout
    server.start()
    after = snapshot(server, [sa, sc], tmp_path, "after")
    assert after == before
    assert dead not in after["wado"][sa]

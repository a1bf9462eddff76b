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


def http_json(server, path, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (server.http_port, path), data=data, method=method,
                                 headers={"Accept": "application/json", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")


def qido_answers(server, studies):
    """QIDO-RS study and instance answers, canonical (sorted JSON text)."""
    def get(path):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (server.http_port, path),
                                     headers={"Accept": "application/dicom+json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            body = r.read()
        return sorted(json.dumps(x, sort_keys=True) for x in (json.loads(body) if body else []))
    out = {"studies": get("/dicomweb/studies?includefield=all")}
    for s in studies:
        out[s] = get("/dicomweb/studies/%s/instances" % s)
    return out


def same_patient_new_study(files, out_dir):
    """Copies of FILES (one study) with new study, series and instance UIDs: the same patient."""
    from pydicom.uid import generate_uid
    out_dir.mkdir()
    study, series, out = generate_uid(), {}, []
    for k, f in enumerate(files):
        ds = pydicom.dcmread(f)
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series.setdefault(str(ds.SeriesInstanceUID), generate_uid())
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(str(out_dir / ("%d.dcm" % k)))
        out.append(out_dir / ("%d.dcm" % k))
    return study, out


def test_rebuild_keeps_corrections_merges_and_rejections(server_factory, catalog_kind, tmp_path):
    """Corrections (CLI and REST), a merge after a correction and a correction after the merge,
    a study sent for the merged-away patient afterwards, and a rejection note, on packed, hot
    and mixed studies; then the catalog is lost. After rebuild-catalog, C-FIND (patient to
    image level), QIDO-RS, C-GET and WADO-RS (bytes, so the Original Attributes Sequence too)
    answer exactly as before, and the rejected instances stay hidden and refused."""
    from test_lifecycle import rejection_note
    data = tmp_path / "data0"
    cat = Catalog(catalog_kind, data)
    try:
        extra = cat.args() + ["--tiering-enabled", "false"]
        server = server_factory(http_port=free_port(), extra=extra)
        a = gen("ct", tmp_path / "a", patients=1, studies_per_patient=1, series=2, slices=3, rows=64, cols=64, seed=31)
        b = gen("mr", tmp_path / "b", patients=1, studies_per_patient=1, series=1, slices=3, rows=64, cols=64, seed=32)
        c = gen("ct", tmp_path / "c", patients=1, studies_per_patient=1, series=1, slices=3, rows=64, cols=64, seed=33)
        sa, sb, sc = study_uid_of(a), study_uid_of(b), study_uid_of(c)
        pb, pc = (pydicom.dcmread(x[0], stop_before_pixels=True) for x in (b, c))
        assert str(pb.PatientID) != str(pc.PatientID)
        a1, a2 = series_files(a)
        storescu(server, a1 + b)
        run([STRATA, "migrate", "--data", data, *cat.args(), "--older-than", "0s"])  # A (series 1) and B packed
        storescu(server, a2 + c)  # A mixed, C hot
        # A: corrected with the CLI (packed and hot instances).
        p = run([STRATA, "update", "--data", data, *cat.args(), "--study", sa, "--set", "PatientName=Corrected^A",
                 "--set", "AccessionNumber=ACC-A", "--reason", "rebuild test"])
        assert "2 attribute values changed" in p.stdout, p.stdout
        # B: a correction, then B's patient merged into C's, then a correction after the merge
        # (the patient's name: it reaches B and C both).
        http_json(server, "/api/studies/" + sb, "PUT", {"AccessionNumber": "ACC-B"})
        merged = http_json(server, "/api/patients/merge", "POST",
                           {"from": {"PatientID": str(pb.PatientID), "IssuerOfPatientID": str(pb.get("IssuerOfPatientID", ""))},
                            "to": {"PatientID": str(pc.PatientID), "IssuerOfPatientID": str(pc.get("IssuerOfPatientID", ""))}})
        assert merged["studies"] == [sb], merged
        http_json(server, "/api/studies/" + sb, "PUT", {"PatientName": "After^Merge", "StudyDescription": "MERGED"})
        # D: a new study of B's old patient after the merge (a new patient row, not merged).
        sd, d = same_patient_new_study(b, tmp_path / "d")
        storescu(server, d)
        # A rejection note (C-STORE) naming a packed instance of A and a hot one of C.
        rejected = [str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in (a1[0], c[1])]
        note = rejection_note(tmp_path / "kos.dcm", [a1[0], c[1]], home=a[0])
        storescu(server, [tmp_path / "kos.dcm"])
        studies = [sa, sb, sc, sd]

        def snap(tag):
            out = snapshot(server, studies, tmp_path, tag)
            out["patients"] = find_answers_patients(server)
            out["qido"] = qido_answers(server, studies)
            return out
        before = snap("before")
        assert all(r not in before["wado"][s] for r in rejected for s in studies)
        assert note in before["wado"][sa]
        pats = {l for l in before["patients"]}
        assert any("PatientName=After^Merge" in l and "PatientID=%s" % pc.PatientID in l for l in pats), pats
        assert any("PatientID=%s" % pb.PatientID in l for l in pats), pats  # D's patient

        server.stop()
        cat.delete()
        p = run([STRATA, "rebuild-catalog", "--data", data, *cat.args()])
        assert "rebuilt 4 studies, 16 instances" in p.stdout, p.stdout
        assert "4 corrections re-applied (0 skipped)" in p.stdout, p.stdout
        assert "1 rejection notes re-applied (2 instances hidden)" in p.stdout, p.stdout
        assert "0 problem(s)" in p.stdout, p.stdout
        server.start()
        after = snap("after")
        for k in ("find", "patients", "qido", "cget", "wado"):
            assert after[k] == before[k], k
        # Served bytes after the rebuild carry the Original Attributes Sequence of both changes.
        served = pydicom.dcmread(next((tmp_path / ("get-after-%s" % sb)).iterdir()))
        assert str(served.PatientName) == "After^Merge" and str(served.AccessionNumber) == "ACC-B"
        assert len(served.OriginalAttributesSequence) == 3
        # A rejected instance is still refused when sent again.
        p = storescu(server, [c[1]], "-d", check=False)
        assert "instance rejected (113001); re-send refused" in p.stdout + p.stderr
        run([STRATA, "verify", "--data", data, *cat.args(), "--hot"])
    finally:
        cat.drop()


def find_answers_patients(server):
    rsp = findscu(server, "PATIENT", ["PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "PatientSex",
                                      "NumberOfPatientRelatedStudies"], root="-P")
    return sorted("|".join("%s=%s" % (e.keyword, e.value) for e in sorted(ds, key=lambda e: e.tag)
                           if e.keyword not in ("QueryRetrieveLevel", "RetrieveAETitle", "SpecificCharacterSet"))
                  for ds in rsp)


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

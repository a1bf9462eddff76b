"""Corrections and patient merge (issue 15) against a real `strata serve`, on SQLite and on
PostgreSQL: `PUT /api/studies/{uid}`, `POST /api/patients/merge` and `strata update`, on a hot
study, a packed one and one with instances in both tiers (a late arrival after migrating).
After each: C-FIND (study and patient level), QIDO-RS, C-GET, WADO-RS (instance and
/metadata) show the new values, the retrieved files carry an Original Attributes Sequence item
with the old values, their pixel data is the stored one byte for byte, and `strata verify`
passes; the stored files stay the acknowledged ones."""
import base64
import io
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pydicom
import pytest

from conftest import STRATA, findscu, free_port, gen, parse_multipart, run, storescu, study_uid_of

PG = os.environ.get("STRATA_TEST_PG_URL", "")


class Catalog:
    """SQLite in the data directory, or a fresh PostgreSQL database (dropped at the end)."""

    def __init__(self, kind):
        self.kind = kind
        if kind == "pg":
            self.db = "corr_" + uuid.uuid4().hex[:10]
            u = urllib.parse.urlsplit(PG)
            self.url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + self.db, u.query, ""))
            run(["psql", PG, "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE " + self.db])

    def args(self):
        return ["--catalog", self.url] if self.kind == "pg" else []

    def drop(self):
        if self.kind == "pg":
            run(["psql", PG, "-v", "ON_ERROR_STOP=1", "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db])


@pytest.fixture(params=["sqlite", "pg"])
def catalog(request):
    if request.param == "pg" and not PG:
        pytest.skip("needs STRATA_TEST_PG_URL (scripts/pg-dev.sh start DIR)")
    c = Catalog(request.param)
    yield c
    c.drop()


def http(server, path, method="GET", body=None, accept="application/json", auth=None):
    headers = {"Accept": accept}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (server.http_port, path), data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def cli(server, catalog, *args, check=True):
    return run([STRATA, *args, "--data", server.data, *catalog.args()], check=check)


def check_served(server, catalog, study, want, old, originals, tmp_path, items=None):
    """Every front door answers STUDY with the values WANT (keyword -> value); each retrieved
    file's last Original Attributes Sequence item holds OLD (keyword -> value before the last
    change), with ITEMS items in all when given; pixel data as sent (ORIGINALS: SOP -> file)."""
    keys = sorted(want)
    # C-FIND, study and patient level.
    rsp = findscu(server, "STUDY", ["StudyInstanceUID=" + study] + keys)
    assert len(rsp) == 1
    for k in keys:
        assert str(rsp[0].get(k, "")) == want[k], (k, rsp[0].get(k))
    if "PatientID" in want:
        pat = findscu(server, "PATIENT", ["PatientID=" + want["PatientID"], "PatientName"], root="-P")
        assert len(pat) == 1
        if "PatientName" in want:
            assert str(pat[0].PatientName) == want["PatientName"]
    # QIDO-RS.
    code, _, body = http(server, "/dicomweb/studies?StudyInstanceUID=%s%s" % (
        study, "".join("&includefield=" + k for k in keys)), accept="application/dicom+json")
    assert code == 200
    match = json.loads(body)
    assert len(match) == 1
    for k in keys:
        tag = {"PatientName": "00100010", "PatientID": "00100020", "AccessionNumber": "00080050",
               "StudyDescription": "00081030", "PatientSex": "00100040", "PatientBirthDate": "00100030"}[k]
        v = match[0].get(tag, {}).get("Value", [""])[0]
        if isinstance(v, dict):
            v = v.get("Alphabetic", "")
        assert v == want[k], (k, v)

    def check_file(ds):
        for k in keys:
            assert str(ds.get(k, "")) == want[k], (ds.SOPInstanceUID, k, ds.get(k))
        oas = ds.OriginalAttributesSequence
        if items is not None:
            assert len(oas) == items
        last = oas[-1]
        assert last.ReasonForTheAttributeModification == "CORRECT"
        assert str(last.ModifyingSystem).startswith("Strata")
        assert len(str(last.AttributeModificationDateTime)) >= 14
        assert "SourceOfPreviousValues" in last
        mod = last.ModifiedAttributesSequence[0]
        for k, v in old.items():
            assert str(mod.get(k, "")) == v, (k, mod.get(k))
        sent = pydicom.dcmread(originals[str(ds.SOPInstanceUID)])
        assert ds.PixelData == sent.PixelData

    # C-GET (uncompressed: the server decodes a packed entry to what getscu proposes).
    out = tmp_path / ("get-%d" % len(list(tmp_path.glob("get-*"))))
    out.mkdir()
    run(["getscu", "-aec", server.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY", "-k",
         "StudyInstanceUID=" + study, *server.addr()])
    files = list(out.iterdir())
    assert {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in files} == set(originals)
    for f in files:
        check_file(pydicom.dcmread(f))
    # WADO-RS instance (in a syntax the sender used) and /metadata.
    sop, path = sorted(originals.items())[0]
    series = str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)
    code, headers, body = http(server, "/dicomweb/studies/%s/series/%s/instances/%s" % (study, series, sop),
                               accept='multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1')
    assert code == 200
    (part,) = parse_multipart(headers["Content-Type"], body)
    check_file(pydicom.dcmread(io.BytesIO(part)))
    code, _, body = http(server, "/dicomweb/studies/%s/metadata" % study, accept="application/dicom+json")
    assert code == 200
    meta = json.loads(body)
    assert len(meta) == len(originals)
    for m in meta:
        assert "04000561" in m
        if "PatientName" in want:
            assert m["00100010"]["Value"][0]["Alphabetic"] == want["PatientName"]
    cli(server, catalog, "verify")


def test_correct_hot_packed_and_both_tiers(server_factory, catalog, ct_study, tmp_path):
    server = server_factory(http_port=free_port(), extra=catalog.args())
    study = study_uid_of(ct_study)
    originals = {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID): f for f in ct_study}
    late = ct_study[-2:]  # held back: sent after the study was packed
    storescu(server, ct_study[:-2])
    first = pydicom.dcmread(ct_study[0], stop_before_pixels=True)
    name0, acc0 = str(first.PatientName), str(first.get("AccessionNumber", ""))
    early = {k: v for k, v in originals.items() if v not in late}

    # Hot, over REST.
    code, _, body = http(server, "/api/studies/" + study, "PUT",
                         {"PatientName": "Corrected^Hot", "AccessionNumber": "ACC-HOT", "reason": "typo at the desk"})
    assert code == 200, body
    answer = json.loads(body)
    assert {c["attribute"] for c in answer["corrections"]} == {"PatientName", "AccessionNumber"}
    assert answer["corrections"][0]["old"] in (name0, acc0)
    check_served(server, catalog, study, {"PatientName": "Corrected^Hot", "AccessionNumber": "ACC-HOT"},
                 {"PatientName": name0, "AccessionNumber": acc0}, early, tmp_path, items=1)
    # The stored files are the acknowledged ones.
    hot = list((server.data / "hot").rglob("*.dcm"))
    assert hot and all(str(pydicom.dcmread(f, stop_before_pixels=True).PatientName) == name0 for f in hot)

    # Packed, with the CLI (a second change: a second item).
    cli(server, catalog, "migrate", "--older-than", "0s")
    assert list((server.data / "cold").rglob("*.zip"))
    p = cli(server, catalog, "update", "--study", study, "--set", "PatientName=Corrected^Packed", "--set",
            "StudyDescription=CORRECTED DESCRIPTION", "--reason", "second look")
    assert "2 attribute values changed" in p.stdout
    assert 'event=correct study=%s attribute=StudyDescription' % study in p.stdout + p.stderr
    want = {"PatientName": "Corrected^Packed", "AccessionNumber": "ACC-HOT", "StudyDescription": "CORRECTED DESCRIPTION"}
    check_served(server, catalog, study, want, {"PatientName": "Corrected^Hot"}, early, tmp_path, items=2)

    # Both tiers: late arrivals with the original values are served corrected too.
    storescu(server, late)
    check_served(server, catalog, study, want, {"PatientName": "Corrected^Hot"}, originals, tmp_path, items=2)

    # A restart between the correction and the read changes nothing.
    server.stop()
    server.start()
    check_served(server, catalog, study, want, {"PatientName": "Corrected^Hot"}, originals, tmp_path, items=2)
    code, _, body = http(server, "/api/studies/%s/corrections" % study)
    assert code == 200 and len(json.loads(body)["corrections"]) == 4
    log = server.log_text()
    assert re.search(r'event=correct study=%s attribute=PatientName tag=00100010 old="%s" new="Corrected\^Hot" '
                     r'who="anonymous@' % (re.escape(study), re.escape(name0)), log), log[-2000:]


def test_merge_two_patients(server_factory, catalog, tmp_path):
    audit = tmp_path / "audit.jsonl"
    server = server_factory(http_port=free_port(), extra=catalog.args() + ["--audit-file", audit])
    files = gen("ct", tmp_path / "two", patients=2, studies_per_patient=1, series=1, slices=2, seed=11)
    storescu(server, files)
    by_study = {}
    for f in files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        by_study.setdefault(str(ds.StudyInstanceUID), (str(ds.PatientID), str(ds.PatientName),
                                                      str(ds.get("IssuerOfPatientID", "")), {}))[3][
            str(ds.SOPInstanceUID)] = f
    (sa, (ida, namea, issa, filesa)), (sb, (idb, nameb, issb, _)) = sorted(by_study.items(), key=lambda kv: kv[1][0])
    assert ida != idb
    assert len(findscu(server, "PATIENT", ["PatientID", "PatientName"], root="-P")) == 2

    code, _, body = http(server, "/api/patients/merge", "POST",
                         {"from": {"PatientID": ida, "IssuerOfPatientID": issa},
                          "to": {"PatientID": idb, "IssuerOfPatientID": issb}, "reason": "duplicate"})
    assert code == 200, body
    assert json.loads(body)["studies"] == [sa]
    pats = findscu(server, "PATIENT", ["PatientID", "PatientName", "NumberOfPatientRelatedStudies"], root="-P")
    assert len(pats) == 1
    assert str(pats[0].PatientID) == idb and int(pats[0].NumberOfPatientRelatedStudies) == 2
    studies = findscu(server, "STUDY", ["PatientID=" + idb, "StudyInstanceUID"])
    assert {str(s.StudyInstanceUID) for s in studies} == {sa, sb}
    check_served(server, catalog, sa, {"PatientID": idb, "PatientName": nameb}, {"PatientID": ida, "PatientName": namea},
                 filesa, tmp_path, items=1)
    assert "event=merge" in server.log_text()
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    merges = [e for e in events if e.get("action") == "merge"]
    assert len(merges) == 1 and merges[0]["EventActionCode"] == "U" and merges[0]["EventOutcomeIndicator"] == 0
    # Merging again: the patient is gone (404 / exit 3).
    code, _, _ = http(server, "/api/patients/merge", "POST", {"from": {"PatientID": ida, "IssuerOfPatientID": issa},
                                                              "to": {"PatientID": idb, "IssuerOfPatientID": issb}})
    assert code == 404
    p = cli(server, catalog, "update", "--merge-patient", ida, "--from-issuer", issa, "--into", idb, "--into-issuer",
            issb, check=False)
    assert p.returncode == 3, p.stderr


def test_bad_input(server_factory, ct_study, tmp_path):
    server = server_factory(http_port=free_port(),
                            extra=["--web-users", "ann=read:ann-Pw-7,wes=read|write:wes-Pw-8"])
    storescu(server, ct_study[:1])
    study = study_uid_of(ct_study)
    wes = "wes:wes-Pw-8"

    def put(body, uid=study, auth=wes):
        code, _, text = http(server, "/api/studies/" + uid, "PUT", body, auth=auth)
        try:
            return code, json.loads(text).get("error", "")
        except ValueError:
            return code, text.decode(errors="replace")

    code, err = put({"Modality": "MR"})
    assert code == 400 and "not a correctable attribute" in err
    code, err = put({"PatientBirthDate": "1970-01-01"})
    assert code == 400 and "PatientBirthDate" in err and "YYYYMMDD" in err
    code, err = put({"PatientSex": "X"})
    assert code == 400 and "PatientSex" in err
    code, err = put({"PatientName": "a^b^c^d^e^f"})
    assert code == 400 and "PatientName" in err
    code, err = put({"AccessionNumber": "x" * 17})
    assert code == 400
    code, err = put({"PatientName": 5})
    assert code == 400
    code, err = put({})
    assert code == 400 and "no attribute" in err
    code, _, _ = http(server, "/api/studies/" + study, "PUT", b"{not json", auth=wes)
    assert code == 400
    code, err = put({"PatientName": "A^B"}, uid="1.2.x")
    assert code == 400
    code, err = put({"PatientName": "A^B"}, uid="1.2.3.999999")
    assert code == 404
    assert put({"PatientName": "A^B"}, auth="ann:ann-Pw-7")[0] == 403  # read role only
    assert put({"PatientName": "A^B"}, auth=None)[0] == 401
    code, _, _ = http(server, "/api/patients/merge", "POST", {"from": "x"}, auth=wes)
    assert code == 400
    code, _, _ = http(server, "/api/patients/merge", "POST", {"from": {"PatientID": "NOPE"}, "to": {"PatientID": "X"}},
                      auth=wes)
    assert code == 404
    # Nothing changed.
    first = pydicom.dcmread(ct_study[0], stop_before_pixels=True)
    rsp = findscu(server, "STUDY", ["StudyInstanceUID=" + study, "PatientName"])
    assert str(rsp[0].PatientName) == str(first.PatientName)
    # The CLI: exit 2 for bad arguments, 3 for a missing study.
    data = ["--data", server.data]
    p = run([STRATA, "update", *data, "--study", study, "--set", "Bogus=1"], check=False)
    assert p.returncode == 2 and "not a correctable attribute" in p.stderr
    p = run([STRATA, "update", *data, "--study", study, "--set", "PatientNameNoEquals"], check=False)
    assert p.returncode == 2
    p = run([STRATA, "update", *data, "--study", "1.2.3.999999", "--set", "PatientName=A"], check=False)
    assert p.returncode == 3
    p = run([STRATA, "update", *data, "--study", study], check=False)
    assert p.returncode == 2
    p = run([STRATA, "update", *data, "--merge-patient", "A"], check=False)
    assert p.returncode == 2

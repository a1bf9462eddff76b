"""QIDO-RS default attributes (PS3.18 Tables 10.6.3-3/-4/-5), `includefield` of any attribute
and of `all`, the same values over C-FIND (findscu), and a catalog written before schema v6
(a v4 database) upgraded and backfilled from the stored files. Expected values are read from
the files with pydicom, never written here."""
import sqlite3
import time
from pathlib import Path

import pydicom
import pydicom.data
from pydicom.uid import generate_uid
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from conftest import findscu, free_port, storescu
from test_web import Web, wait_http

TZ, PPS_DATE, PPS_TIME = "+0100", "20240305", "101500"
REQUESTS = [("SPS-1", "RP-1"), ("SPS-2", "RP-2")]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One MR series of 3 images (pydicom's MR_small, re-UID'd) carrying the attributes the
    defaults name, and a few without a catalog column (Patient Age, Magnetic Field Strength)."""
    out = tmp_path_factory.mktemp("qa")
    src = pydicom.dcmread(Path(pydicom.data.get_testdata_file("MR_small.dcm")))
    study, series = generate_uid(), generate_uid()
    paths = []
    for n in range(1, 4):
        ds = src.copy()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = n
        ds.SeriesDescription = "AX T1"
        ds.TimezoneOffsetFromUTC = TZ
        ds.PerformedProcedureStepStartDate = PPS_DATE
        ds.PerformedProcedureStepStartTime = PPS_TIME
        items = []
        for sps, rp in REQUESTS:
            it = Dataset()
            it.ScheduledProcedureStepID = sps
            it.RequestedProcedureID = rp
            items.append(it)
        ds.RequestAttributesSequence = Sequence(items)
        ds.PatientAge = "042Y"
        ds.MagneticFieldStrength = "1.5"
        p = out / ("mr%d.dcm" % n)
        ds.save_as(p, write_like_original=False)
        paths.append(p)
    return paths


@pytest.fixture
def web(server_factory):
    s = server_factory(http_port=free_port(), extra=["--tiering-enabled", "false"])
    wait_http(s.http_port)
    return Web(s)


def first(o, tag):
    v = o.get(tag, {}).get("Value")
    return v[0] if v else None


def qido(w, path):
    r = w.get(path)
    assert r.status == 200, r.body
    return r.json()


def check_defaults(w, ds):
    study, series, sop = ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID
    [st] = qido(w, "/studies?StudyInstanceUID=" + study)
    for tag in ("00080020", "00080030", "00080050", "00080056", "00080061", "00080090", "00080201", "00081190",
                "00100010", "00100020", "00100030", "00100040", "0020000D", "00200010", "00201206", "00201208"):
        assert tag in st, tag
    assert first(st, "00080201") == TZ
    assert st["00080061"]["Value"] == [ds.Modality]
    assert first(st, "00201208") == 3
    [se] = qido(w, "/studies/%s/series" % study)
    for tag in ("00080060", "00080201", "0008103E", "00081190", "0020000E", "00200011", "00201209", "00400244",
                "00400245", "00400275"):
        assert tag in se, tag
    assert first(se, "00400244") == PPS_DATE and first(se, "00400245") == PPS_TIME
    items = se["00400275"]["Value"]
    assert [(first(i, "00400009"), first(i, "00401001")) for i in items] == REQUESTS
    assert first(se, "0008103E") == ds.SeriesDescription
    inst = {first(o, "00080018"): o for o in qido(w, "/studies/%s/series/%s/instances" % (study, series))}
    o = inst[sop]
    for tag in ("00080016", "00080018", "00080056", "00080201", "00081190", "00200013", "00280010", "00280011",
                "00280100", "00280008"):
        assert tag in o, tag
    assert first(o, "00280100") == ds.BitsAllocated
    assert first(o, "00280010") == ds.Rows and first(o, "00280011") == ds.Columns
    assert first(o, "00200013") == int(ds.InstanceNumber)
    assert o["00081190"]["Value"][0].endswith("/studies/%s/series/%s/instances/%s" % (study, series, sop))


def test_defaults_and_includefield(web, files):
    storescu(web.server, files)
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    check_defaults(web, ds)
    study = ds.StudyInstanceUID
    # includefield of attributes the catalog has no column for: from its header copy.
    [st] = qido(web, "/studies?StudyInstanceUID=%s&includefield=PatientAge,00180087" % study)
    assert first(st, "00101010") == "042Y"
    assert float(first(st, "00180087")) == float(ds.MagneticFieldStrength)
    # includefield=all at instance level: the stored header, bulk data excepted.
    inst = qido(web, "/studies/%s/instances?SOPInstanceUID=%s&includefield=all" % (study, ds.SOPInstanceUID))
    assert len(inst) == 1
    o = inst[0]
    assert "7FE00010" not in o
    assert [float(x) for x in o["00200032"]["Value"]] == [float(x) for x in ds.ImagePositionPatient]
    assert first(o, "00101010") == "042Y"
    assert first(o, "00080201") == TZ
    # A sequence is return-only: matching on it is ignored with a Warning, not a 400.
    r = web.get("/studies/%s/series?RequestAttributesSequence=x" % study)
    assert r.status == 200 and "Warning" in r.headers


def test_cfind_agrees_with_qido(web, files):
    storescu(web.server, files)
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    study = ds.StudyInstanceUID
    [st] = qido(web, "/studies?StudyInstanceUID=" + study)
    [f] = findscu(web.server, "STUDY", ["StudyInstanceUID=" + study, "TimezoneOffsetFromUTC", "ModalitiesInStudy",
                                        "NumberOfStudyRelatedInstances", "ReferringPhysicianName", "PatientName"])
    assert f.TimezoneOffsetFromUTC == first(st, "00080201") == TZ
    assert int(f.NumberOfStudyRelatedInstances) == first(st, "00201208")
    assert str(f.PatientName) == first(st, "00100010")["Alphabetic"]
    [se] = qido(web, "/studies/%s/series" % study)
    [f] = findscu(web.server, "SERIES", ["StudyInstanceUID=" + study, "SeriesInstanceUID",
                                         "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
                                         "RequestAttributesSequence[0].ScheduledProcedureStepID",
                                         "NumberOfSeriesRelatedInstances"])
    assert f.PerformedProcedureStepStartDate == first(se, "00400244")
    assert f.PerformedProcedureStepStartTime == first(se, "00400245")
    assert [(i.ScheduledProcedureStepID, i.RequestedProcedureID) for i in f.RequestAttributesSequence] == \
        [(first(i, "00400009"), first(i, "00401001")) for i in se["00400275"]["Value"]]
    inst = {first(o, "00080018"): o for o in qido(web, "/studies/%s/instances" % study)}
    rsp = findscu(web.server, "IMAGE", ["StudyInstanceUID=" + study, "SeriesInstanceUID=" + ds.SeriesInstanceUID,
                                        "SOPInstanceUID", "BitsAllocated", "Rows", "Columns", "InstanceNumber",
                                        "TimezoneOffsetFromUTC"])
    assert len(rsp) == len(inst) == 3
    for f in rsp:
        o = inst[f.SOPInstanceUID]
        assert f.BitsAllocated == first(o, "00280100")
        assert f.Rows == first(o, "00280010") and f.Columns == first(o, "00280011")
        assert int(f.InstanceNumber) == first(o, "00200013")
        assert f.TimezoneOffsetFromUTC == first(o, "00080201")


def to_v4(db):
    """Rewrites a catalog as a v4 build left it: without v5's folded names, the v6 columns and
    the v7/v8 tables, version 4."""
    con = sqlite3.connect(str(db))
    for stmt in ("DROP INDEX IF EXISTS instances_no_header", "DROP INDEX IF EXISTS patients_name_fold",
                 "DROP TABLE IF EXISTS rejected_instances", "DROP TABLE IF EXISTS replica_queue"):
        con.execute(stmt)
    for table, col in (("patients", "patient_name_fold"), ("studies", "referring_fold"), ("studies", "timezone_offset"), ("series", "pps_start_date"), ("series", "pps_start_time"),
                       ("series", "request_attributes"), ("instances", "bits_allocated"),
                       ("instances", "header_json")):
        con.execute("ALTER TABLE %s DROP COLUMN %s" % (table, col))
    con.execute("UPDATE schema_version SET version = 4")
    con.commit()
    cols = [r[1] for r in con.execute("PRAGMA table_info(instances)")]
    con.close()
    assert "bits_allocated" not in cols and "header_json" not in cols


def test_v4_catalog_is_upgraded_and_backfilled(server_factory, files, tmp_path):
    port = free_port()
    s = server_factory(http_port=port, extra=["--tiering-enabled", "false"])
    storescu(s, files)
    s.stop()
    to_v4(s.data / "catalog.db")
    s.start()
    wait_http(port)
    w = Web(s)
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    deadline = time.time() + 30
    while time.time() < deadline and "header_backfill" not in s.log_text():
        time.sleep(0.2)
    assert "event=header_backfill instances=3 skipped=0" in s.log_text()
    check_defaults(w, ds)
    con = sqlite3.connect(str(s.data / "catalog.db"))
    (version,), = con.execute("SELECT version FROM schema_version").fetchall()
    assert version >= 6, version  # the build's version (later steps may follow v6)
    assert con.execute("SELECT COUNT(*) FROM instances WHERE header_json = ''").fetchone() == (0,)
    con.close()
    # A second start has nothing left to backfill.
    s.stop()
    log_before = s.log_text().count("event=header_backfill ")
    s.start()
    wait_http(port)
    time.sleep(1)
    assert s.log_text().count("event=header_backfill ") == log_before


def test_header_copy_is_utf8(web, tmp_path):
    """`includefield` of an attribute without a column, from a Latin-1 (ISO_IR 100) file:
    the header copy holds UTF-8, like every other QIDO-RS value."""
    ds = pydicom.dcmread(Path(pydicom.data.get_charset_files("chrFren.dcm")[0]))
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstitutionName = "Hôpital Général"
    p = tmp_path / "fr.dcm"
    ds.save_as(p, write_like_original=False)
    assert pydicom.dcmread(p).SpecificCharacterSet == "ISO_IR 100"
    storescu(web.server, [p])
    [st] = qido(web, "/studies?StudyInstanceUID=%s&includefield=InstitutionName" % ds.StudyInstanceUID)
    assert first(st, "00080080") == "Hôpital Général"
    [o] = qido(web, "/instances?SOPInstanceUID=%s&includefield=all" % ds.SOPInstanceUID)
    assert first(o, "00080080") == "Hôpital Général"
    assert first(o, "00100010")["Alphabetic"] == str(ds.PatientName)

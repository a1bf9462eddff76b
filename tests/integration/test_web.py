"""DICOMweb and the web page against a real `strata serve`: data goes in with DCMTK's storescu
(and STOW-RS), then every endpoint is checked with Python's urllib; npm's dicomweb-client under
node and the web page in headless Debian chromium (playwright-core) run from here too."""
import http.client as httpclient
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pydicom
import pytest

from conftest import STRATA, free_port, gen, run, same_dataset, storescu, study_uid_of

BROWSER_DIR = Path(__file__).resolve().parents[1] / "browser"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
JPEG_LS = "1.2.840.10008.1.2.4.80"
DICOM_MP = 'multipart/related; type="application/dicom"'


# ---- helpers ---------------------------------------------------------------------------------
class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def type(self):
        return self.headers.get("Content-Type", "")

    def json(self):
        return json.loads(self.body)


def http(url, method="GET", headers=None, data=None, timeout=120):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.headers, e.read())


def parse_multipart(content_type, body):
    """[(headers dict, bytes)] of a multipart body; checks its framing strictly."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    assert m, "no boundary in " + content_type
    delim = b"--" + m.group(1).encode()
    assert body.startswith(delim), body[:80]
    parts, pos = [], len(delim)
    while True:
        if body[pos:pos + 2] == b"--":
            assert body[pos + 2:].strip() == b"", "bytes after the closing boundary"
            return parts
        assert body[pos:pos + 2] == b"\r\n"
        end = body.index(b"\r\n\r\n", pos + 2)
        headers = {}
        for line in body[pos + 2:end].decode().split("\r\n"):
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        nxt = body.index(b"\r\n" + delim, end + 4)
        parts.append((headers, body[end + 4:nxt]))
        pos = nxt + 2 + len(delim)


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def wait_http(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("HTTP port %d does not answer" % port)


def multipart_body(files, boundary="strata-test-boundary-0123456789", part_type="application/dicom"):
    body = b""
    for f in files:
        data = Path(f).read_bytes() if not isinstance(f, bytes) else f
        body += b"--" + boundary.encode() + b"\r\nContent-Type: " + part_type.encode() + b"\r\n\r\n" + data + b"\r\n"
    body += b"--" + boundary.encode() + b"--\r\n"
    return body, 'multipart/related; type="application/dicom"; boundary=%s' % boundary


def uids(path):
    d = pydicom.dcmread(path, stop_before_pixels=True)
    return str(d.StudyInstanceUID), str(d.SeriesInstanceUID), str(d.SOPInstanceUID)


def migrate(server, *extra):
    return run([STRATA, "migrate", "--data", server.data, "--older-than", "0s", *extra])


class Web:
    """A running server and its base URL."""

    def __init__(self, server):
        self.server = server
        self.base = "http://127.0.0.1:%d" % server.http_port
        self.dw = self.base + "/dicomweb"

    def get(self, path, **kw):
        return http((self.dw + path) if path.startswith("/") else path, **kw)


@pytest.fixture
def web_factory(server_factory):
    def make(extra=()):
        s = server_factory(http_port=free_port(), extra=["--tiering-enabled", "false", *extra])
        wait_http(s.http_port)
        return Web(s)
    return make


@pytest.fixture
def web(web_factory):
    return web_factory()


@pytest.fixture(scope="session")
def mr_study(tmp_path_factory):
    """A second patient: one MR series of 5 images, 256x256."""
    return gen("mr", tmp_path_factory.mktemp("mr"), patients=1, studies_per_patient=1, series=1, slices=5, seed=11,
               first_patient=2)


@pytest.fixture(scope="session")
def multiframe(tmp_path_factory):
    return gen("multiframe", tmp_path_factory.mktemp("mf"), patients=1, studies_per_patient=1, series=1, slices=1,
               frames=6, seed=5, first_patient=3)


@pytest.fixture
def loaded(web, ct_study, mr_study):
    storescu(web.server, ct_study)
    storescu(web.server, mr_study)
    return web


# ---- QIDO-RS ---------------------------------------------------------------------------------
def test_qido_rs(loaded, ct_study, mr_study):
    w = loaded
    ct = pydicom.dcmread(ct_study[0], stop_before_pixels=True)
    study = str(ct.StudyInstanceUID)

    r = w.get("/studies")
    assert r.status == 200 and r.type.startswith("application/dicom+json")
    studies = r.json()
    assert len(studies) == 2
    s = next(x for x in studies if x["0020000D"]["Value"][0] == study)
    # PS3.18 default attributes, DICOM JSON types.
    assert s["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": str(ct.PatientName)}]}
    assert s["00100020"]["Value"] == [ct.PatientID]
    assert s["00080020"] == {"vr": "DA", "Value": [ct.StudyDate]}
    assert s["00201208"] == {"vr": "IS", "Value": [24]}
    assert s["00201206"] == {"vr": "IS", "Value": [2]}
    assert s["00080061"]["Value"] == ["CT"]
    assert s["00080056"]["Value"] == ["ONLINE"]
    assert s["00081190"]["Value"] == [w.dw + "/studies/" + study]
    assert s["00080005"]["Value"] == ["ISO_IR 192"]

    # Matching: keyword or tag, case-insensitive wildcard names, date ranges, modality, accession.
    by = lambda q: [x["0020000D"]["Value"][0] for x in w.get("/studies?" + q).json()]
    assert by("PatientID=" + ct.PatientID) == [study]
    assert by("00100020=" + ct.PatientID) == [study]
    assert by("PatientName=" + str(ct.PatientName)[:3].lower() + "*") == [study]
    assert by("StudyDate=%s-%s" % (ct.StudyDate, ct.StudyDate)) == [study]
    assert by("StudyDate=-19000101") == []
    assert by("ModalitiesInStudy=CT") == [study]
    assert len(by("ModalitiesInStudy=CT,MR")) == 2
    assert by("AccessionNumber=" + ct.AccessionNumber) == [study]
    assert by("StudyInstanceUID=" + study) == [study]
    # Paging.
    page1, page2 = by("limit=1"), by("limit=1&offset=1")
    assert len(page1) == 1 and len(page2) == 1 and page1 != page2
    r = w.get("/studies?limit=1")
    assert "additional results" in r.headers.get("Warning", "")
    assert by("limit=1&offset=2") == []
    # includefield, fuzzymatching, unsupported attributes.
    r = w.get("/studies?StudyInstanceUID=%s&includefield=all&fuzzymatching=true" % study)
    assert r.status == 200 and "fuzzymatching" in r.headers.get("Warning", "")
    assert r.json()[0]["00081030"]["Value"] == [str(ct.StudyDescription)]
    r = w.get("/studies?PatientAge=040Y")
    assert r.status == 200 and "PatientAge" in r.headers.get("Warning", "")
    assert w.get("/studies?NoSuchAttribute=1").status == 400
    assert w.get("/studies?limit=x").status == 400
    assert w.get("/studies?StudyDate=2020").status == 400
    assert w.get("/studies?StudyInstanceUID=1.2.x").status == 400

    # Series and instances, scoped and not.
    series = w.get("/studies/%s/series" % study).json()
    assert len(series) == 2
    assert all(x["00201209"]["Value"] == [12] for x in series)
    assert {x["00080060"]["Value"][0] for x in series} == {"CT"}
    se = series[0]["0020000E"]["Value"][0]
    assert series[0]["00081190"]["Value"] == [w.dw + "/studies/%s/series/%s" % (study, se)]
    assert len(w.get("/series?Modality=MR").json()) == 1
    insts = w.get("/studies/%s/series/%s/instances" % (study, se)).json()
    assert len(insts) == 12
    assert [i["00200013"]["Value"][0] for i in insts] == list(range(1, 13))
    assert insts[0]["00280010"] == {"vr": "US", "Value": [512]}
    assert len(w.get("/studies/%s/instances" % study).json()) == 24
    one = w.get("/instances?SOPInstanceUID=" + str(ct.SOPInstanceUID)).json()
    assert len(one) == 1 and one[0]["00100020"]["Value"] == [ct.PatientID]  # unscoped: study attributes too
    assert w.get("/studies/1.2.3.999/series").json() == []
    assert w.get("/studies/%s/series" % "1.2.03").status == 400
    assert w.get("/studies", headers={"Accept": "application/dicom+xml"}).status == 406


# ---- WADO-RS retrieve ------------------------------------------------------------------------
def test_wado_rs_retrieve(loaded, ct_study):
    w = loaded
    study, series, _ = uids(ct_study[0])
    by_sop = {uids(f)[2]: f for f in ct_study}

    r = w.get("/studies/" + study)
    assert r.status == 200
    assert r.type.startswith(DICOM_MP) and r.headers.get("Transfer-Encoding") == "chunked"
    parts = parse_multipart(r.type, r.body)
    assert len(parts) == 24
    for headers, data in parts:
        assert headers["content-type"] == "application/dicom; transfer-syntax=" + EXPLICIT_LE
        assert data[128:132] == b"DICM"
        p = Path(w.server.data.parent / "got.dcm")
        p.write_bytes(data)
        sop = str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID)
        assert same_dataset(by_sop[sop], p)

    r = w.get("/studies/%s/series/%s" % (study, series), headers={"Accept": DICOM_MP + "; transfer-syntax=*"})
    assert len(parse_multipart(r.type, r.body)) == 12
    sop = uids(ct_study[3])[2]
    r = w.get("/studies/%s/series/%s/instances/%s" % (study, uids(ct_study[3])[1], sop))
    parts = parse_multipart(r.type, r.body)
    assert len(parts) == 1
    # A bare application/dicom body for one instance; Implicit VR LE on request (transcoded).
    r = w.get("/studies/%s/series/%s/instances/%s" % (study, uids(ct_study[3])[1], sop),
              headers={"Accept": "application/dicom; transfer-syntax=1.2.840.10008.1.2"})
    assert r.status == 200 and r.type.startswith("application/dicom")
    p = w.server.data.parent / "implicit.dcm"
    p.write_bytes(r.body)
    assert pydicom.dcmread(p).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    assert same_dataset(ct_study[3], p)

    # Errors.
    assert w.get("/studies/" + study, headers={"Accept": "application/json"}).status == 406
    assert w.get("/studies/" + study, headers={"Accept": DICOM_MP + "; transfer-syntax=1.2.3.4.5"}).status == 406
    assert w.get("/studies/1.2.3.4.5.6").status == 404
    assert w.get("/studies/%s/series/1.2.3.4" % study).status == 404
    r = w.get("/studies/1.2.abc")
    assert r.status == 400 and r.type.startswith("application/json") and "error" in r.json()
    assert w.get("/studies/%s/series/%s/instances/01.2" % (study, series)).status == 400


# ---- WADO-RS metadata, bulk data, frames, rendered, thumbnails -------------------------------
def test_metadata_and_bulkdata(loaded, ct_study):
    w = loaded
    study, series, sop = uids(ct_study[0])
    src = pydicom.dcmread(ct_study[0])
    r = w.get("/studies/%s/metadata" % study)
    assert r.status == 200 and r.type.startswith("application/dicom+json")
    meta = r.json()
    assert len(meta) == 24
    m = next(x for x in meta if x["00080018"]["Value"][0] == sop)
    assert m["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": str(src.PatientName)}]}
    assert m["00280010"] == {"vr": "US", "Value": [src.Rows]}
    assert m["00280030"]["Value"] == [float(v) for v in src.PixelSpacing]
    assert m["00200032"]["Value"] == [float(v) for v in src.ImagePositionPatient]
    assert m["00281050"]["vr"] == "DS"
    assert m["00083002"]["Value"] == [EXPLICIT_LE]  # AvailableTransferSyntaxUID
    assert "00020010" not in m  # no file meta information
    uri = m["7FE00010"]["BulkDataURI"]
    assert m["7FE00010"]["vr"] == "OW"
    assert uri == w.dw + "/studies/%s/series/%s/instances/%s/bulkdata/7FE00010" % (study, series, sop)
    r = http(uri)
    assert r.status == 200 and 'type="application/octet-stream"' in r.type
    [(h, pixels)] = parse_multipart(r.type, r.body)
    assert pixels == src.PixelData

    assert len(w.get("/studies/%s/series/%s/metadata" % (study, series)).json()) == 12
    one = w.get("/studies/%s/series/%s/instances/%s/metadata" % (study, series, sop)).json()
    assert len(one) == 1 and one[0]["00080018"]["Value"] == [sop]
    assert w.get("/studies/1.2.3.4.5/metadata").status == 404
    assert w.get("/studies/1..2/metadata").status == 400
    assert w.get("/studies/%s/metadata" % study, headers={"Accept": "image/png"}).status == 406


def test_frames_rendered_thumbnails(loaded, ct_study, multiframe):
    w = loaded
    study, series, sop = uids(ct_study[5])
    src = pydicom.dcmread(ct_study[5])
    inst = "/studies/%s/series/%s/instances/%s" % (study, series, sop)

    r = w.get(inst + "/frames/1")
    assert r.status == 200
    [(h, frame)] = parse_multipart(r.type, r.body)
    assert h["content-type"] == "application/octet-stream; transfer-syntax=" + EXPLICIT_LE
    assert frame == src.PixelData
    assert w.get(inst + "/frames/2").status == 404
    assert w.get(inst + "/frames/0").status == 400
    assert w.get(inst + "/frames/x").status == 400
    assert w.get(inst + "/frames/1", headers={"Accept": 'multipart/related; type="image/jls"'}).status == 406

    # A multi-frame instance: frames 2 and 6 in one response.
    storescu(w.server, multiframe)
    mf = pydicom.dcmread(multiframe[0])
    mst, mse, msop = uids(multiframe[0])
    r = w.get("/studies/%s/series/%s/instances/%s/frames/2,6" % (mst, mse, msop))
    parts = parse_multipart(r.type, r.body)
    n = mf.Rows * mf.Columns * mf.BitsAllocated // 8
    assert [p[1] for p in parts] == [mf.PixelData[n:2 * n], mf.PixelData[5 * n:6 * n]]
    assert w.get("/studies/%s/series/%s/instances/%s/frames/7" % (mst, mse, msop)).status == 404
    r = w.get("/studies/%s/series/%s/instances/%s/frames/3/rendered" % (mst, mse, msop),
              headers={"Accept": "image/png"})
    assert png_size(r.body) == (mf.Columns, mf.Rows)

    # Rendered: PNG on request, JPEG by default, window and viewport parameters.
    r = w.get(inst + "/rendered", headers={"Accept": "image/png"})
    assert r.status == 200 and r.type == "image/png"
    assert png_size(r.body) == (512, 512)
    lung = w.get(inst + "/rendered?window=-600,1500,linear", headers={"Accept": "image/png"})
    assert png_size(lung.body) == (512, 512) and lung.body != r.body
    r = w.get(inst + "/rendered?viewport=200,100&accept=image/png")
    assert png_size(r.body) == (100, 100)
    r = w.get(inst + "/rendered")
    assert r.type == "image/jpeg" and r.body[:3] == b"\xff\xd8\xff"
    assert w.get(inst + "/rendered?window=40").status == 400
    assert w.get(inst + "/rendered?viewport=0,10").status == 400
    assert w.get(inst + "/rendered", headers={"Accept": "image/gif"}).status == 406
    # Thumbnails at every level.
    for path in (inst + "/thumbnail", "/studies/%s/series/%s/thumbnail" % (study, series), "/studies/%s/thumbnail" % study):
        r = w.get(path, headers={"Accept": "image/png"})
        assert r.status == 200 and png_size(r.body) == (128, 128), path
    assert w.get("/studies/1.2.3.4/thumbnail").status == 404


def test_wado_uri(loaded, ct_study):
    w = loaded
    study, series, sop = uids(ct_study[2])
    q = "%s/wado?requestType=WADO&studyUID=%s&seriesUID=%s&objectUID=%s" % (w.base, study, series, sop)
    r = http(q)
    assert r.status == 200 and r.type == "image/jpeg" and r.body[:2] == b"\xff\xd8"
    r = http(q + "&contentType=image/png&rows=64&columns=64&windowCenter=40&windowWidth=400")
    assert png_size(r.body) == (64, 64)
    r = http(q + "&contentType=application/dicom")
    assert r.status == 200 and r.type == "application/dicom"
    p = w.server.data.parent / "wado-uri.dcm"
    p.write_bytes(r.body)
    assert same_dataset(ct_study[2], p)
    assert http(q.replace("requestType=WADO", "requestType=X")).status == 400
    assert http(q + "&contentType=text/html").status == 406
    assert http(q.replace(sop, "1.2.3.4.5")).status == 404
    assert http(q.replace(sop, "1.2.3.a")).status == 400
    assert http(q + "&windowCenter=40").status == 400


# ---- STOW-RS ---------------------------------------------------------------------------------
def test_stow_rs(web, tmp_path):
    w = web
    files = gen("mr", tmp_path / "stow", patients=1, studies_per_patient=1, series=1, slices=4, seed=21, first_patient=7)
    study, series, _ = uids(files[0])
    body, ctype = multipart_body(files)
    r = w.get("/studies", method="POST", data=body, headers={"Content-Type": ctype, "Accept": "application/dicom+json"})
    assert r.status == 200, r.body
    assert r.type.startswith("application/dicom+json")
    res = r.json()
    assert res["00081190"]["Value"] == [w.dw + "/studies/" + study]
    refs = res["00081199"]["Value"]
    assert sorted(x["00081155"]["Value"][0] for x in refs) == sorted(uids(f)[2] for f in files)
    assert all(x["00081150"]["Value"][0] == "1.2.840.10008.5.1.4.1.1.4" for x in refs)
    assert "Value" not in res["00081198"]

    # Round trip: the stored bytes come back identical, whatever tier.
    for f in files:
        r = http(refs[0]["00081190"]["Value"][0].rsplit("/instances/", 1)[0] + "/instances/" + uids(f)[2],
                 headers={"Accept": DICOM_MP + "; transfer-syntax=*"})
        [(h, data)] = parse_multipart(r.type, r.body)
        assert data == Path(f).read_bytes()
    assert len(w.get("/studies/%s/series/%s/instances" % (study, series)).json()) == 4

    # The same again to the study's URL: identical instances are fine.
    r = w.get("/studies/" + study, method="POST", data=body, headers={"Content-Type": ctype})
    assert r.status == 200
    # Other bytes under a stored SOP Instance UID: kept, with a warning (202, B006).
    ds = pydicom.dcmread(files[0])
    ds.SeriesDescription = "changed"
    changed = tmp_path / "changed.dcm"
    ds.save_as(changed)
    r = w.get("/studies", method="POST", data=multipart_body([changed])[0], headers={"Content-Type": ctype})
    assert r.status == 202
    assert r.json()["00081199"]["Value"][0]["00081196"]["Value"] == [0xB006]
    # An instance of another study sent to this study's URL: 409, FailedSOPSequence A900.
    other = gen("mr", tmp_path / "other", patients=1, studies_per_patient=1, series=1, slices=1, seed=22,
                first_patient=8)
    r = w.get("/studies/" + study, method="POST", data=multipart_body(other)[0], headers={"Content-Type": ctype})
    assert r.status == 409
    failed = r.json()["00081198"]["Value"]
    assert failed[0]["00081197"]["Value"] == [0xA900] and failed[0]["00081155"]["Value"] == [uids(other[0])[2]]
    assert w.get("/studies/" + uids(other[0])[0]).status == 404  # not stored
    # One good part and one that is not DICOM: 202 with both sequences.
    good = gen("mr", tmp_path / "good", patients=1, studies_per_patient=1, series=1, slices=1, seed=23,
               first_patient=9)
    r = w.get("/studies", method="POST", data=multipart_body([good[0], b"not dicom at all" * 20])[0],
              headers={"Content-Type": ctype})
    assert r.status == 202
    assert len(r.json()["00081199"]["Value"]) == 1
    assert r.json()["00081198"]["Value"][0]["00081197"]["Value"] == [0xC000]
    # Media types and framing.
    assert w.get("/studies", method="POST", data=b"x", headers={"Content-Type": "application/dicom"}).status == 415
    assert w.get("/studies", method="POST", data=body,
                 headers={"Content-Type": 'multipart/related; type="application/dicom+json"; boundary=b'}).status == 415
    # Cut short after some parts: those are stored and reported, the broken one failed (PS3.18 10.5.3).
    r = w.get("/studies", method="POST", data=body[:len(body) // 2], headers={"Content-Type": ctype})
    assert r.status == 202 and r.json()["00081198"]["Value"][0]["00081197"]["Value"] == [0xC000]
    assert w.get("/studies", method="POST", data=body[:200], headers={"Content-Type": ctype}).status == 400
    assert w.get("/studies", method="POST", data=b"", headers={"Content-Type": ctype}).status == 400
    assert w.get("/studies/1.2.x", method="POST", data=body, headers={"Content-Type": ctype}).status == 400
    assert w.get("/studies", method="POST", data=body,
                 headers={"Content-Type": ctype, "Accept": "application/dicom+xml"}).status == 406
    assert not [p for p in (w.server.data / "hot" / ".incoming").rglob("*") if p.is_file()], "temp files left"


# ---- the cold tier -----------------------------------------------------------------------------
def test_reads_from_packs_and_503_without_cold_store(loaded, ct_study):
    w = loaded
    study, series, sop = uids(ct_study[0])
    migrate(w.server)  # JPEG-LS lossless packs
    tiers = http(w.base + "/api/studies/%s/tiers" % study).json()
    assert tiers["tier"] == "packed" and tiers["cold_instances"] == 24
    assert tiers["syntaxes"][0]["uid"] == JPEG_LS and tiers["syntaxes"][0]["compressed"]
    assert all(s["tier"] == "packed" for s in tiers["series"]) and len(tiers["pack_objects"]) == 1

    # Default syntax: decoded from the pack, lossless.
    by_sop = {uids(f)[2]: f for f in ct_study}
    r = w.get("/studies/%s/series/%s" % (study, series))
    parts = parse_multipart(r.type, r.body)
    assert len(parts) == 12
    for h, data in parts:
        assert h["content-type"].endswith(EXPLICIT_LE)
        p = w.server.data.parent / "from-pack.dcm"
        p.write_bytes(data)
        got = pydicom.dcmread(p)
        assert got.PixelData == pydicom.dcmread(by_sop[str(got.SOPInstanceUID)]).PixelData
    # As stored: JPEG-LS.
    r = w.get("/studies/%s/series/%s/instances/%s" % (study, series, sop),
              headers={"Accept": DICOM_MP + "; transfer-syntax=*"})
    [(h, data)] = parse_multipart(r.type, r.body)
    assert h["content-type"].endswith(JPEG_LS)
    meta = w.get("/studies/%s/series/%s/metadata" % (study, series)).json()
    assert len(meta) == 12 and meta[0]["00083002"]["Value"] == [JPEG_LS] and meta[0]["7FE00010"]["vr"] == "OB"
    r = w.get("/studies/%s/series/%s/instances/%s/frames/1" % (study, series, sop))
    assert parse_multipart(r.type, r.body)[0][1] == pydicom.dcmread(by_sop[sop]).PixelData
    r = w.get("/studies/%s/series/%s/instances/%s/rendered" % (study, series, sop), headers={"Accept": "image/png"})
    assert png_size(r.body) == (512, 512)

    # The cold store goes away: 503 (with Retry-After), not 404; it comes back: 200.
    cold = w.server.data / "cold"
    away = w.server.data / "cold.away"
    cold.rename(away)
    try:
        for path in ("/studies/" + study, "/studies/%s/series/%s/instances/%s/rendered" % (study, series, sop),
                     "/studies/%s/series/%s/instances/%s/frames/1" % (study, series, sop)):
            r = w.get(path)
            assert r.status == 503, (path, r.status, r.body[:200])
            assert r.headers.get("Retry-After") and "error" in r.json()
        other = next(f for f in ct_study if uids(f)[1] != series)  # its headers were never read
        r = w.get("/studies/%s/series/%s/metadata" % (study, uids(other)[1]))
        assert r.status == 503
        assert w.get("/studies/" + study + "/series").status == 200  # QIDO needs no pack
    finally:
        away.rename(cold)
    assert w.get("/studies/" + study).status == 200


# ---- access --------------------------------------------------------------------------------------
def test_bearer_auth(web_factory, ct_study):
    w = web_factory(extra=["--web-auth", "bearer:t0ken"])
    r = w.get("/studies")
    assert r.status == 401 and r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert w.get("/studies", headers={"Authorization": "Bearer wrong"}).status == 401
    assert w.get("/studies", headers={"Authorization": "Bearer t0ken"}).status == 200
    assert http(w.base + "/api/stats").status == 401
    assert http(w.base + "/api/stats", headers={"Authorization": "Bearer t0ken"}).status == 200
    # STOW without credentials: the body (12 MB here) is read and dropped, the client gets the 401.
    body, ctype = multipart_body(ct_study)
    r = w.get("/studies", method="POST", data=body, headers={"Content-Type": ctype})
    assert r.status == 401 and r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert w.get("/studies", headers={"Authorization": "Bearer t0ken"}).json() == []  # nothing stored
    # A client that asks first (Expect: 100-continue) gets the 401 before it sends the body.
    c = httpclient.HTTPConnection("127.0.0.1", w.server.http_port, timeout=30)
    c.putrequest("POST", "/dicomweb/studies")
    c.putheader("Content-Type", ctype)
    c.putheader("Content-Length", str(len(body)))
    c.putheader("Expect", "100-continue")
    c.endheaders()
    resp = c.getresponse()
    assert resp.status == 401 and resp.getheader("WWW-Authenticate", "").startswith("Bearer")
    c.close()
    r = w.get("/studies", method="POST", data=body, headers={"Content-Type": ctype, "Authorization": "Bearer t0ken"})
    assert r.status == 200 and len(r.json()["00081199"]["Value"]) == 24
    # The page and its assets need credentials too when auth is on (issue #17).
    assert http(w.base + "/").status == 401
    assert http(w.base + "/assets/app.js").status == 401
    r = http(w.base + "/", headers={"Authorization": "Bearer t0ken"})
    assert r.status == 200 and b"<html" in r.body
    assert http(w.base + "/assets/app.js", headers={"Authorization": "Bearer t0ken"}).status == 200


def test_basic_auth(web_factory):
    w = web_factory(extra=["--web-auth", "basic:ann:s3cret"])
    r = w.get("/studies")
    assert r.status == 401 and r.headers.get("WWW-Authenticate", "").startswith("Basic")
    import base64
    good = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    bad = "Basic " + base64.b64encode(b"ann:nope").decode()
    assert w.get("/studies", headers={"Authorization": good}).status == 200
    assert w.get("/studies", headers={"Authorization": bad}).status == 401


def test_cors(web_factory):
    w = web_factory(extra=["--web-cors-origins", "http://viewer.example", "--web-auth", "bearer:abc"])
    pre = http(w.dw + "/studies", method="OPTIONS",
               headers={"Origin": "http://viewer.example", "Access-Control-Request-Method": "GET",
                        "Access-Control-Request-Headers": "authorization, accept"})
    assert pre.status == 204  # preflight: no credentials needed
    assert pre.headers["Access-Control-Allow-Origin"] == "http://viewer.example"
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert "authorization" in pre.headers["Access-Control-Allow-Headers"].lower()
    r = w.get("/studies", headers={"Origin": "http://viewer.example", "Authorization": "Bearer abc"})
    assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "http://viewer.example"
    assert "Warning" in r.headers["Access-Control-Expose-Headers"]
    r = w.get("/studies", headers={"Origin": "http://evil.example", "Authorization": "Bearer abc"})
    assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers
    pre = http(w.dw + "/studies", method="OPTIONS",
               headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in pre.headers


# ---- the page, the API, the log -------------------------------------------------------------------
def test_page_api_and_request_log(loaded, ct_study):
    w = loaded
    study = study_uid_of(ct_study)
    r = http(w.base + "/")
    assert r.status == 200 and r.type.startswith("text/html") and b"/assets/app.js" in r.body
    for name, ctype in (("app.js", "application/javascript"), ("app.css", "text/css")):
        r = http(w.base + "/assets/" + name)
        assert r.status == 200 and r.type.startswith(ctype) and len(r.body) > 1000
        assert http(w.base + "/assets/" + name, headers={"If-None-Match": r.headers["ETag"]}).status == 304
    assert http(w.base + "/assets/nope.js").status == 404
    stats = http(w.base + "/api/stats").json()
    assert stats["studies"] == 2 and stats["instances"] == 29 and stats["hot_instances"] == 29
    assert stats["hot_bytes"] > sum(f.stat().st_size for f in ct_study) * 0.9
    studies = http(w.base + "/api/studies?limit=10").json()
    s = next(x for x in studies if x["study_uid"] == study)
    assert s["instances"] == 24 and s["hot_instances"] == 24 and s["tier"] == "hot" and s["series"] == "2"
    # Paged by the catalog, newest first: two pages of one give the one page of ten, in order.
    whole = http(w.base + "/api/studies?limit=10")
    assert whole.headers["X-Total-Count"] == "2"
    pages = [http(w.base + "/api/studies?limit=1&offset=%d" % i) for i in (0, 1)]
    assert all(p.headers["X-Total-Count"] == "2" for p in pages)
    assert [x["study_uid"] for p in pages for x in p.json()] == [x["study_uid"] for x in studies]
    keys = [(x["study_date"] or "0", x["study_time"]) for x in studies]
    assert keys == sorted(keys, reverse=True), keys
    assert http(w.base + "/api/studies?limit=1&offset=2").json() == []
    tiers = http(w.base + "/api/studies/%s/tiers" % study).json()
    assert [x["instances"] for x in tiers["series"]] == [12, 12] and tiers["tier"] == "hot"
    assert http(w.base + "/api/studies/1.2.3/tiers").status == 404
    assert http(w.base + "/api/studies/1.x/tiers").status == 400
    queue = http(w.base + "/api/queue").json()
    assert {q["study_uid"] for q in queue} >= {study}
    migrate(w.server, "--study", study)
    migs = http(w.base + "/api/migrations").json()
    assert migs[0]["study_uid"] == study and migs[0]["state"] == "done"
    assert http(w.base + "/nope").status == 404 and http(w.base + "/nope").json()["status"] == 404

    # One structured line per request, without the query string (it carries names and IDs).
    w.get("/studies?PatientName=SECRET*")
    time.sleep(0.2)
    lines = [l for l in w.server.log_text().splitlines() if "event=http " in l]
    assert any(re.search(r"method=GET path=/dicomweb/studies status=200 bytes=\d+ ms=[\d.]+ peer=127\.0\.0\.1:\d+", l)
               for l in lines)
    assert not any("SECRET" in l for l in lines)
    assert any("status=404" in l for l in lines)


# ---- a big series: /metadata from the catalog + headers, and streaming throughput -------------------
def test_metadata_of_360_instances(web, tmp_path, capsys):
    w = web
    files = gen("ct", tmp_path / "big", patients=1, studies_per_patient=1, series=1, slices=360, seed=31,
                first_patient=20)
    storescu(w.server, files)
    study, series, _ = uids(files[0])
    url = "/studies/%s/series/%s/metadata" % (study, series)
    t0 = time.perf_counter()
    r = w.get(url)
    cold_ms = (time.perf_counter() - t0) * 1000
    assert r.status == 200 and len(r.json()) == 360
    t0 = time.perf_counter()
    r2 = w.get(url)
    warm_ms = (time.perf_counter() - t0) * 1000
    assert r2.body == r.body
    assert {m["00200013"]["Value"][0] for m in r.json()} == set(range(1, 361))
    t0 = time.perf_counter()
    r = w.get("/studies/%s/series/%s" % (study, series), headers={"Accept": DICOM_MP + "; transfer-syntax=*"})
    secs = time.perf_counter() - t0
    parts = parse_multipart(r.type, r.body)
    assert len(parts) == 360
    mb = len(r.body) / 1e6
    with capsys.disabled():
        print("\n[info] /metadata of a 360-instance series: %.0f ms (first, %d KB), %.0f ms (cached); "
              "WADO-RS series: %.0f MB in %.2f s = %.0f MB/s" % (cold_ms, len(r2.body) // 1024, warm_ms, mb, secs,
                                                                  mb / secs))


# ---- real clients ----------------------------------------------------------------------------------
def npm_ready():
    if shutil.which("node") is None:
        pytest.skip("node is not installed (apt-get install nodejs npm): the dicomweb-client and browser tests need it")
    pkg = json.loads((BROWSER_DIR / "package.json").read_text())
    if not all((BROWSER_DIR / "node_modules" / dep).is_dir() for dep in pkg["dependencies"]):
        assert shutil.which("npm"), "node is installed but npm is not (apt-get install npm)"
        run(["npm", "install", "--no-audit", "--no-fund", "--prefix", BROWSER_DIR], timeout=600)


def test_dicomweb_client_node(web, tmp_path):
    npm_ready()
    files = gen("mr", tmp_path / "dwc", patients=1, studies_per_patient=1, series=1, slices=6, seed=41,
                first_patient=30)
    p = run(["node", BROWSER_DIR / "dicomweb-client.cjs", web.dw, *files], check=False, timeout=300)
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "all ok" in p.stdout and "FAIL" not in p.stdout


def test_browser_chromium(loaded, ct_study, tmp_path, capsys):
    npm_ready()
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.fail("chromium is not installed (apt-get install chromium)")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    name = str(pydicom.dcmread(ct_study[0], stop_before_pixels=True).PatientName).split("^")[0]
    p = run(["node", BROWSER_DIR / "browser.cjs", loaded.base, shots, study_uid_of(ct_study), name[:4], "2"],
            check=False, timeout=300)
    with capsys.disabled():
        print("\n" + p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    pngs = sorted(shots.glob("*.png"))
    assert len(pngs) == 7
    for png in pngs:
        w, h = png_size(png.read_bytes())
        assert w >= 1280 and h >= 800, png

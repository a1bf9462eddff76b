"""Issue 12 end to end: every pydicom charset file (re-UID'ed) goes in with DCMTK's storescu and
comes back decoded over C-FIND (DCMTK findscu and a raw-PDU peer that is not DCMTK), QIDO-RS
and /metadata, is retrieved bit-identical over WADO-RS, and survives `strata migrate`.
pydicom is the reference decoder: the expected text is what pydicom reads from the original."""
import json
import sqlite3
import urllib.parse
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.uid import generate_uid

import rawdimse
from conftest import STRATA, free_port, run, storescu
from test_web import Web, parse_multipart, wait_http

PYDICOM_DATA = Path("/usr/lib/python3/dist-packages/pydicom/data")
CHARSET_DIR = PYDICOM_DATA / "charset_files"
UID_PREFIX = "1.2.826.0.1.3680043.8.498."
MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ALL_FILES = sorted(p.name for p in CHARSET_DIR.glob("chr*.dcm"))


def reuid(src, out_dir, tag):
    """A copy of SRC with its own Study/Series/SOP UIDs and PatientID; every other element keeps
    its original bytes (pydicom writes raw elements it never decoded as they were)."""
    ds = pydicom.dcmread(src)
    ds.StudyInstanceUID = generate_uid(UID_PREFIX, [tag, "study"])
    ds.SeriesInstanceUID = generate_uid(UID_PREFIX, [tag, "series"])
    ds.SOPInstanceUID = generate_uid(UID_PREFIX, [tag, "sop"])
    if "SOPClassUID" not in ds:  # chrSQEncoding*: minimal data sets
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    elif ds.get_item(0x00080016).VR == "UN":  # rtdose_rle: storescu must find it; the rest stays UN
        ds.SOPClassUID = str(ds.SOPClassUID)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientID = "CS-" + tag
    out = Path(out_dir) / (tag + ".dcm")
    ds.save_as(out, write_like_original=True)
    orig = pydicom.dcmread(src)
    if 0x00100010 in orig:  # the name's bytes are the original ones
        assert pydicom.dcmread(out).get_item(0x00100010).value == orig.get_item(0x00100010).value
    return out


def expected_name(path):
    """The PatientName as pydicom decodes it (component groups joined with '=')."""
    ds = pydicom.dcmread(path)
    return str(ds.PatientName) if "PatientName" in ds else ""


def dataset_bytes(path):
    """The data set bytes of a Part 10 file (after the meta group)."""
    raw = Path(path).read_bytes()
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    meta_len = ds.file_meta.FileMetaInformationGroupLength
    return raw[132 + 12 + meta_len:]


def json_pn(value):
    """A DICOM JSON PN value as the '='-joined string pydicom shows."""
    groups = [value.get(g, "") for g in ("Alphabetic", "Ideographic", "Phonetic")]
    while groups and groups[-1] == "":
        groups.pop()
    return "=".join(groups)


def stored_ok(p, n):
    out = p.stdout + p.stderr
    assert out.count("Received Store Response (Success)") == n, out[-3000:]


@pytest.fixture(scope="module")
def charset_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("charsets")
    files = {}
    for name in ALL_FILES:
        tag = Path(name).stem
        files[tag] = reuid(CHARSET_DIR / name, d, tag)
    return files


def start_web(server_factory, extra=()):
    s = server_factory(http_port=free_port(), extra=["--tiering-enabled", "false", *extra])
    wait_http(s.http_port)
    return Web(s)


def findscu_file(server, query_ds, root="-S", tmp=None):
    """findscu with a query data set file (so the keys keep their character set's bytes)."""
    q = Path(tmp) / "query.dcm"
    query_ds.is_little_endian, query_ds.is_implicit_VR = True, False
    pydicom.dataset.FileDataset(q, query_ds, file_meta=pydicom.dataset.FileMetaDataset(), preamble=b"\0" * 128)
    query_ds.save_as(q, write_like_original=True)
    out = Path(tmp) / "rsp"
    out.mkdir(exist_ok=True)
    for f in out.glob("*"):
        f.unlink()
    run(["findscu", root, "-aec", server.aet, "-X", "-od", out, *server.addr(), q])
    return [pydicom.dcmread(f) for f in sorted(out.glob("rsp*.dcm"))]


def raw_find(server, query_ds, sop_class=rawdimse.STUDY_ROOT_FIND):
    """C-FIND over raw PDUs (no DCMTK on this side); returns the decoded answers."""
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, query_ds)
    a = rawdimse.FindAssociation("127.0.0.1", server.port, sop_class=sop_class)
    try:
        status, answers = a.find(buf.getvalue())
    finally:
        a.release()
    assert status == 0x0000, hex(status)
    out = []
    for b in answers:
        ds = read_dataset(BytesIO(b), is_implicit_VR=False, is_little_endian=True)
        ds.decode()
        out.append(ds)
    return out


def name_query(level, charset=None, **keys):
    q = pydicom.Dataset()
    if charset:
        q.SpecificCharacterSet = charset
    q.QueryRetrieveLevel = level
    q.PatientName = keys.pop("PatientName", "")
    q.PatientID = keys.pop("PatientID", "")
    if level != "PATIENT":
        q.StudyInstanceUID = keys.pop("StudyInstanceUID", "")
    for k, v in keys.items():
        setattr(q, k, v)
    return q


def check_everything_found(web, files, tmp_path, label):
    """C-FIND (findscu and raw, patient and study level), QIDO and /metadata give each file's
    name as pydicom decodes it, and WADO-RS gives its data set bytes unchanged."""
    server = web.server
    for tag, path in files.items():
        want = expected_name(path)
        ds = pydicom.dcmread(path)
        study = str(ds.StudyInstanceUID)
        # DCMTK findscu, study root, no character set asked: UTF-8 answers (ISO_IR 192).
        rsp = findscu_file(server, name_query("STUDY", StudyInstanceUID=study), tmp=tmp_path)
        assert len(rsp) == 1, (label, tag)
        assert str(rsp[0].PatientName) == want, (label, tag, str(rsp[0].PatientName), want)
        if any(ord(c) > 127 for c in want):
            assert rsp[0].SpecificCharacterSet == "ISO_IR 192", (label, tag)
        # Patient root at PATIENT level.
        rsp = findscu_file(server, name_query("PATIENT", PatientID="CS-" + tag), root="-P", tmp=tmp_path)
        assert [str(r.PatientName) for r in rsp] == [want], (label, tag)
        # A peer that is not DCMTK (raw PDUs, pydicom decoding the answer).
        got = raw_find(server, name_query("STUDY", StudyInstanceUID=study))
        assert [str(g.PatientName) for g in got] == [want], (label, tag)
        got = raw_find(server, name_query("PATIENT", PatientID="CS-" + tag), sop_class=rawdimse.PATIENT_ROOT_FIND)
        assert [str(g.PatientName) for g in got] == [want], (label, tag)
        # QIDO-RS and /metadata: UTF-8 JSON.
        r = web.get("/studies?StudyInstanceUID=" + study)
        assert r.status == 200, (label, tag, r.status)
        hits = r.json()
        assert len(hits) == 1
        pn = hits[0].get("00100010", {}).get("Value", [{}])[0]
        assert json_pn(pn) == want, (label, tag, pn, want)
        meta = web.get("/studies/%s/metadata" % study)
        assert meta.status == 200
        m = meta.json()[0]
        assert json_pn(m.get("00100010", {}).get("Value", [{}])[0]) == want, (label, tag)
        # WADO-RS: the data set bytes as sent.
        w = web.get("/studies/%s/series/%s/instances/%s" % (study, ds.SeriesInstanceUID, ds.SOPInstanceUID))
        assert w.status == 200, (label, tag, w.status)
        parts = parse_multipart(w.type, w.body)
        assert len(parts) == 1
        got_file = tmp_path / "wado.dcm"
        got_file.write_bytes(parts[0][1])
        assert dataset_bytes(got_file) == dataset_bytes(path), (label, tag, "bytes differ")


def test_every_charset_file_end_to_end(server_factory, charset_files, tmp_path):
    web = start_web(server_factory)
    server = web.server
    p = storescu(server, list(charset_files.values()))
    stored_ok(p, len(charset_files))
    check_everything_found(web, charset_files, tmp_path, "hot")

    # Multi-valued PN/LO (chrFrenMulti) and a sequence item with its own character set
    # (chrSQEncoding: ISO 2022 IR 13/87 inside an ISO_IR 192 data set; chrSQEncoding1: the item
    # inherits the data set's) in /metadata.
    for tag in ("chrSQEncoding", "chrSQEncoding1"):
        ref = pydicom.dcmread(charset_files[tag])
        want = str(ref.RequestedProcedureCodeSequence[0].PatientName)
        m = web.get("/studies/%s/metadata" % ref.StudyInstanceUID).json()[0]
        item = m["00321064"]["Value"][0]
        assert json_pn(item["00100010"]["Value"][0]) == want, (tag, item)
        assert json_pn(m["00321032"]["Value"][0]) == str(ref.RequestingPhysician)
    ref = pydicom.dcmread(charset_files["chrFrenMulti"])
    m = web.get("/studies/%s/metadata" % ref.StudyInstanceUID).json()[0]
    assert [json_pn(v) for v in m["00101001"]["Value"]] == [str(v) for v in ref.OtherPatientNames]
    assert m["00101000"]["Value"] == list(ref.OtherPatientIDs)

    # Finding by name: QIDO with a UTF-8 wildcard, C-FIND with the name in Latin-1.
    germ = str(pydicom.dcmread(charset_files["chrGerm"]).StudyInstanceUID)
    hits = web.get("/studies?PatientName=%C3%84neas*").json()
    assert [h["0020000D"]["Value"][0] for h in hits] == [germ]
    for charset in ("ISO_IR 100", "ISO_IR 192", None):
        q = name_query("STUDY", charset=charset, PatientName="Äneas*")
        if charset is None:  # no charset: a UTF-8 sender that forgot the attribute
            q.PatientName = "Äneas*"
        rsp = findscu_file(server, q, tmp=tmp_path)
        assert [r.StudyInstanceUID for r in rsp] == [germ], charset
        assert str(rsp[0].PatientName) == "Äneas^Rüdiger"
        # Answered in the requester's character set when it asked and the name fits it.
        assert rsp[0].SpecificCharacterSet == (charset or "ISO_IR 192"), charset
    # Greek asked in Latin-1 does not fit: UTF-8 answer.
    greek = pydicom.dcmread(charset_files["chrGreek"])
    rsp = findscu_file(server, name_query("STUDY", charset="ISO_IR 100", StudyInstanceUID=greek.StudyInstanceUID),
                       tmp=tmp_path)
    assert rsp[0].SpecificCharacterSet == "ISO_IR 192" and str(rsp[0].PatientName) == str(greek.PatientName)
    # A Japanese name asked for in ISO 2022 IR 87 (the key itself in JIS escapes).
    h31 = pydicom.dcmread(charset_files["chrH31"])
    q = name_query("STUDY", charset=["", "ISO 2022 IR 87"], PatientName="Yamada^Tarou=山田^太郎=やまだ^たろう")
    got = raw_find(server, q)
    assert [g.StudyInstanceUID for g in got] == [h31.StudyInstanceUID]

    # Packed: the same answers from the cold tier; retrieval still bit-identical.
    p = run([STRATA, "migrate", "--data", server.data, "--older-than", "0s", "--tiering-codec", "none"])
    assert "migrated %d studies" % len(charset_files) in p.stdout, p.stdout
    check_everything_found(web, charset_files, tmp_path, "cold")
    # The manifests are UTF-8 JSON holding the decoded names.
    import zipfile
    names = {}
    for pack in (server.data / "cold").rglob("*.zip"):
        with zipfile.ZipFile(pack) as z:
            study = json.loads(z.read("strata-manifest.json").decode("utf-8"))["study"]
            names[study["StudyInstanceUID"]] = study["PatientName"]
    for tag, path in charset_files.items():
        # The manifest keeps the value as decoded (an empty trailing group's '=' included).
        got = names[str(pydicom.dcmread(path).StudyInstanceUID)]
        assert got.rstrip("=") == expected_name(path), (tag, got)


def test_latin1_query_finds_utf8_name_and_reverse(server_factory, tmp_path):
    web = start_web(server_factory)
    # The same person written in UTF-8 by one modality and in Latin-1 by another.
    utf8 = pydicom.dcmread(CHARSET_DIR / "chrGerm.dcm")
    utf8.SpecificCharacterSet = "ISO_IR 192"
    utf8.PatientName = "Müller^Jürgen"
    latin = pydicom.dcmread(CHARSET_DIR / "chrFren.dcm")
    files = []
    for tag, ds in (("utf8", utf8), ("latin", latin)):
        ds.StudyInstanceUID = generate_uid(UID_PREFIX, [tag, "x-study"])
        ds.SeriesInstanceUID = generate_uid(UID_PREFIX, [tag, "x-series"])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(UID_PREFIX, [tag, "x-sop"])
        ds.PatientID = "X-" + tag
        files.append(tmp_path / (tag + ".dcm"))
        ds.save_as(files[-1], write_like_original=True)
    assert b"M\xc3\xbcller" in files[0].read_bytes() and b"J\xe9r\xf4me" in files[1].read_bytes()
    stored_ok(storescu(web.server, files), 2)
    # Latin-1 query -> the UTF-8 stored name; UTF-8 query -> the Latin-1 stored name.
    for charset, name, study in (("ISO_IR 100", "Müller*", utf8.StudyInstanceUID),
                                 ("ISO_IR 192", "Buc^Jérôme", latin.StudyInstanceUID)):
        q = name_query("STUDY", charset=charset, PatientName=name)
        assert [r.StudyInstanceUID for r in findscu_file(web.server, q, tmp=tmp_path)] == [study], charset
        assert [g.StudyInstanceUID for g in raw_find(web.server, q)] == [study], charset
    # QIDO: UTF-8 percent-encoded.
    hits = web.get("/studies?PatientName=" + urllib.parse.quote("Buc^Jér*")).json()
    assert [h["0020000D"]["Value"][0] for h in hits] == [latin.StudyInstanceUID]


def test_un_vr_attributes_catalogued_with_dictionary_vr(server_factory, tmp_path):
    web = start_web(server_factory)
    src = PYDICOM_DATA / "test_files" / "rtdose_rle.dcm"
    raw = pydicom.dcmread(src)
    assert raw.get_item(0x00100010).VR == "UN"  # every attribute of it is sent as UN
    # Its header in Explicit VR Little Endian without its pixels (whose RLE stream DCMTK
    # refuses: odd length), the UN elements as they are, new UIDs.
    del raw.PixelData
    raw.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    src = tmp_path / "rtdose_un.dcm"
    raw.save_as(src, write_like_original=True)
    f = reuid(src, tmp_path, "rtdose")
    assert pydicom.dcmread(f).get_item(0x00100010).VR == "UN"
    assert b"UN\0\0\x12\0\0\0Lastname^Firstname" in f.read_bytes()
    stored_ok(storescu(web.server, [f]), 1)
    ds = pydicom.dcmread(f)
    hits = web.get("/studies?StudyInstanceUID=" + ds.StudyInstanceUID).json()
    assert len(hits) == 1
    assert json_pn(hits[0]["00100010"]["Value"][0]) == str(ds.PatientName) == "Lastname^Firstname"
    rsp = findscu_file(web.server, name_query("STUDY", StudyInstanceUID=ds.StudyInstanceUID), tmp=tmp_path)
    assert str(rsp[0].PatientName) == "Lastname^Firstname"
    assert [h["0020000D"]["Value"][0] for h in web.get("/studies?PatientName=Lastname*").json()] == \
        [ds.StudyInstanceUID]


def undecodable_file(tmp_path, tag, name_bytes, charset="ISO_IR 192"):
    ds = pydicom.dcmread(CHARSET_DIR / "chrGerm.dcm")
    ds.SpecificCharacterSet = charset
    ds.StudyInstanceUID = generate_uid(UID_PREFIX, [tag, "u-study"])
    ds.SeriesInstanceUID = generate_uid(UID_PREFIX, [tag, "u-series"])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(UID_PREFIX, [tag, "u-sop"])
    ds.PatientID = "U-" + tag
    ds.add(pydicom.DataElement(0x00100010, "PN", name_bytes))  # bytes: written unconverted
    out = tmp_path / (tag + ".dcm")
    ds.save_as(out, write_like_original=True)
    assert name_bytes in out.read_bytes()
    return out, ds


def escaped(b):
    """Strata's lossless escape of one undecodable byte (util/utf8.h): U+EF00 + byte."""
    return chr(0xEF00 + b)


def escape_invalid_utf8(raw):
    """RAW as UTF-8 with each byte that is not part of a valid sequence escaped."""
    def handler(e):
        return "".join(escaped(b) for b in e.object[e.start:e.end]), e.end
    import codecs
    codecs.register_error("strata-escape", handler)
    return raw.decode("utf-8", errors="strata-escape")


def test_undecodable_bytes_stored_escaped_logged_once(server_factory, tmp_path):
    web = start_web(server_factory)
    # Invalid UTF-8 under ISO_IR 192 (Latin-1 bytes), and an unknown term.
    files = [undecodable_file(tmp_path, "bad%d" % i, b"M\xfcller^Bad%d" % i) for i in range(3)]
    files.append(undecodable_file(tmp_path, "unknown", b"Smith^Unknown", charset="ISO_IR 999"))
    stored_ok(storescu(web.server, [f for f, _ in files]), 4)
    for i in range(3):
        ds = files[i][1]
        want = "M" + escaped(0xFC) + "ller^Bad%d" % i
        hits = web.get("/studies?StudyInstanceUID=" + ds.StudyInstanceUID).json()
        assert json_pn(hits[0]["00100010"]["Value"][0]) == want
        # Retrieval: the bytes as sent.
        w = web.get("/studies/%s/series/%s/instances/%s" % (ds.StudyInstanceUID, ds.SeriesInstanceUID,
                                                           ds.SOPInstanceUID))
        (tmp_path / "w.dcm").write_bytes(parse_multipart(w.type, w.body)[0][1])
        assert dataset_bytes(tmp_path / "w.dcm") == dataset_bytes(files[i][0])
    hits = web.get("/studies?StudyInstanceUID=" + files[3][1].StudyInstanceUID).json()
    assert json_pn(hits[0]["00100010"]["Value"][0]) == "Smith^Unknown"
    # One warning per character set, not one per value or instance.
    log = web.server.log_text()
    warnings = [l for l in log.splitlines() if "event=charset_undecodable" in l]
    assert len(warnings) == 2, warnings
    assert sum('charset="ISO_IR 192"' in l for l in warnings) == 1
    assert sum('charset="ISO_IR 999"' in l for l in warnings) == 1
    # The packed manifest holds the escaped form; migration does not fail.
    p = run([STRATA, "migrate", "--data", web.server.data, "--older-than", "0s", "--tiering-codec", "none"])
    assert "migrated 4 studies" in p.stdout, p.stdout + p.stderr
    hits = web.get("/studies?PatientName=M*Bad1").json()
    assert [h["0020000D"]["Value"][0] for h in hits] == [files[1][1].StudyInstanceUID]


def answers(web, tmp_path, ds):
    rsp = findscu_file(web.server, name_query("STUDY", StudyInstanceUID=ds.StudyInstanceUID), tmp=tmp_path)
    qido = web.get("/studies?StudyInstanceUID=" + ds.StudyInstanceUID)
    assert qido.status == 200, qido.status
    return [str(r.PatientName) for r in rsp], json_pn(qido.json()[0]["00100010"]["Value"][0])


def test_study_whose_migration_failed_before_migrates_now(server_factory, charset_files, tmp_path):
    """A catalog written by an older Strata (the name's raw Latin-1 / Greek / KS X 1001 bytes in
    the name column, and a migration that failed on them) migrates now: the manifest is UTF-8
    with the undecodable bytes escaped, and C-FIND and QIDO answer the same before and after."""
    web = start_web(server_factory)
    server = web.server
    tags = ("chrGerm", "chrGreek", "chrI2")
    stored_ok(storescu(server, [charset_files[t] for t in tags]), len(tags))
    server.stop()
    db = sqlite3.connect(server.data / "catalog.db")
    raw = {}
    for t in tags:
        ds = pydicom.dcmread(charset_files[t])
        raw[t] = ds.get_item(0x00100010).value.rstrip(b" ")
        # What an older Strata catalogued: the bytes as received, as TEXT.
        db.execute("UPDATE patients SET patient_name = CAST(? AS TEXT) WHERE patient_id = ?", (raw[t], "CS-" + t))
        db.execute("INSERT OR REPLACE INTO migrations (study_uid, state, node, lease_until_ms, pack_key, updated_ms,"
                   " error, attempts, claim_token) VALUES (?, 'failed', 'old', 0, '', 0, ?, 1, 1)",
                   (str(ds.StudyInstanceUID), "InvalidArgument: pack study metadata cannot be encoded: "
                    "[json.exception.type_error.316] invalid UTF-8 byte"))
    db.commit()
    db.close()
    server.start()
    # The escaped form of an old row's bytes: valid UTF-8, the ASCII kept, each other byte escaped.
    want = {t: escape_invalid_utf8(raw[t]) for t in tags}
    hot = {}
    for t in tags:
        hot[t] = answers(web, tmp_path, pydicom.dcmread(charset_files[t]))
        assert hot[t] == ([want[t]], want[t]), (t, hot[t], want[t])
    p = run([STRATA, "migrate", "--data", server.data, "--older-than", "0s", "--tiering-codec", "none"])
    assert "migrated %d studies" % len(tags) in p.stdout, p.stdout + p.stderr
    db = sqlite3.connect(server.data / "catalog.db")
    states = dict(db.execute("SELECT study_uid, state FROM migrations").fetchall())
    db.close()
    import zipfile
    manifests = {}
    for pack in (server.data / "cold").rglob("*.zip"):
        with zipfile.ZipFile(pack) as z:
            study = json.loads(z.read("strata-manifest.json").decode("utf-8"))["study"]
            manifests[study["StudyInstanceUID"]] = study["PatientName"]
    for t in tags:
        ds = pydicom.dcmread(charset_files[t])
        assert states[str(ds.StudyInstanceUID)] == "done", t
        assert manifests[str(ds.StudyInstanceUID)] == want[t], t
        assert answers(web, tmp_path, ds) == hot[t], t


def test_pn_match_insensitive_for_cfind_and_qido(server_factory, charset_files, tmp_path):
    """query.pn_match: exact by default ("muller" misses "Müller"); insensitive ignores case
    and accents in C-FIND (DCMTK and raw) and QIDO-RS alike, for names stored in any charset."""
    utf8 = pydicom.dcmread(CHARSET_DIR / "chrGerm.dcm")
    utf8.SpecificCharacterSet = "ISO_IR 192"
    utf8.PatientName = "Müller^Jürgen"
    utf8.StudyInstanceUID = generate_uid(UID_PREFIX, ["pn", "study"])
    utf8.SeriesInstanceUID = generate_uid(UID_PREFIX, ["pn", "series"])
    utf8.SOPInstanceUID = utf8.file_meta.MediaStorageSOPInstanceUID = generate_uid(UID_PREFIX, ["pn", "sop"])
    utf8.PatientID = "PN-1"
    f = tmp_path / "mueller.dcm"
    utf8.save_as(f, write_like_original=True)
    files = [f, charset_files["chrGerm"], charset_files["chrGreek"], charset_files["chrFren"]]
    germ = str(pydicom.dcmread(charset_files["chrGerm"]).StudyInstanceUID)
    greek = pydicom.dcmread(charset_files["chrGreek"])
    fren = str(pydicom.dcmread(charset_files["chrFren"]).StudyInstanceUID)

    def qido(web, name):
        r = web.get("/studies?PatientName=" + urllib.parse.quote(name))
        assert r.status == 200, r.status
        return sorted(h["0020000D"]["Value"][0] for h in r.json())

    def cfind(web, name, charset="ISO_IR 192"):
        q = name_query("STUDY", charset=charset, PatientName=name)
        a = sorted(str(r.StudyInstanceUID) for r in findscu_file(web.server, q, tmp=tmp_path))
        b = sorted(str(g.StudyInstanceUID) for g in raw_find(web.server, q))
        assert a == b, (name, a, b)
        return a

    exact = start_web(server_factory)
    stored_ok(storescu(exact.server, files), len(files))
    assert qido(exact, "muller*") == [] and cfind(exact, "muller*") == []
    assert qido(exact, "Müller*") == [str(utf8.StudyInstanceUID)]
    assert qido(exact, "aneas*") == [] and cfind(exact, "äneas*") == []
    assert cfind(exact, "ÄNEAS*") == [germ]  # ASCII case aside, literal
    exact.server.stop()

    ins = start_web(server_factory, extra=["--query-pn-match", "insensitive"])
    stored_ok(storescu(ins.server, files), len(files))
    assert qido(ins, "muller*") == [str(utf8.StudyInstanceUID)]
    assert cfind(ins, "MULLER^JURGEN") == [str(utf8.StudyInstanceUID)]
    assert cfind(ins, "müller*", charset="ISO_IR 100") == [str(utf8.StudyInstanceUID)]  # a Latin-1 key
    assert qido(ins, "aneas^rudiger") == [germ] and cfind(ins, "ÄNEAS*") == [germ]
    assert qido(ins, "buc^jerome") == [fren]
    assert qido(ins, "ΔΙΟΝΥΣΙΟΣ") == [str(greek.StudyInstanceUID)]
    assert cfind(ins, "διονυσιος", charset="ISO_IR 126") == [str(greek.StudyInstanceUID)]
    # The answers carry the names as stored, not folded.
    rsp = findscu_file(ins.server, name_query("STUDY", PatientName="muller*"), tmp=tmp_path)
    assert [str(r.PatientName) for r in rsp] == ["Müller^Jürgen"]
    # A bad value is refused at start with the key named.
    p = run([STRATA, "serve", "--data", tmp_path / "bad", "--port", free_port(), "--query-pn-match", "fuzzy"],
            check=False, timeout=30)
    assert p.returncode != 0 and "query.pn_match" in p.stdout + p.stderr, p.stdout + p.stderr

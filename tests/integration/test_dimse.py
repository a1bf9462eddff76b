"""The core archive through real DICOM peers: DCMTK's echoscu, storescu, findscu, getscu,
movescu and storescp."""
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid
import pytest

from conftest import (TOOL_ENV, free_port, findscu, run, same_dataset, storescu, study_uid_of)
import rawdimse


def catalog_rows(server):
    import sqlite3
    con = sqlite3.connect(str(server.data / "catalog.db"))
    try:
        return con.execute("SELECT COUNT(*) FROM instances").fetchone()[0]
    finally:
        con.close()


def hot_files(server):
    return sorted(p for p in (server.data / "hot").rglob("*") if p.is_file())


def test_echo_and_no_nagle_needed(server):
    run(["echoscu", "-aec", "STRATA", *server.addr()])
    assert "event=association" in server.log_text()


def test_store_find_get_move_roundtrip(server_factory, ct_study, tmp_path):
    dest_port = free_port()
    server = server_factory(extra=["--dimse-move-destinations", "DEST=127.0.0.1:%d" % dest_port])
    storescu(server, ct_study)
    study = study_uid_of(ct_study)
    first = pydicom.dcmread(ct_study[0], stop_before_pixels=True)

    # C-FIND at every level, both roots.
    pats = findscu(server, "PATIENT", ["PatientID=" + first.PatientID, "PatientName", "NumberOfPatientRelatedStudies",
                                       "NumberOfPatientRelatedInstances"], root="-P")
    assert len(pats) == 1
    assert str(pats[0].PatientName) == str(first.PatientName)
    assert int(pats[0].NumberOfPatientRelatedInstances) == 24
    studies = findscu(server, "STUDY", ["StudyInstanceUID", "PatientID=" + first.PatientID, "ModalitiesInStudy",
                                        "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances", "StudyDate"])
    assert [s.StudyInstanceUID for s in studies] == [study]
    assert studies[0].ModalitiesInStudy == "CT"
    assert int(studies[0].NumberOfStudyRelatedSeries) == 2
    assert int(studies[0].NumberOfStudyRelatedInstances) == 24
    day = str(first.StudyDate)
    assert len(findscu(server, "STUDY", ["StudyInstanceUID", "StudyDate=%s-%s" % (day, day)])) == 1
    assert len(findscu(server, "STUDY", ["StudyInstanceUID", "StudyDate=-19000101"])) == 0
    assert len(findscu(server, "STUDY", ["StudyInstanceUID", "PatientName=" + str(first.PatientName)[:3] + "*"])) == 1
    series = findscu(server, "SERIES", ["StudyInstanceUID=" + study, "SeriesInstanceUID", "Modality",
                                        "NumberOfSeriesRelatedInstances"])
    assert len(series) == 2 and all(int(s.NumberOfSeriesRelatedInstances) == 12 for s in series)
    images = findscu(server, "IMAGE", ["StudyInstanceUID=" + study, "SeriesInstanceUID=" + series[0].SeriesInstanceUID,
                                       "SOPInstanceUID", "InstanceNumber"])
    assert len(images) == 12
    images_p = findscu(server, "IMAGE", ["PatientID=" + first.PatientID, "StudyInstanceUID=" + study,
                                         "SeriesInstanceUID=" + series[1].SeriesInstanceUID, "SOPInstanceUID"],
                       root="-P")
    assert len(images_p) == 12

    # C-GET the study: identical data sets.
    out = tmp_path / "get"
    out.mkdir()
    run(["getscu", "-S", "-aec", "STRATA", "-od", out, "-k", "QueryRetrieveLevel=STUDY",
         "-k", "StudyInstanceUID=" + study, *server.addr()])
    got = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in out.iterdir()}
    assert len(got) == 24
    for f in ct_study:
        sop = pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID
        assert same_dataset(f, got[sop])

    # C-GET one series and one image.
    out2 = tmp_path / "get2"
    out2.mkdir()
    run(["getscu", "-S", "-aec", "STRATA", "-od", out2, "-k", "QueryRetrieveLevel=IMAGE",
         "-k", "StudyInstanceUID=" + study, "-k", "SeriesInstanceUID=" + series[0].SeriesInstanceUID,
         "-k", "SOPInstanceUID=" + images[3].SOPInstanceUID, *server.addr()])
    assert len(list(out2.iterdir())) == 1

    # C-MOVE to a storescp.
    moved = tmp_path / "moved"
    moved.mkdir()
    scp = subprocess.Popen(["storescp", "-aet", "DEST", "-od", str(moved), str(dest_port)], env=TOOL_ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time
        time.sleep(0.3)
        run(["movescu", "-S", "-aec", "STRATA", "-aem", "DEST", "-k", "QueryRetrieveLevel=SERIES",
             "-k", "StudyInstanceUID=" + study, "-k", "SeriesInstanceUID=" + series[1].SeriesInstanceUID,
             *server.addr()])
    finally:
        scp.terminate()
        scp.wait()
    moved_files = list(moved.iterdir())
    assert len(moved_files) == 12
    by_sop = {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID: f for f in ct_study}
    for m in moved_files:
        assert same_dataset(by_sop[pydicom.dcmread(m, stop_before_pixels=True).SOPInstanceUID], m)
    log = server.log_text()
    assert "event=move" in log and "event=get" in log and "event=find" in log


def test_restart_between_store_and_retrieve(server_factory, ct_study, tmp_path):
    server = server_factory()
    storescu(server, ct_study[:6])
    server.stop()
    server.start()
    out = tmp_path / "out"
    out.mkdir()
    run(["getscu", "-S", "-aec", "STRATA", "-od", out, "-k", "QueryRetrieveLevel=STUDY",
         "-k", "StudyInstanceUID=" + study_uid_of(ct_study), *server.addr()])
    assert len(list(out.iterdir())) == 6


def test_unknown_move_destination(server, ct_study):
    storescu(server, ct_study[:1])
    p = run(["movescu", "-v", "-S", "-aec", "STRATA", "-aem", "NOWHERE", "-k", "QueryRetrieveLevel=STUDY",
             "-k", "StudyInstanceUID=" + study_uid_of(ct_study), *server.addr()], check=False)
    assert "MoveDestinationUnknown" in (p.stdout + p.stderr)
    assert server.alive()


def test_compressed_and_varied_sop_classes_stored_as_received(server, tmp_path):
    samples = Path("/usr/lib/python3/dist-packages/pydicom/data/test_files")
    names = ["JPEG2000.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_RLE.dcm", "SC_rgb_rle.dcm", "SC_rgb_jpeg_dcmtk.dcm", "JPEG-LL.dcm",
             "MR_small_bigendian.dcm", "emri_small.dcm"]
    files = []
    for n in names:
        if not (samples / n).exists():
            continue
        ds = pydicom.dcmread(samples / n)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        out = tmp_path / n
        ds.save_as(out, write_like_original=True)
        files.append(out)
    assert len(files) >= 5
    # storescu proposes uncompressed syntaxes unless told: propose each file's own syntax, so
    # that it travels (and must be stored) exactly as it is.
    flag = {"1.2.840.10008.1.2.4.90": "-xv", "1.2.840.10008.1.2.4.91": "-xw", "1.2.840.10008.1.2.4.80": "-xt",
            "1.2.840.10008.1.2.4.81": "-xu", "1.2.840.10008.1.2.5": "-xr", "1.2.840.10008.1.2.4.50": "-xy",
            "1.2.840.10008.1.2.4.70": "-xs", "1.2.840.10008.1.2.4.57": "-xs", "1.2.840.10008.1.2.2": "-xb",
            "1.2.840.10008.1.2.1": "-xe", "1.2.840.10008.1.2": "-xi"}
    for f in files:
        ts = str(pydicom.dcmread(f, stop_before_pixels=True).file_meta.TransferSyntaxUID)
        storescu(server, [f], flag[ts])
    assert catalog_rows(server) == len(files)
    stored = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in hot_files(server)}
    for f in files:
        orig = pydicom.dcmread(f)
        s = stored[orig.SOPInstanceUID]
        got = pydicom.dcmread(s)
        assert got.file_meta.TransferSyntaxUID == orig.file_meta.TransferSyntaxUID
        assert got.PixelData == orig.PixelData


def test_resend_identical_and_conflicting(server, ct_study, tmp_path):
    storescu(server, ct_study[:2])
    storescu(server, ct_study[:2])  # identical: a no-op success
    assert catalog_rows(server) == 2
    ds = pydicom.dcmread(ct_study[0])
    ds.StudyDescription = "CHANGED"
    changed = tmp_path / "changed.dcm"
    ds.save_as(changed)
    storescu(server, [changed], status="Warning")  # the first copy kept (0xB006)
    assert catalog_rows(server) == 2
    kept = [f for f in hot_files(server)
            if pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID == ds.SOPInstanceUID]
    assert len(kept) == 1 and pydicom.dcmread(kept[0]).StudyDescription != "CHANGED"
    assert "event=duplicate_kept" in server.log_text()


def _bad_file(tmp_path, name, mutate):
    ds = pydicom.dcmread("/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm")
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    mutate(ds)
    out = tmp_path / name
    ds.save_as(out)
    return out


@pytest.mark.parametrize("name,mutate", [
    ("no_study_uid", lambda ds: delattr(ds, "StudyInstanceUID")),
    ("dotdot_series", lambda ds: setattr(ds, "SeriesInstanceUID", "1.2..3")),
    ("path_series", lambda ds: setattr(ds, "SeriesInstanceUID", "../../../etc")),
    ("long_study", lambda ds: setattr(ds, "StudyInstanceUID", "1." + "2" * 70)),
    ("letters_study", lambda ds: setattr(ds, "StudyInstanceUID", "1.2.abc")),
])
def test_invalid_uids_rejected(server, tmp_path, name, mutate):
    f = _bad_file(tmp_path, name + ".dcm", mutate)
    p = storescu(server, [f], check=False)
    out = p.stdout + p.stderr
    assert "Error" in out or "Failed" in out or "0xc000" in out.lower(), out
    assert catalog_rows(server) == 0
    assert hot_files(server) == []
    assert server.alive()
    run(["echoscu", "-aec", "STRATA", *server.addr()])


def test_garbage_dataset_and_disconnect_mid_transfer(server):
    host, port = "127.0.0.1", server.port
    sop = generate_uid()
    a = rawdimse.Association(host, port)
    status, comment = a.store("1.2.840.10008.5.1.4.1.1.2", sop, b"this is not a DICOM data set at all" * 10)
    assert status is not None and status >= 0xA000, hex(status or 0)
    a.release()
    # Peer sends half a data set and vanishes.
    b = rawdimse.Association(host, port)
    b.store_command("1.2.840.10008.5.1.4.1.1.2", generate_uid())
    b.send_data(b"\x08\x00\x18\x00UI\x10\x00" + b"1.2.3.4.5.6.7.8\x00", last=False)
    b.close_abruptly()
    import time
    time.sleep(0.5)
    assert server.alive()
    assert catalog_rows(server) == 0
    assert hot_files(server) == []
    assert [p for p in (server.data / "hot" / ".incoming").rglob("*") if p.is_file()] == []
    run(["echoscu", "-aec", "STRATA", *server.addr()])


def test_called_ae_and_allow_list(server_factory, ct_study):
    server = server_factory(extra=["--dimse-allowed-aets", "GOODSCU"])
    p = run(["echoscu", "-aec", "WRONG", "-aet", "GOODSCU", *server.addr()], check=False)
    assert p.returncode != 0
    p = run(["echoscu", "-aec", "STRATA", "-aet", "EVIL", *server.addr()], check=False)
    assert p.returncode != 0
    run(["echoscu", "-aec", "STRATA", "-aet", "GOODSCU", *server.addr()])
    assert "not allowed" in server.log_text()


def test_parallel_associations(server, ct_study):
    procs = [subprocess.Popen(["storescu", "-aec", "STRATA", *server.addr(), *map(str, ct_study[i::4])],
                              env=TOOL_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stdout.read()
    assert catalog_rows(server) == 24
    assert len(hot_files(server)) == 24


def test_full_disk_fails_cleanly(server_factory, ct_study, tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("needs root to mount a tiny tmpfs")
    try:
        server = server_factory(extra=["--hot-dir", str(mnt / "hot")])
        p = storescu(server, ct_study[:12], check=False)
        out = p.stdout + p.stderr
        assert "OutOfResources" in out or "Out of Resources" in out or "Failed" in out, out[-2000:]
        assert server.alive()
        n = catalog_rows(server)
        assert 0 < n < 12
        files = [f for f in (mnt / "hot").rglob("*.dcm")]
        assert len(files) == n  # every stored file complete and catalogued, nothing partial
        assert [p for p in (mnt / "hot" / ".incoming").rglob("*") if p.is_file()] == []
        server.stop()
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


def test_cli_find_reads_the_catalog(server, ct_study):
    import json
    storescu(server, ct_study)
    from conftest import STRATA
    first = pydicom.dcmread(ct_study[0], stop_before_pixels=True)
    out = run([STRATA, "find", "--data", server.data, "--level", "series", "--json",
               "-k", "PatientID=" + first.PatientID, "-k", "Modality=CT"]).stdout
    rows = json.loads(out)
    assert len(rows) == 2 and all(r["NumberOfSeriesRelatedInstances"] == "12" for r in rows)
    bad = run([STRATA, "find", "--data", server.data, "-k", "StudyDate=yesterday"], check=False)
    assert bad.returncode == 2 and "bad date" in bad.stderr


@pytest.mark.parametrize("pdu", ["1048576", "1024"])
def test_max_pdu_outside_what_dcmtk_accepts_is_refused_at_start(tmp_path, pdu):
    # DCMTK refuses every association beyond 128 KiB ("Illegal parameter (maxPDU)"), and the
    # sender then waits for its timeout: the server must refuse to start instead.
    from conftest import STRATA
    r = run([STRATA, "serve", "--data", str(tmp_path / "d"), "--port", "0", "--http-port", "0",
             "--dimse-max-pdu", pdu], check=False, timeout=30)
    assert r.returncode == 2, r.stderr
    assert "dimse.max_pdu" in r.stderr and "131072" in r.stderr


def test_c_get_by_a_raw_peer_returns_every_data_set_byte_for_byte(server, ct_study):
    # A C-GET SCU that is not DCMTK (rawdimse.GetAssociation: raw PDUs, SCP role selection)
    # receives the sub-operations Strata sends as stored bytes (hand-encoded C-STORE-RQ,
    # P-DATA fragments of the negotiated size): each data set must be the stored one exactly.
    storescu(server, ct_study)
    study = study_uid_of(ct_study)
    sent = {}
    for f in ct_study:
        raw = Path(f).read_bytes()
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        group_len = int.from_bytes(raw[140:144], "little")
        sent[str(ds.SOPInstanceUID)] = raw[144 + group_len:]
    def explicit(group, elem, vr, value):  # the identifier goes in the negotiated Explicit VR LE
        return struct.pack("<HH2sH", group, elem, vr, len(value)) + value
    ident = explicit(0x0008, 0x0052, b"CS", b"STUDY ") + explicit(0x0020, 0x000D, b"UI", rawdimse._uid(study))
    assoc = rawdimse.GetAssociation(*server.addr())
    status, got = assoc.get(ident)
    assoc.release()
    assert status == 0x0000
    assert set(got) == set(sent)
    for sop, data in got.items():
        assert data == sent[sop], sop

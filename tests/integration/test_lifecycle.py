"""Deleting studies, series and instances (issue 15) against a real `strata serve`: DELETE on
DICOMweb and `strata delete`, on hot, packed and mixed studies; after each, C-FIND, QIDO-RS,
C-GET and WADO-RS show exactly the survivors, `unzip -l` of the compacted pack lists exactly
the survivors, and `strata verify --hot` passes."""
import json
import urllib.error
import urllib.request

import pydicom

from conftest import STRATA, findscu, free_port, gen, run, storescu, study_uid_of


def http(server, path, method="GET", accept="application/dicom+json"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (server.http_port, path), method=method,
                                 headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def lifecycle(server, query="limit=100"):
    """GET /api/lifecycle: (X-Total-Count, the events newest first)."""
    req = urllib.request.Request("http://127.0.0.1:%d/api/lifecycle?%s" % (server.http_port, query))
    with urllib.request.urlopen(req, timeout=60) as r:
        return int(r.headers["X-Total-Count"]), json.loads(r.read())


def sops_of(files):
    return {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID): f for f in files}


def series_of(f):
    return str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID)


def cold_objects(server):
    root = server.data / "cold"
    return sorted(p for p in root.rglob("*.zip") if ".uploads" not in p.parts)


def expect_survivors(server, study, survivors, tmp_path):
    """C-FIND, QIDO-RS, C-GET and WADO-RS see exactly SURVIVORS (a set of SOP UIDs)."""
    rsp = findscu(server, "IMAGE", ["StudyInstanceUID=" + study, "SeriesInstanceUID", "SOPInstanceUID"])
    assert {str(r.SOPInstanceUID) for r in rsp} == survivors
    code, body = http(server, "/dicomweb/studies/%s/instances" % study)
    got = {i["00080018"]["Value"][0] for i in json.loads(body)} if code == 200 and body else set()
    assert got == survivors
    out = tmp_path / ("get-%d" % len(list(tmp_path.glob("get-*"))))
    out.mkdir()
    run(["getscu", "-aec", server.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY", "-k",
         "StudyInstanceUID=" + study, *server.addr()], check=False)
    assert {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in out.iterdir()} == survivors
    for sop in list(survivors)[:2]:
        f = pydicom.dcmread(next(p for p in out.iterdir() if p.name.endswith(sop) or sop in p.name))
        code, _ = http(server, "/dicomweb/studies/%s/series/%s/instances/%s" % (study, f.SeriesInstanceUID, sop),
                       accept='multipart/related; type="application/dicom"')
        assert code == 200


def test_delete_hot_packed_and_compacted(server_factory, ct_study, tmp_path):
    server = server_factory(http_port=free_port())
    storescu(server, ct_study)
    study = study_uid_of(ct_study)
    sops = sops_of(ct_study)
    survivors = set(sops)
    by_series = {}
    for sop, f in sops.items():
        by_series.setdefault(series_of(f), []).append(sop)
    s1, s2 = sorted(by_series)

    # Hot: one instance by DICOMweb, bad UIDs and unknown ones refused.
    victim = sorted(by_series[s1])[0]
    assert http(server, "/dicomweb/studies/%s/series/%s/instances/%s" % (study, s1, victim), "DELETE")[0] == 204
    survivors.discard(victim)
    assert http(server, "/dicomweb/studies/%s/series/%s/instances/%s" % (study, s1, victim), "DELETE")[0] == 404
    assert http(server, "/dicomweb/studies/1.2.x/series/%s" % s1, "DELETE")[0] == 400
    assert http(server, "/dicomweb/studies/%s/series/%s/instances/%s" % (study, s1, victim),
                accept='multipart/related; type="application/dicom"')[0] == 404
    expect_survivors(server, study, survivors, tmp_path)

    # Packed: a delete hides the entry at once; the next pass compacts the pack.
    run([STRATA, "migrate", "--data", server.data, "--older-than", "0s"])
    assert len(cold_objects(server)) == 1
    victim2 = sorted(by_series[s2])[3]
    p = run([STRATA, "delete", "--data", server.data, "--study", study, "--sop", victim2])
    assert "deleted 1 instances" in p.stdout and "1 packs to compact" in p.stdout
    survivors.discard(victim2)
    expect_survivors(server, study, survivors, tmp_path)
    run([STRATA, "migrate", "--data", server.data, "--older-than", "0s"])
    objs = cold_objects(server)
    assert len(objs) == 1
    listing = run(["unzip", "-l", objs[0]]).stdout
    listed = {line.split("/")[-1][:-4] for line in listing.splitlines() if line.strip().endswith(".dcm")}
    assert listed == survivors
    expect_survivors(server, study, survivors, tmp_path)

    # Both tiers (a late arrival re-sent), then a series, then the whole study.
    storescu(server, [sops[victim]])
    survivors.add(victim)
    expect_survivors(server, study, survivors, tmp_path)
    assert http(server, "/dicomweb/studies/%s/series/%s" % (study, s2), "DELETE")[0] == 204
    survivors -= set(by_series[s2])
    expect_survivors(server, study, survivors, tmp_path)
    run([STRATA, "verify", "--data", server.data, "--hot"])
    assert http(server, "/dicomweb/studies/%s" % study, "DELETE")[0] == 204
    assert findscu(server, "STUDY", ["StudyInstanceUID=" + study]) == []
    assert cold_objects(server) == []
    run([STRATA, "verify", "--data", server.data, "--hot"])
    p = run([STRATA, "delete", "--data", server.data, "--study", study], check=False)
    assert p.returncode == 3
    log = server.log_text()
    assert 'event=delete who="anonymous@' in log

    # Every change is listed by /api/lifecycle, newest first: who, what (patient, study date,
    # description), when, the study's values before and after; the log line carries the same.
    first = pydicom.dcmread(ct_study[0], stop_before_pixels=True)
    total, events = lifecycle(server)
    assert total == 4 and len(events) == 4  # the refused delete (exit 3) recorded nothing
    study_del, series_del, one_cli, one_web = events
    assert all(e["action"] == "delete" for e in events)
    for e in events:
        assert e["study_uid"] == study and e["patient_name"] == str(first.PatientName)
        assert e["study_date"] == str(first.StudyDate) and e["description"] == str(first.get("StudyDescription", ""))
        assert e["at_ms"] > 1700000000000
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    assert one_web["who"].startswith("anonymous@127.0.0.1") and one_web["sop_uid"] == victim
    assert one_web["series_uid"] == s1 and one_web["instances"] == 1
    assert one_web["old"] == {"instances": 24, "series": 2, "modalities": "CT"}
    assert one_web["new"] == {"instances": 23, "series": 2, "modalities": "CT", "deleted": 1}
    assert one_cli["who"].startswith("cli:") and one_cli["sop_uid"] == victim2
    assert one_cli["old"]["instances"] == 23 and one_cli["new"]["instances"] == 22
    assert series_del["series_uid"] == s2 and series_del["sop_uid"] == "" and series_del["instances"] == 11
    assert series_del["new"]["series"] == 1
    assert study_del["series_uid"] == "" and study_del["new"]["study"] == "deleted"
    assert study_del["new"]["instances"] == 0 and study_del["old"]["instances"] == study_del["instances"] == 12
    assert "lifecycle_id=%d study=%s" % (study_del["id"], study) in log and 'old={"instances":12' in log
    total2, page = lifecycle(server, "limit=2&offset=2")
    assert total2 == 4 and [e["id"] for e in page] == [one_cli["id"], one_web["id"]]
    for bad in ("limit=0", "limit=1001", "limit=x", "offset=-1"):
        assert http(server, "/api/lifecycle?" + bad)[0] == 400, bad


# --- IOCM rejection (PS3.4 KK, CID 7011) ---------------------------------------------------------
KOS_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"


def rejection_note(path, ref_files, code="113001", meaning="Rejected for Quality Reasons", home=None):
    """A Key Object Selection Document built with pydicom: Concept Name CODE (DCM), evidence
    naming REF_FILES (grouped by study and series), in the study of HOME (a file; default: the
    first referenced one). Written as Part 10 to PATH."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    refs = [pydicom.dcmread(f, stop_before_pixels=True) for f in ref_files]
    first = pydicom.dcmread(home, stop_before_pixels=True) if home else refs[0]
    ds = Dataset()
    ds.SOPClassUID = KOS_CLASS
    ds.SOPInstanceUID = generate_uid()
    for k in ("PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
              "StudyTime", "AccessionNumber", "StudyID", "ReferringPhysicianName"):
        setattr(ds, k, getattr(first, k, ""))
    ds.Modality = "KO"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 999
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime = "20261202", "120000"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    name = Dataset()
    name.CodeValue, name.CodingSchemeDesignator, name.CodeMeaning = code, "DCM", meaning
    ds.ConceptNameCodeSequence = Sequence([name])
    by_study = {}
    for r in refs:
        by_study.setdefault(str(r.StudyInstanceUID), {}).setdefault(str(r.SeriesInstanceUID), []).append(r)
    evidence = []
    for st, series in by_study.items():
        item = Dataset()
        item.StudyInstanceUID = st
        items = []
        for se, insts in series.items():
            s = Dataset()
            s.SeriesInstanceUID = se
            sops = []
            for r in insts:
                x = Dataset()
                x.ReferencedSOPClassUID, x.ReferencedSOPInstanceUID = r.SOPClassUID, r.SOPInstanceUID
                sops.append(x)
            s.ReferencedSOPSequence = Sequence(sops)
            items.append(s)
        item.ReferencedSeriesSequence = Sequence(items)
        evidence.append(item)
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence(evidence)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = KOS_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(str(path), write_like_original=False)
    return str(ds.SOPInstanceUID)


def stow(server, files):
    boundary = "lifecycle-kos"
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" +
                    open(f, "rb").read() + b"\r\n" for f in files) + b"--" + boundary.encode() + b"--\r\n"
    req = urllib.request.Request("http://127.0.0.1:%d/dicomweb/studies" % server.http_port, data=body, method="POST",
                                 headers={"Content-Type": 'multipart/related; type="application/dicom"; boundary='
                                          + boundary, "Accept": "application/dicom+json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_rejection_note_hides_and_refuses(server_factory, ct_study, tmp_path):
    server = server_factory(http_port=free_port())
    storescu(server, ct_study)
    study = study_uid_of(ct_study)
    sops = sops_of(ct_study)
    by_series = {}
    for sop, f in sops.items():
        by_series.setdefault(series_of(f), []).append(sop)
    s1, s2 = sorted(by_series)
    # Pack the study: the rejected instances are packed ones, and one late arrival is hot.
    run([STRATA, "migrate", "--data", server.data, "--older-than", "0s"])
    survivors = set(sops)

    # C-STORE of a note rejecting two instances of series 1 (113001).
    bad = sorted(by_series[s1])[:2]
    kos1 = rejection_note(tmp_path / "kos1.dcm", [sops[s] for s in bad])
    p = storescu(server, [tmp_path / "kos1.dcm"])
    assert "Received Store Response (Success)" in p.stdout + p.stderr
    survivors -= set(bad)
    survivors.add(kos1)  # the note itself is an instance of the study
    expect_survivors(server, study, survivors, tmp_path)
    series = findscu(server, "SERIES", ["StudyInstanceUID=" + study, "SeriesInstanceUID",
                                        "NumberOfSeriesRelatedInstances"])
    counts = {str(r.SeriesInstanceUID): int(r.NumberOfSeriesRelatedInstances) for r in series}
    assert counts[s1] == 10 and counts[s2] == 12
    st = findscu(server, "STUDY", ["StudyInstanceUID=" + study, "NumberOfStudyRelatedInstances"])
    assert int(st[0].NumberOfStudyRelatedInstances) == 23  # 24 - 2 + the note
    # WADO-RS of a rejected instance: 404.
    assert http(server, "/dicomweb/studies/%s/series/%s/instances/%s" % (study, s1, bad[0]),
                accept='multipart/related; type="application/dicom"')[0] == 404

    # Re-sending a rejected instance is refused: C-STORE failure with a comment, STOW 409.
    p = storescu(server, [sops[bad[0]]], "-d", check=False)  # -d: the response's Error Comment
    out = p.stdout + p.stderr
    assert "Received Store Response (Success)" not in out and "Received Store Response" in out
    assert "instance rejected (113001); re-send refused" in out, out[-2000:]
    code, doc = stow(server, [sops[bad[1]]])
    assert code == 409
    failed = doc["00081198"]["Value"]
    assert failed[0]["00081155"]["Value"] == [bad[1]] and "00081197" in failed[0]

    # STOW-RS of a note rejecting a whole series (113039) hides the series itself.
    kos2 = rejection_note(tmp_path / "kos2.dcm", [sops[s] for s in by_series[s2]], "113039",
                          "Data Retention Policy Expired")
    code, doc = stow(server, [tmp_path / "kos2.dcm"])
    assert code == 200, doc
    survivors -= set(by_series[s2])
    survivors.add(kos2)
    expect_survivors(server, study, survivors, tmp_path)
    series = findscu(server, "SERIES", ["StudyInstanceUID=" + study, "SeriesInstanceUID"])
    assert s2 not in {str(r.SeriesInstanceUID) for r in series}
    code, body = http(server, "/dicomweb/studies/%s/series" % study)
    assert s2 not in {i["0020000E"]["Value"][0] for i in json.loads(body)}
    # An ordinary KOS (not a rejection code) rejects nothing.
    kos3 = rejection_note(tmp_path / "kos3.dcm", [sops[sorted(by_series[s1])[5]]], "113000", "Of Interest")
    storescu(server, [tmp_path / "kos3.dcm"])
    survivors.add(kos3)
    expect_survivors(server, study, survivors, tmp_path)
    # A rejection note that names no instance is refused, not half applied.
    kos4 = rejection_note(tmp_path / "kos4.dcm", [sops[sorted(by_series[s1])[6]]])
    ds = pydicom.dcmread(tmp_path / "kos4.dcm")
    del ds.CurrentRequestedProcedureEvidenceSequence
    ds.save_as(str(tmp_path / "kos4.dcm"))
    p = storescu(server, [tmp_path / "kos4.dcm"], check=False)
    assert "Received Store Response (Success)" not in p.stdout + p.stderr
    expect_survivors(server, study, survivors, tmp_path)
    assert "event=reject note=%s reason=113001" % kos1 in server.log_text()
    run([STRATA, "verify", "--data", server.data, "--hot"])

    # The grace-period policy: rejected instances deleted through the delete path, the pack
    # compacted to the survivors (the rejected stay refused: the rejection record remains).
    # First a grace period not over yet: nothing deleted.
    m30 = run([STRATA, "migrate", "--data", server.data, "--older-than", "0s",
               "--lifecycle-rejected-delete-after", "30d"])
    assert "event=delete" not in m30.stdout + m30.stderr
    expect_survivors(server, study, survivors, tmp_path)
    mig = run([STRATA, "migrate", "--data", server.data, "--older-than", "0s",
               "--lifecycle-rejected-delete-after", "0s"])
    objs = cold_objects(server)
    listed = set()
    for o in objs:
        listed |= {line.split("/")[-1][:-4] for line in run(["unzip", "-l", o]).stdout.splitlines()
                   if line.strip().endswith(".dcm")}
    assert listed == survivors, (sorted(listed - survivors), sorted(survivors - listed))
    expect_survivors(server, study, survivors, tmp_path)
    p = storescu(server, [sops[bad[0]]], "-d", check=False)
    assert "instance rejected (113001); re-send refused" in p.stdout + p.stderr
    assert "event=delete who=\"policy:lifecycle.rejected_delete_after@" in mig.stderr + mig.stdout
    assert "event=rejected_deleted instances=14" in mig.stderr + mig.stdout
    run([STRATA, "verify", "--data", server.data, "--hot"])

    # The lifecycle changes: the two notes (who sent them, what they hid), then ONE event for
    # the grace pass's 14 deletions in the study (not one per instance); the refused note and
    # the refused re-sends changed nothing.
    total, events = lifecycle(server)
    rejects = [e for e in events if e["action"] == "reject"]
    expired = [e for e in events if e["action"] == "rejected-expired"]
    assert total == 3 and len(rejects) == 2 and len(expired) == 1, [e["action"] for e in events]
    by_stow, by_dimse = rejects  # newest first
    assert by_dimse["who"] == "dimse:STORESCU@127.0.0.1" and by_dimse["instances"] == 2
    assert by_dimse["series_uid"] == s1 and by_dimse["new"]["hidden"] == 2
    assert by_dimse["old"]["instances"] - by_dimse["new"]["instances"] == 2
    assert by_dimse["reason"].startswith("113001 Rejected for Quality Reasons (note %s)" % kos1)
    assert by_stow["who"].startswith("anonymous@127.0.0.1") and by_stow["instances"] == 12
    assert by_stow["new"]["series"] == by_stow["old"]["series"] - 1 and "113039" in by_stow["reason"]
    (grace,) = expired
    assert grace["study_uid"] == study and grace["instances"] == len(set(bad) | set(by_series[s2])) == 14
    assert grace["sop_uid"] == "" and grace["series_uid"] == ""  # two series
    assert grace["old"]["series_uids"] == sorted({s1, s2}) and grace["new"]["deleted"] == 14
    assert all(e["who"].startswith("policy:lifecycle.rejected_delete_after@") and "grace period" in e["reason"]
               for e in expired)
    first = pydicom.dcmread(ct_study[0], stop_before_pixels=True)
    assert all(e["patient_name"] == str(first.PatientName) and e["study_date"] == str(first.StudyDate)
               for e in events)
    log = server.log_text()
    assert "event=reject note=%s reason=113001" % kos1 in log and 'who="dimse:STORESCU@127.0.0.1" action=reject' in log


def test_patient_level_leaves_rejected_studies_out(server_factory, tmp_path):
    """A patient whose every study is rejected is neither counted nor listed at the patient
    level (C-FIND, Patient Root); one with a study left counts only that one."""
    files = gen("ct", tmp_path / "p", patients=2, studies_per_patient=2, series=1, slices=3, seed=61)
    studies = {}
    for f in files:
        d = pydicom.dcmread(f, stop_before_pixels=True)
        studies.setdefault((str(d.PatientID), str(d.StudyInstanceUID)), []).append(f)
    (pa, a1), (_, a2), (pb, b1), (_, b2) = sorted(studies)
    server = server_factory(http_port=free_port())
    storescu(server, files)

    def patients():
        rsp = findscu(server, "PATIENT", ["PatientID", "NumberOfPatientRelatedStudies",
                                          "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances"], root="-P")
        out = {str(r.PatientID): (int(r.NumberOfPatientRelatedStudies), int(r.NumberOfPatientRelatedSeries),
                                  int(r.NumberOfPatientRelatedInstances)) for r in rsp}
        assert len(out) == len(rsp), [str(r.PatientID) for r in rsp]
        return out
    assert patients() == {pa: (2, 2, 6), pb: (2, 2, 6)}
    # One note, stored in patient A's second study, rejects A's first study and both of B's.
    note = tmp_path / "kos.dcm"
    kos = rejection_note(note, studies[(pa, a1)] + studies[(pb, b1)] + studies[(pb, b2)], home=studies[(pa, a2)][0])
    p = storescu(server, [note])
    assert "Received Store Response (Success)" in p.stdout + p.stderr
    assert patients() == {pa: (1, 2, 4)}  # a2: its series and the note's
    assert findscu(server, "STUDY", ["PatientID=" + pb, "StudyInstanceUID"]) == []
    assert {str(r.StudyInstanceUID) for r in findscu(server, "STUDY", ["PatientID=" + pa, "StudyInstanceUID"])} == {a2}
    total, events = lifecycle(server)
    assert total == 3 and {e["study_uid"] for e in events} == {a1, b1, b2}
    assert all(e["action"] == "reject" and e["instances"] == 3 and kos in e["reason"] for e in events)


# --- retention ----------------------------------------------------------------------------------
def test_retention_dry_run_then_delete(server_factory, ct_study, tmp_path):
    import datetime
    server = server_factory(http_port=free_port())
    storescu(server, ct_study)
    study = study_uid_of(ct_study)
    run([STRATA, "migrate", "--data", server.data, "--older-than", "0s"])
    date = str(pydicom.dcmread(ct_study[0], stop_before_pixels=True).StudyDate)
    born = datetime.date(int(date[:4]), int(date[4:6]), int(date[6:]))
    later = lambda days: (born + datetime.timedelta(days=days)).strftime("%Y%m%d")  # noqa: E731
    base = [STRATA, "retention", "--data", server.data]

    # No rule: nothing would go, whatever the date.
    p = run(base + ["--today", later(100000)])
    assert "no retention rule configured" in p.stdout
    # A rule the study is not past yet, one for another modality, and a bad one.
    p = run(base + ["--lifecycle-retention", "CT=10y", "--today", later(3649), "--dry-run"])
    assert "0 studies would be deleted" in p.stdout
    p = run(base + ["--lifecycle-retention", "MR=1d", "--today", later(100000), "--dry-run"])
    assert "0 studies would be deleted" in p.stdout
    p = run(base + ["--lifecycle-retention", "CT=0d", "--dry-run"], check=False)
    assert p.returncode == 2 and "shorter than a day" in p.stderr
    # Past the rule: the dry run lists it and changes nothing ...
    p = run(base + ["--lifecycle-retention", "*=10y", "--today", later(3651), "--dry-run"])
    assert "would delete" in p.stdout and study in p.stdout and "1 studies would be deleted" in p.stdout
    assert len(findscu(server, "STUDY", ["StudyInstanceUID=" + study])) == 1
    assert len(cold_objects(server)) == 1
    # ... the real run deletes it through the delete path, one structured line per study.
    p = run(base + ["--lifecycle-retention", "*=10y", "--today", later(3651)])
    assert "1 studies deleted" in p.stdout
    log = p.stdout + p.stderr
    assert "event=retention_delete who=\"cli:" in log and "old_study_date=%s" % date in log, log[-2000:]
    assert findscu(server, "STUDY", ["StudyInstanceUID=" + study]) == []
    assert cold_objects(server) == []
    run([STRATA, "verify", "--data", server.data, "--hot"])

    # The converter's scheduler applies the same rules each pass (here `strata migrate`, one
    # pass): a rule the study is within keeps it, one it is past deletes it.
    storescu(server, ct_study)
    age = (datetime.date.today() - born).days
    assert age > 60, "the generated StudyDate must be in the past"
    keep = run([STRATA, "migrate", "--data", server.data, "--older-than", "0s",
                "--lifecycle-retention", "CT=%dd" % (age + 30)])
    assert "event=retention_delete" not in keep.stdout + keep.stderr
    assert len(findscu(server, "STUDY", ["StudyInstanceUID=" + study])) == 1
    gone = run([STRATA, "migrate", "--data", server.data, "--older-than", "0s",
                "--lifecycle-retention", "CT=%dd" % (age - 30)])
    assert 'event=retention_delete who="policy:lifecycle.retention@' in gone.stdout + gone.stderr
    assert findscu(server, "STUDY", ["StudyInstanceUID=" + study]) == []
    assert cold_objects(server) == []
    run([STRATA, "verify", "--data", server.data, "--hot"])

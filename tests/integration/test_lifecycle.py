"""Deleting studies, series and instances (issue 15) against a real `strata serve`: DELETE on
DICOMweb and `strata delete`, on hot, packed and mixed studies; after each, C-FIND, QIDO-RS,
C-GET and WADO-RS show exactly the survivors, `unzip -l` of the compacted pack lists exactly
the survivors, and `strata verify --hot` passes."""
import json
import urllib.error
import urllib.request

import pydicom

from conftest import STRATA, findscu, free_port, run, storescu, study_uid_of


def http(server, path, method="GET", accept="application/dicom+json"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (server.http_port, path), method=method,
                                 headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


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

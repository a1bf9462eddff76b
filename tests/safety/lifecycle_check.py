"""The end-of-run checks of the lifecycle client (lifecycle.py), beside checker.py's:

 9. the catalog's patient/study attributes of every study are the ones the ledger expects
    (the acknowledged values, and the latest acknowledged correction or merge; an unsure
    change: one of the two states, which then counts), and every node answers them by C-FIND
    (all studies) and QIDO-RS (the studies changed) (`lifecycle_attr`);
10. every acknowledged instance of a corrected or merged study, by C-GET and WADO-RS from every
    node: the data set with the correctable attributes, Specific Character Set and the
    Original Attributes Sequence (0400,0561) taken out equals the acknowledged one element by
    element (pydicom; `corrupt`), carries the expected attribute values and an Original
    Attributes Sequence (`lifecycle_attr`); none is missing (`unreadable`);
11. a rejected instance (note acknowledged, or unsure and recorded by the catalog) is listed by
    no node (C-FIND IMAGE, QIDO-RS), returned by no C-GET or WADO-RS (`rejected_visible`), and
    sending it again is refused (`rejected_accepted`); an unsure one the catalog did not record
    must be readable like any other (`unreadable`)."""
import io
import json
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pydicom

from cluster import run
from dicomio import multipart_parts
from lifecycle import KEYS, attrs_of

_FIND_SOP = re.compile(r"\(0008,0018\) UI \[([^\]]*)\]")
TAGS = {"PatientID": "00100020", "IssuerOfPatientID": "00100021", "PatientName": "00100010",
        "PatientBirthDate": "00100030", "PatientSex": "00100040", "StudyDate": "00080020",
        "AccessionNumber": "00080050", "StudyID": "00200010", "StudyDescription": "00081030",
        "ReferringPhysicianName": "00080090"}
_DROP = [pydicom.datadict.tag_for_keyword(k) for k in KEYS] + [0x00080005, 0x04000561]


def catalog_attrs(system):
    rows = system.sql("SELECT st.study_uid, p.patient_id, p.issuer, p.patient_name, p.birth_date, p.sex, st.study_date,"
                      " st.accession, st.study_id, st.description, st.referring"
                      " FROM studies st JOIN patients p ON p.pk = st.patient_pk")
    return {r[0]: dict(zip(KEYS, (x.strip() for x in r[1:]))) for r in rows}


def resolve(system, ledger, expected, v):
    """(want, rejected): study -> expected attributes (every study with an expected instance),
    and the SOP UIDs that must be hidden. Also adds back to EXPECTED the unsure rejections the
    catalog did not record."""
    life = ledger.life
    cat = catalog_attrs(system)
    recorded = {r[0] for r in system.sql("SELECT sop_uid FROM rejected_instances")}
    rejected = set(ledger.rejected)
    for sop in ledger.reject_unsure:
        if sop in recorded:
            rejected.add(sop)
        elif sop in ledger.acked and sop not in ledger.deleted:
            expected[sop] = ledger.acked[sop]
    for sop in sorted(rejected - recorded):
        v.add("rejected_visible", "catalog: rejection of %s acknowledged but not recorded" % sop, sop)
    want = {}
    firsts = {}
    for sop, e in expected.items():
        firsts.setdefault(e["study"], sop)
    touched = life.touched() if life else set()
    for study, sop in sorted(firsts.items()):
        if study in touched:
            exp = life.expected(study)
            if study in life.unsure:
                before, after = life.unsure[study]
                got = cat.get(study)
                if got == after:
                    exp = after
                elif got == before:
                    exp = before
                else:
                    v.add("lifecycle_attr", "study %s: after an unsure change the catalog holds %s, neither %s nor %s"
                          % (study, got, before, after))
                    continue
        else:
            exp = attrs_of(ledger.paths[sop])
        want[study] = exp
        if cat.get(study) != exp:
            v.add("lifecycle_attr", "catalog: study %s holds %s, expected %s" % (study, _diff(cat.get(study), exp), exp))
    return want, rejected


def _diff(got, exp):
    if got is None:
        return "(no row)"
    return {k: got.get(k) for k in KEYS if got.get(k) != exp.get(k)}


def _normalized(data):
    ds = pydicom.dcmread(io.BytesIO(data), force=True)
    for t in _DROP:
        if t in ds:
            del ds[t]
    return ds


def _served_attrs(ds):
    return {k: str(ds.get(k, "") or "").strip() for k in KEYS}


def _first_difference(a, b):
    for elem in a:
        if elem.tag not in b or b[elem.tag] != elem:
            return str(elem.tag)
    for elem in b:
        if elem.tag not in a:
            return str(elem.tag)
    return "?"


def _qido(node, path, v):
    """The QIDO-RS answer; [] for 204/404; None (and a read_error) when the node failed."""
    req = urllib.request.Request(node.url() + path, headers={"Accept": "application/dicom+json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"[]")
    except urllib.error.HTTPError as e:
        if e.code in (204, 404):
            return []
        v.add("read_error", "qido-rs node %s %s: HTTP %d" % (node.name, path, e.code))
    except (OSError, ValueError) as e:
        v.add("read_error", "qido-rs node %s %s: %s" % (node.name, path, e))
    return None


def _qido_value(item, key):
    vals = item.get(TAGS[key], {}).get("Value") or [""]
    val = vals[0]
    if isinstance(val, dict):
        val = val.get("Alphabetic", "")
    return str(val).strip()


def _wado_parts(node, study, v):
    """The parts WADO-RS returns for STUDY; [] for 404; a failure is a read_error (the
    instances it should have returned are then also reported unreadable)."""
    req = urllib.request.Request(node.url() + "/dicomweb/studies/" + study,
                                 headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return list(multipart_parts(r.read(), r.headers.get("Content-Type", "")))
    except urllib.error.HTTPError as e:
        if e.code != 404:
            v.add("read_error", "wado-rs node %s study %s: HTTP %d" % (node.name, study, e.code))
    except (OSError, ValueError) as e:
        v.add("read_error", "wado-rs node %s study %s: %s" % (node.name, study, e))
    return []


def check_lifecycle(system, ledger, expected, want, rejected, v):
    """(9)-(11). EXPECTED: SOP -> ledger entry (after resolve_deletes and resolve); WANT and
    REJECTED from resolve. Returns the number of studies compared by their served bytes."""
    life = ledger.life
    changed = sorted(s for s in (life.changed if life else set()) if s in want)
    by_study = {}
    for sop, e in expected.items():
        by_study.setdefault(e["study"], set()).add(sop)
    rejected_studies = sorted({ledger.acked[s]["study"] for s in rejected if s in ledger.acked})
    tmp = Path(tempfile.mkdtemp(prefix="safety-life-", dir=str(system.work)))
    acked_norm = {}
    for node in system.nodes:
        # (9) C-FIND of every study, QIDO-RS of the changed ones.
        p = run(["findscu", "-S", "-aec", node.aet, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID",
                 *sum((["-k", k] for k in KEYS), []), "-od", tmp, "-X", *node.addr()], timeout=300)
        found = {}
        for f in tmp.glob("rsp*.dcm"):
            ds = pydicom.dcmread(f, force=True)
            found[str(ds.get("StudyInstanceUID", ""))] = _served_attrs(ds)
            f.unlink()
        if p.returncode != 0:
            v.add("read_error", "c-find node %s (all studies): rc %d" % (node.name, p.returncode))
        for study, exp in want.items():
            if found.get(study) != exp:
                v.add("lifecycle_attr", "c-find node %s study %s: %s, expected %s" % (
                    node.name, study, _diff(found.get(study), exp), exp))
        for study in changed:
            items = _qido(node, "/dicomweb/studies?StudyInstanceUID=%s&includefield=all" % study, v)
            if items is None:
                continue
            got = {k: _qido_value(items[0], k) for k in KEYS} if items else None
            if got != want[study]:
                v.add("lifecycle_attr", "qido-rs node %s study %s: %s, expected %s" % (
                    node.name, study, _diff(got, want[study]), want[study]))
        # (10) the served bytes of changed studies, (11) no rejected instance returned.
        for study in sorted(set(changed) | set(rejected_studies)):
            out = Path(tempfile.mkdtemp(dir=str(tmp)))
            run(["getscu", "-S", "-aec", node.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY",
                 "-k", "StudyInstanceUID=" + study, *node.addr()], timeout=300)
            for route, parts in (("c-get", [f.read_bytes() for f in out.iterdir()]),
                                 ("wado-rs", _wado_parts(node, study, v))):
                seen = set()
                for data in parts:
                    try:
                        ds = pydicom.dcmread(io.BytesIO(data), force=True, stop_before_pixels=True)
                    except Exception as e:  # noqa: BLE001 - any unreadable answer is a violation
                        v.add("corrupt", "%s node %s study %s: unreadable answer (%s)" % (route, node.name, study, e))
                        continue
                    sop = str(ds.SOPInstanceUID)
                    seen.add(sop)
                    if sop in rejected:
                        v.add("rejected_visible", "%s node %s: rejected %s returned" % (route, node.name, sop), sop)
                        continue
                    if study not in changed or sop not in by_study.get(study, ()):
                        continue
                    if _served_attrs(ds) != want[study]:
                        v.add("lifecycle_attr", "%s node %s %s: served %s, expected %s" % (
                            route, node.name, sop, _diff(_served_attrs(ds), want[study]), want[study]), sop)
                    if study not in life.unsure and "OriginalAttributesSequence" not in ds:
                        v.add("lifecycle_attr", "%s node %s %s: no Original Attributes Sequence" % (
                            route, node.name, sop), sop)
                    if sop not in acked_norm:
                        acked_norm[sop] = _normalized(Path(ledger.paths[sop]).read_bytes())
                    served = _normalized(data)
                    if served != acked_norm[sop]:
                        v.add("corrupt", "%s node %s %s: data set (corrected attributes aside) differs from the"
                              " acknowledged one at %s" % (route, node.name, sop,
                                                           _first_difference(served, acked_norm[sop])), sop)
                if study in changed:
                    for sop in sorted(by_study.get(study, set()) - seen):
                        v.add("unreadable", "%s node %s: %s not returned" % (route, node.name, sop), sop)
            shutil.rmtree(out, ignore_errors=True)
        # (11) listings and direct retrieval of rejected instances.
        for study in rejected_studies:
            p = run(["findscu", "-v", "-S", "-aec", node.aet, "-k", "QueryRetrieveLevel=IMAGE",
                     "-k", "StudyInstanceUID=" + study, "-k", "SeriesInstanceUID", "-k", "SOPInstanceUID",
                     *node.addr()], timeout=120)
            listed = {s.rstrip("\0 ") for s in _FIND_SOP.findall(p.stdout + p.stderr)}
            items = _qido(node, "/dicomweb/studies/%s/instances" % study, v)
            qido = None if items is None else {(i.get("00080018", {}).get("Value") or [""])[0] for i in items}
            for route, got in (("c-find", listed), ("qido-rs", qido)):
                if got is None:
                    continue
                for sop in sorted(got & rejected):
                    v.add("rejected_visible", "%s node %s: rejected %s listed" % (route, node.name, sop), sop)
                for sop in sorted(by_study.get(study, set()) - got):
                    v.add("unreadable", "%s node %s: %s not listed" % (route, node.name, sop), sop)
    # Re-sending a rejected instance is refused (one node; the note's rejection stays).
    node = system.nodes[0]
    for sop in sorted(rejected)[:10]:
        path = ledger.paths.get(sop)
        if not path:
            continue
        p = run(["storescu", "-v", "-aec", node.aet, *node.addr(), path], timeout=120)
        rsp = re.findall(r"Received Store Response \(([^)]*)\)", p.stdout + p.stderr)
        if not rsp or rsp[0].startswith("Success") or rsp[0].startswith("Warning"):
            v.add("rejected_accepted", "c-store node %s: rejected %s sent again: %s" % (
                node.name, sop, rsp[0] if rsp else "no response"), sop)
    shutil.rmtree(tmp, ignore_errors=True)
    return len(changed)


def sabotage_attribute(system, ledger):
    """Self-test: one study's accession number changed behind Strata's back (no correction
    record, no ledger entry): (9) must report it on every node."""
    studies = sorted({e["study"] for e in ledger.expected().values()})
    if not studies:
        return "no study to sabotage"
    study = studies[0]
    sql = "UPDATE studies SET accession = 'SABOTAGE' WHERE study_uid = '%s'" % study
    if system.mode == "embedded":
        import sqlite3
        con = sqlite3.connect(str(system.work / "catalog.db"), timeout=30)
        try:
            con.execute(sql)
            con.commit()
        finally:
            con.close()
    else:
        run(["psql", system.pg_url_direct(), "-c", sql], timeout=120)
    return "accession of study %s set to SABOTAGE in the catalog" % study

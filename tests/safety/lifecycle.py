"""The lifecycle client of a run (issue 15): corrections of patient and study attributes
(PUT /api/studies/{uid} on a live node, `strata update --study` through the proxies), patient
merges (POST /api/patients/merge, `strata update --merge-patient`) and IOCM rejections (a Key
Object Selection rejection note by C-STORE or STOW-RS), on hot, packed and mixed studies, each
retried until acknowledged. `LifeLedger` holds what each study must answer afterwards.

Discipline (why the ledger is exact): a study is taken with the delete client's `_doom`, so
every instance of it is acknowledged, none is in a client's hands, and no client sends it
again (nor deletes it). Each study starts with a patient of its own (strata-gen: one study per
patient, distinct PatientIDs), so a patient row only ever spans studies of this client, and
this one thread is the only writer of their attributes: after a change is acknowledged the
catalog holds exactly what the ledger says. A retry after a lost answer is harmless: a
correction sets values (the same ones again), a merge retried after it landed answers 404 (the
source patient is gone, and only a merge of ours removes it: counted as acknowledged), a
rejection note re-sent is the identical instance. A change never confirmed is `unsure`: its
studies get no further change and the catalog decides afterwards (it must hold one of the
two states)."""
import hashlib
import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from workload import Instance

PATIENT_KEYS = ["PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "PatientSex"]
STUDY_KEYS = ["StudyDate", "AccessionNumber", "StudyID", "StudyDescription", "ReferringPhysicianName"]
KEYS = PATIENT_KEYS + STUDY_KEYS
KOS_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"


def attrs_of(path):
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return {k: str(ds.get(k, "") or "").strip() for k in KEYS}


def _undefined_lengths(ds):
    """Sequences and items of DS with undefined length, as DCMTK writes them: getscu re-encodes
    what it receives so, and the checker compares C-GET files bit for bit with what was sent."""
    for elem in ds:
        if elem.VR == "SQ":
            elem.is_undefined_length = True
            for item in elem.value:
                item.is_undefined_length_sequence_item = True
                _undefined_lengths(item)


def _explicit_length_digest(ds):
    """SHA-256 of DS's data set with explicit-length sequences and items: DCMTK's storescu
    re-encodes a file's undefined-length sequences so when it sends it (checked: pydicom's
    explicit-length write is byte for byte what storescp -B receives), and WADO-RS returns the
    stored bytes as received. getscu turns them back into undefined lengths, the file's form.
    Either encoding is the acknowledged data set. DS itself is left as it was."""
    def explicit(d, undo):
        for elem in d:
            if elem.VR == "SQ":
                elem.is_undefined_length = undo
                for item in elem.value:
                    item.is_undefined_length_sequence_item = undo
                    explicit(item, undo)
    explicit(ds, False)
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    explicit(ds, True)
    return hashlib.sha256(buf.getvalue()).hexdigest()


class LifeLedger:
    """Expected patient/study attributes of every study this client touched, and its rejections."""

    def __init__(self):
        self.lock = threading.Lock()
        self.patients = {}  # patient key (PatientID as the catalog has it) -> {patient attribute: value}
        self.patient_of = {}  # study -> patient key
        self.studies = {}  # study -> {study attribute: value}
        self.changed = set()  # studies whose served attributes differ from the acknowledged ones (or may)
        self.unsure = {}  # study -> (before, after): a change never confirmed; the catalog decides
        self.rejected = {}  # sop -> study: a rejection note naming it was acknowledged
        self.reject_unsure = {}  # sop -> study: sent, never confirmed
        self.ops = []  # (t, kind, mix, route, studies, outcome)
        self.counts = {"corrected": 0, "merged": 0, "rejected": 0, "unsure": 0}

    def expected(self, study):
        with self.lock:
            out = dict(self.patients[self.patient_of[study]])
            out.update(self.studies[study])
            return out

    def touched(self):
        with self.lock:
            return set(self.patient_of)


class LifecycleClient:
    """One thread: every `gap` seconds a change on a study it took (or a new study taken)."""

    def __init__(self, clients, ledger, args, stop):
        self.c, self.ledger, self.args, self.stop = clients, ledger, args, stop
        self.life = LifeLedger()
        ledger.life = self.life
        self.pool = []  # studies taken, still open to changes
        self.seq = 0
        self.dir = Path(clients.sys.work) / "lifecycle"

    # --- taking studies ------------------------------------------------------------------------
    def take(self, rng):
        study, mix = self.c._doom(rng)
        if study is None:
            return None
        first = sorted(self.c.by_study[study], key=lambda i: i.path)[0]
        a = attrs_of(first.path)
        with self.life.lock:
            key = a["PatientID"]
            if key in self.life.patients:  # would break the one-patient-per-study discipline
                self.c.doomed.discard(study)
                return None
            self.life.patients[key] = {k: a[k] for k in PATIENT_KEYS}
            self.life.patient_of[study] = key
            self.life.studies[study] = {k: a[k] for k in STUDY_KEYS}
        self.pool.append((study, mix))
        return study, mix

    # --- routes --------------------------------------------------------------------------------
    def _http(self, node, path, method, body):
        req = urllib.request.Request(node.url() + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except (OSError, http.client.HTTPException):
            return None

    def correct_once(self, rng, route, study, changes):
        """'acked', 'failed', or 'refused' (a definite error answer: a violation)."""
        if route == "web":
            node = self.c.node(rng)
            if node is None:
                return "failed"
            code = self._http(node, "/api/studies/" + study, "PUT", dict(changes, reason="safety"))
            return "acked" if code == 200 else ("refused" if code in (400, 404) else "failed")
        args = ["--study", study]
        for k, val in changes.items():
            args += ["--set", "%s=%s" % (k, val)]
        p = self.c.sys.cli("update", *args, "--reason", "safety", timeout=120)
        return "acked" if p.returncode == 0 else ("refused" if p.returncode in (2, 3) else "failed")

    def merge_once(self, rng, route, src, dst, retry):
        def outcome(ok, gone):
            if ok:
                return "acked"
            # The source patient gone on a retry: our earlier attempt landed (only we remove it).
            return ("acked" if retry else "refused") if gone else "failed"
        if route == "web":
            node = self.c.node(rng)
            if node is None:
                return "failed"
            code = self._http(node, "/api/patients/merge", "POST",
                              {"from": {"PatientID": src[0], "IssuerOfPatientID": src[1]},
                               "to": {"PatientID": dst[0], "IssuerOfPatientID": dst[1]}, "reason": "safety"})
            return outcome(code == 200, code == 404)
        p = self.c.sys.cli("update", "--merge-patient", src[0], "--from-issuer", src[1], "--into", dst[0],
                           "--into-issuer", dst[1], "--reason", "safety", timeout=120)
        return outcome(p.returncode == 0, p.returncode == 3)

    def retry(self, fn):
        for attempt in range(20):
            out = fn(attempt)
            if out in ("acked", "refused"):
                return out
            self.ledger.count("lifecycle_retry")
            if self.stop.wait(0.5):
                break
        return "unsure"

    # --- the changes -----------------------------------------------------------------------------
    def new_value(self, rng, key):
        self.seq += 1
        n = "%d%03d" % (self.args.seed % 1000, self.seq)
        return {"PatientID": "LC" + n, "PatientName": "LC^NAME%s" % n,
                "PatientBirthDate": "19%02d%02d%02d" % (rng.randint(30, 99), rng.randint(1, 12), rng.randint(1, 28)),
                "PatientSex": rng.choice(["M", "F", "O"]), "StudyDate": "2026%02d%02d" % (rng.randint(1, 12),
                                                                                          rng.randint(1, 28)),
                "AccessionNumber": "ACC" + n, "StudyID": "S" + n, "StudyDescription": "CORRECTED " + n,
                "ReferringPhysicianName": "REF^DOC%s" % n}[key]

    def studies_of(self, patient):
        return [s for s, p in self.life.patient_of.items() if p == patient]

    def correct(self, rng, study, mix):
        keys = rng.sample(["PatientName", "PatientBirthDate", "PatientSex", "StudyDate", "AccessionNumber", "StudyID",
                           "StudyDescription", "ReferringPhysicianName"], rng.randint(1, 3))
        if rng.random() < 0.2:
            keys.append("PatientID")  # a new identity: the study moves to a new patient row
        changes = {k: self.new_value(rng, k) for k in keys}
        route = rng.choice(["web", "cli"])
        with self.life.lock:
            now = self._expected_locked(study)
            changes = {k: val for k, val in changes.items() if now[k] != val}  # each one a real change
            if not changes:
                return
            keys = list(changes)
            old_key = self.life.patient_of[study]
            touched = self.studies_of(old_key) if any(k in PATIENT_KEYS for k in keys) else [study]
            family = self.studies_of(old_key)  # retired together if the change stays unsure
            before = {s: self._expected_locked(s) for s in family}
        outcome = self.retry(lambda attempt: self.correct_once(rng, route, study, changes))
        with self.life.lock:
            pvals = dict(self.life.patients[old_key])
            pvals.update({k: v for k, v in changes.items() if k in PATIENT_KEYS})
            if outcome != "refused":
                if "PatientID" in changes and len(self.studies_of(old_key)) > 1:
                    self.life.patients[changes["PatientID"]] = pvals  # the study moves; the others stay
                    self.life.patient_of[study] = changes["PatientID"]
                    touched = [study]
                elif "PatientID" in changes:  # the patient row itself gets the new identity
                    del self.life.patients[old_key]
                    self.life.patients[changes["PatientID"]] = pvals
                    self.life.patient_of[study] = changes["PatientID"]
                else:
                    self.life.patients[old_key] = pvals
                self.life.studies[study].update({k: v for k, v in changes.items() if k in STUDY_KEYS})
                self.life.changed.update(touched)
            self._settle(outcome, family, before)
        self._log("correct", mix, route, [study], outcome, "corrected")

    def merge(self, rng, study, mix, other):
        with self.life.lock:
            src_key, dst_key = self.life.patient_of[study], self.life.patient_of[other]
            if src_key == dst_key:
                return
            src = (src_key, self.life.patients[src_key]["IssuerOfPatientID"])
            dst = (dst_key, self.life.patients[dst_key]["IssuerOfPatientID"])
            moved = self.studies_of(src_key)
            family = moved + self.studies_of(dst_key)  # retired together if the merge stays unsure
            before = {s: self._expected_locked(s) for s in family}
        route = rng.choice(["web", "cli"])
        outcome = self.retry(lambda attempt: self.merge_once(rng, route, src, dst, attempt > 0))
        with self.life.lock:
            if outcome != "refused":
                for s in moved:
                    self.life.patient_of[s] = dst_key
                del self.life.patients[src_key]
                self.life.changed.update(moved)
            self._settle(outcome, family, before)
        self._log("merge", mix, route, moved + [other], outcome, "merged")

    def reject(self, rng, study, mix):
        with self.ledger.lock:
            alive = [i for i in self.c.by_study[study] if i.sop in self.ledger.acked and i.sop not in self.life.rejected
                     and i.sop not in self.life.reject_unsure and not i.path.startswith(str(self.dir))]
        if len(alive) < 2:
            return
        victims = rng.sample(alive, rng.randint(1, min(2, len(alive) - 1)))
        note = self.rejection_note(study, victims)
        route = rng.choice(["cstore", "stow"])
        with self.life.lock:
            for i in victims:
                self.life.reject_unsure[i.sop] = study

        def once(attempt):
            node = self.c.node(rng)
            if node is None:
                return "failed"
            self.c._take([note])  # (the study is doomed: nothing else sends it)
            try:
                got = (self.c.stow if route == "stow" else self.c.cstore)(node, [note])
            finally:
                self.c._give([note])
            return "acked" if got else "failed"
        outcome = self.retry(once)
        with self.life.lock:
            if outcome == "acked":
                for i in victims:
                    self.life.reject_unsure.pop(i.sop, None)
                    self.life.rejected[i.sop] = study
        with self.ledger.lock:
            self.ledger.rejected = dict(self.life.rejected)
            self.ledger.reject_unsure = dict(self.life.reject_unsure)
        self._log("reject", mix, route, [study], outcome, "rejected", len(victims))

    def rejection_note(self, study, victims):
        """A KOS (113001) naming VICTIMS, in STUDY, stored as DIR/<study>/<series>/<sop>.dcm."""
        home = pydicom.dcmread(victims[0].path, stop_before_pixels=True)
        ds = Dataset()
        ds.SOPClassUID = KOS_CLASS
        ds.SOPInstanceUID = generate_uid()
        # The study's own patient/study attributes, as received (a modality copies them all): the
        # note is served patched like every instance of the study.
        for k in KEYS + ["SpecificCharacterSet", "StudyInstanceUID", "StudyTime"]:
            if k in home:
                setattr(ds, k, home.get(k))
        ds.Modality, ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber = "KO", generate_uid(), 999, 1
        ds.ContentDate, ds.ContentTime = "20261204", "120000"
        ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
        name = Dataset()
        name.CodeValue, name.CodingSchemeDesignator, name.CodeMeaning = "113001", "DCM", "Rejected for Quality Reasons"
        ds.ConceptNameCodeSequence = Sequence([name])
        by_series = {}
        for i in victims:
            r = pydicom.dcmread(i.path, stop_before_pixels=True)
            x = Dataset()
            x.ReferencedSOPClassUID, x.ReferencedSOPInstanceUID = r.SOPClassUID, r.SOPInstanceUID
            by_series.setdefault(str(r.SeriesInstanceUID), []).append(x)
        items = []
        for se, sops in by_series.items():
            s = Dataset()
            s.SeriesInstanceUID, s.ReferencedSOPSequence = se, Sequence(sops)
            items.append(s)
        ev = Dataset()
        ev.StudyInstanceUID, ev.ReferencedSeriesSequence = study, Sequence(items)
        ds.CurrentRequestedProcedureEvidenceSequence = Sequence([ev])
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = KOS_CLASS
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.is_little_endian, ds.is_implicit_VR = True, False
        _undefined_lengths(ds)
        path = self.dir / study / str(ds.SeriesInstanceUID) / (str(ds.SOPInstanceUID) + ".dcm")
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(str(path), write_like_original=False)
        inst = Instance(str(path), False, alt_sha=_explicit_length_digest(ds))
        self.c.by_sop[inst.sop] = inst
        self.ledger.paths[inst.sop] = inst.path
        self.c.by_study[study].append(inst)
        return inst

    # --- bookkeeping ----------------------------------------------------------------------------
    def _expected_locked(self, study):
        out = dict(self.life.patients[self.life.patient_of[study]])
        out.update(self.life.studies[study])
        return out

    def _settle(self, outcome, studies, before):
        """Under the lock, after the ledger took the change: an unsure one retires every study of
        the patients concerned (no later change can then reach them), each with the two states
        the catalog may hold."""
        if outcome != "unsure":
            return
        for s in studies:
            self.life.unsure[s] = (before[s], self._expected_locked(s))
            self.life.changed.add(s)
        self.pool[:] = [(s, m) for s, m in self.pool if s not in studies]

    def _log(self, kind, mix, route, studies, outcome, counter, n=1):
        self.ledger.count("lifecycle_%s_%s_%s" % (kind, mix, outcome))
        with self.life.lock:
            if outcome == "acked":
                self.life.counts[counter] += n
            elif outcome == "unsure":
                self.life.counts["unsure"] += 1
            elif outcome == "refused":
                self.ledger.lifecycle_refused.append((kind, route, studies))
            self.life.ops.append((round(time.time(), 1), kind, mix, route, " ".join(studies), outcome))

    def run(self, seed):
        rng = random.Random(seed)
        budget = self.args.lifecycle_share * len(self.c.by_study)
        gap = max(0.5, self.args.duration / max(1.0, 3 * budget))
        taken = 0
        while not self.stop.is_set():
            if self.stop.wait(rng.uniform(0.5, 1.5) * gap):
                break
            if (len(self.pool) < 2 or rng.random() < 0.3) and taken < budget:
                if self.take(rng):
                    taken += 1
                continue
            if not self.pool:
                continue
            study, mix = rng.choice(self.pool)
            op = rng.choice(["correct", "correct", "merge", "reject"])
            try:
                if op == "merge" and len(self.pool) >= 2:
                    other = rng.choice([s for s, _ in self.pool if s != study])
                    self.merge(rng, study, mix, other)
                elif op == "reject":
                    self.reject(rng, study, mix)
                else:
                    self.correct(rng, study, mix)
            except Exception as e:  # a client bug must not end the run quietly
                self.ledger.lifecycle_refused.append((op, "exception", [study, repr(e)]))

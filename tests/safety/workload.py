"""The clients of a run: C-STORE (storescu) and STOW-RS ingest, re-sends of acknowledged
instances by both routes, late images for studies already packed, deletes (DELETE on DICOMweb
and `strata delete`) of instances, series and studies, C-FIND / C-GET / WADO-RS readers, and
CLI commands beside the servers; corrections, merges and rejections are lifecycle.py's. Each
records what it was told in the Ledger."""
import http.client
import json
import random
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from cluster import STRATA_GEN, run
from dicomio import dataset_digest, file_digest, multipart_body, multipart_parts

_RSP = re.compile(r"Received Store Response \(([^)]*)\)")
_SENDING = re.compile(r"Sending file: (.+)$")


class Instance:
    __slots__ = ("path", "sop", "sha", "alt_sha", "study", "late")

    def __init__(self, path, late, alt_sha=None):
        self.path = path
        data = Path(path).read_bytes()
        self.sop, self.sha = dataset_digest(data)
        # The data set as DCMTK's storescu re-encodes it on the wire, when that differs (only
        # for the lifecycle client's rejection notes: see lifecycle.rejection_note).
        self.alt_sha = alt_sha
        self.study = Path(path).parent.parent.name  # strata-gen: DIR/<study>/<series>/<sop>.dcm
        self.late = late


def generate(out, args, rng):
    """Many small CT studies; per study the last slices are held back as late additions."""
    gen = run([STRATA_GEN, "ct", "--out", out, "--patients", args.studies, "--studies-per-patient", 1,
               "--series", 2, "--slices", args.slices, "--size", 64, "--seed", args.seed, "-q"])
    if gen.returncode != 0:
        raise RuntimeError("strata-gen: " + gen.stderr)
    files = sorted(Path(out).rglob("*.dcm"))
    insts = []
    for f in files:
        slice_no = int(f.stem.rsplit(".", 1)[1])
        late = slice_no > args.slices - args.late_slices
        insts.append(Instance(str(f), late))
    return insts


class Ledger:
    """Every acknowledgement any client got, and everything else worth reporting."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}  # sop -> {"sha", "study", "routes": set, "t"}
        self.events = {}  # counters
        self.flags = []  # re-sends reported as different content (defect 8 of issue 10)
        self.bad_reads = []  # reads during the run that returned other bytes than acknowledged
        self.read_tiers = {}  # sop -> set of tiers it was read back (verified) from during the run
        self.deleted = {}  # sop -> {"study", "route", "kind", "t"}: a delete of it was acknowledged
        self.delete_unsure = {}  # sop -> same: a delete was sent, never confirmed (may or may not have run)
        self.deletes = []  # (t, kind, tiers, route, study, target, n sops, outcome)
        self.damaged = {}  # pack key -> (store, "delete" | "corrupt"): pack_damage faults
        # The lifecycle client's (lifecycle.py): its LifeLedger, the rejected instances (a note
        # acknowledged / never confirmed) and its changes refused with a definite error.
        self.life = None
        self.rejected = {}
        self.reject_unsure = {}
        self.lifecycle_refused = []
        self.paths = {}  # sop -> the file sent (the acknowledged bytes)

    def count(self, what, n=1):
        with self.lock:
            self.events[what] = self.events.get(what, 0) + n

    def ack(self, inst, route):
        with self.lock:
            e = self.acked.setdefault(inst.sop, {"sha": inst.sha, "alt_sha": inst.alt_sha, "study": inst.study,
                                                 "routes": set(), "t": time.time()})
            e["routes"].add(route)

    def delete_sent(self, sops, info):
        with self.lock:
            for sop in sops:
                self.delete_unsure[sop] = info

    def delete_acked(self, sops, info):
        with self.lock:
            for sop in sops:
                self.delete_unsure.pop(sop, None)
                self.deleted[sop] = info

    def expected(self):
        """SOP -> entry of every instance that must be there at the end: acknowledged, and no
        delete or rejection of it acknowledged or left unsure (the checker resolves the unsure ones)."""
        with self.lock:
            return {s: e for s, e in self.acked.items() if s not in self.deleted and s not in self.delete_unsure
                    and s not in self.rejected and s not in self.reject_unsure}

    def is_acked(self, sop):
        with self.lock:
            return sop in self.acked

    def sample(self, rng, k):
        with self.lock:
            keys = list(self.acked)
        return rng.sample(keys, min(k, len(keys)))


class Clients:
    def __init__(self, system, ledger, instances, args, stop):
        self.sys, self.ledger, self.args, self.stop = system, ledger, args, stop
        self.by_sop = {i.sop: i for i in instances}
        ledger.paths.update({i.sop: i.path for i in instances})
        self.early = [i for i in instances if not i.late]
        self.late = {}
        for i in instances:
            if i.late:
                self.late.setdefault(i.study, []).append(i)
        self.by_study = {}
        for i in instances:
            self.by_study.setdefault(i.study, []).append(i)
        self.queue_lock = threading.Lock()
        # Deletes and stores of one study never overlap, so that the ledger can say what must
        # be there: a study picked for a delete has every instance acknowledged, none in a
        # client's hands (inflight), and is never sent again (doomed).
        self.inflight = {}  # study -> batches being sent
        self.doomed = set()
        self.tmp = Path(tempfile.mkdtemp(prefix="safety-reads-", dir=str(system.work)))
        self.threads = []
        # kill9_compaction asks the delete client for a delete that thins a packed study (part
        # of it, so a compaction follows); the delete client answers with the delete's outcome.
        self.thin_wanted = threading.Event()
        self.thin_done = threading.Event()
        self.thin_result = None
        # ... and, while it waits for the compaction, holds the CLI's migrate loop back, so that
        # a node's converter (which it can kill) does the compaction, not the CLI.
        self.hold_cli_migrate = threading.Event()

    def node(self, rng):
        alive = [n for n in self.sys.nodes if n.alive()]
        return rng.choice(alive) if alive else None

    def _take(self, batch):
        """BATCH minus the instances of doomed studies, marked in flight (release with _give)."""
        with self.queue_lock:
            batch = [i for i in batch if i.study not in self.doomed]
            for i in batch:
                self.inflight[i.study] = self.inflight.get(i.study, 0) + 1
        return batch

    def _give(self, batch):
        with self.queue_lock:
            for i in batch:
                self.inflight[i.study] -= 1

    # --- ingest ----------------------------------------------------------------------------------
    def cstore(self, node, batch, resend=False):
        p = run(["storescu", "-v", "-aec", node.aet, *node.addr(), *[i.path for i in batch]], timeout=120)
        current, acked = None, 0
        by_path = {i.path: i for i in batch}
        for line in (p.stdout + "\n" + p.stderr).splitlines():
            m = _SENDING.search(line)
            if m:
                current = by_path.get(m.group(1).strip())
                continue
            m = _RSP.search(line)
            if m and current is not None:
                status = m.group(1)
                if status.startswith("Success") or status.startswith("Warning"):
                    self.ledger.ack(current, "c-store")
                    acked += 1
                    if resend and ("B006" in status or status.startswith("Warning")):
                        self.ledger.flags.append(("c-store", current.sop, status))
                else:
                    self.ledger.count("cstore_refused")
                current = None
        return acked

    def stow(self, node, batch, resend=False):
        body, ctype = multipart_body([Path(i.path).read_bytes() for i in batch])
        req = urllib.request.Request(node.url() + "/dicomweb/studies", data=body, method="POST",
                                     headers={"Content-Type": ctype, "Accept": "application/dicom+json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, rsp = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, rsp = e.code, e.read()
        except (OSError, http.client.HTTPException):
            self.ledger.count("stow_error")
            return 0
        try:
            doc = json.loads(rsp or b"{}")
        except ValueError:
            self.ledger.count("stow_bad_body")
            return 0
        if isinstance(doc, list):
            doc = doc[0] if doc else {}
        acked = 0
        for item in doc.get("00081199", {}).get("Value", []) or []:
            sop = (item.get("00081155", {}).get("Value") or [""])[0]
            inst = self.by_sop.get(sop)
            if inst is None or "00081197" in item:
                continue
            self.ledger.ack(inst, "stow-rs")
            acked += 1
            if resend and "00081196" in item:
                self.ledger.flags.append(("stow-rs", sop, "warning reason %s" % item["00081196"].get("Value")))
        for item in doc.get("00081198", {}).get("Value", []) or []:
            reason = (item.get("00081197", {}).get("Value") or [0])[0]
            sop = (item.get("00081155", {}).get("Value") or [""])[0]
            self.ledger.count("stow_failed")
            if resend and reason == 0x0111 and self.ledger.is_acked(sop):
                self.ledger.flags.append(("stow-rs", sop, "failed as duplicate (0x0111), HTTP %d" % status))
        return acked

    def _ingest(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            with self.queue_lock:
                if not self.early:
                    break
                k = rng.randint(3, 12)
                batch, self.early[:] = self.early[:k], self.early[k:]
            node = self.node(rng)
            if node is None:
                time.sleep(0.2)
                with self.queue_lock:
                    self.early.extend(batch)
                continue
            route = "stow" if rng.random() < 0.35 else "cstore"
            self._take(batch)  # never doomed: a doomed study has nothing left to ingest
            try:
                got = self.stow(node, batch) if route == "stow" else self.cstore(node, batch)
            finally:
                self._give(batch)
            self.ledger.count(route + "_sent", len(batch))
            # Not acknowledged: the client retries later, as a modality would.
            missing = [i for i in batch if not self.ledger.is_acked(i.sop)]
            if missing:
                with self.queue_lock:
                    self.early.extend(missing)
            time.sleep(rng.uniform(0, 0.05) if got else 0.3)

    def _late(self, seed):
        """Late images for studies the catalog already shows packed."""
        rng = random.Random(seed)
        while not self.stop.is_set() and self.late:
            time.sleep(2)
            try:
                packed = {r[0] for r in self.sys.sql(
                    "SELECT DISTINCT st.study_uid FROM instances i JOIN studies st ON st.pk = i.study_pk WHERE i.tier <> 0")}
            except Exception:
                continue
            for study in [s for s in list(self.late) if s in packed]:
                batch = self.late.pop(study)
                node = self.node(rng)
                if node is None:
                    self.late[study] = batch
                    continue
                self._take(batch)
                try:
                    (self.stow if rng.random() < 0.5 else self.cstore)(node, batch)
                finally:
                    self._give(batch)
                self.ledger.count("late_sent", len(batch))
                if any(not self.ledger.is_acked(i.sop) for i in batch):
                    self.late[study] = [i for i in batch if not self.ledger.is_acked(i.sop)]

    def _resend(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            time.sleep(rng.uniform(0.5, 1.5))
            sops = self.ledger.sample(rng, rng.randint(1, 4))
            node = self.node(rng)
            if not sops or node is None:
                continue
            batch = self._take([self.by_sop[s] for s in sops])
            if not batch:
                continue
            try:
                (self.stow if rng.random() < 0.5 else self.cstore)(node, batch, resend=True)
            finally:
                self._give(batch)
            self.ledger.count("resent", len(batch))

    # --- deletes --------------------------------------------------------------------------------
    def request_thinning(self, timeout):
        """Asks the delete client for a delete of part of a packed study now (a compaction
        follows); returns the study deleted from, or None (none ready, or no answer in time)."""
        if self.args.delete_share <= 0:
            return None
        self.thin_done.clear()
        self.thin_result = None
        self.thin_wanted.set()
        if not self.thin_done.wait(timeout):
            self.thin_wanted.clear()
            return None
        return self.thin_result

    def _doom(self, rng, want=None):
        """A study to delete from, now doomed: every instance acknowledged, nothing in flight.
        Prefers the tier mix drawn (hot, packed, both) so each kind is exercised; with WANT
        ("packed"), only a study of that mix."""
        strict = want is not None
        want = want or rng.choice(["hot", "packed", "both", "both"])
        with self.queue_lock:
            ready = [st for st, insts in self.by_study.items() if st not in self.doomed
                     and not self.inflight.get(st) and st not in self.late
                     and all(self.ledger.is_acked(i.sop) for i in insts)]
        if not ready:
            return None, None
        rng.shuffle(ready)
        pick, pick_mix = None, None
        for st in ready[:12]:
            try:
                tiers = set(self.tier_of([i.sop for i in self.by_study[st]]).values())
            except Exception:
                continue
            mix = "both" if len(tiers) > 1 else ("hot" if tiers == {0} else "packed")
            if strict and mix != want:
                continue
            if pick is None or mix == want:
                pick, pick_mix = st, mix
            if mix == want:
                break
        if pick is None:
            return None, None
        with self.queue_lock:  # again under the lock: a re-send may have started meanwhile
            if self.inflight.get(pick) or pick in self.doomed:
                return None, None
            self.doomed.add(pick)
        return pick, pick_mix

    def delete_once(self, node, study, series, sop, route):
        """'acked' (deleted, or nothing left to delete: 404 / exit 3), or 'failed'."""
        if route == "web":
            url = node.url() + "/dicomweb/studies/" + study
            if series:
                url += "/series/" + series
            if sop:
                url += "/instances/" + sop
            try:
                with urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=60) as r:
                    code = r.status
            except urllib.error.HTTPError as e:
                code = e.code
            except (OSError, http.client.HTTPException):
                code = None
            return "acked" if code in (200, 204, 404) else "failed"
        extra = ["--study", study] + (["--series", series] if series else []) + (["--sop", sop] if sop else [])
        p = self.sys.cli("delete", *extra, timeout=120)
        return "acked" if p.returncode in (0, 3) else "failed"

    def _delete(self, seed):
        """Deletes of instances, series and whole studies, hot, packed and both, while the faults
        run; retried until acknowledged (a delete of what is gone answers 404 / exit 3)."""
        rng = random.Random(seed)
        budget = self.args.delete_share * len(self.by_study)
        gap = max(1.0, self.args.duration / max(1.0, budget))  # spread over the faults' duration
        while not self.stop.is_set():
            thin = self.thin_wanted.wait(rng.uniform(0.5, 1.5) * gap)
            if self.stop.is_set():
                continue
            if thin:  # for kill9_compaction: part of a packed study, beyond the budget if need be
                self.thin_wanted.clear()
                study, mix = self._doom(rng, want="packed")
                if study is None:
                    self.thin_done.set()
                    continue
                kind = rng.choice(["instance", "series"])
            else:
                if len(self.doomed) >= budget:
                    continue
                study, mix = self._doom(rng)
                if study is None:
                    continue
                kind = rng.choice(["instance", "instance", "series", "study"])
            insts = self.by_study[study]
            series = sop = None
            if kind == "study":
                target = insts
            else:
                series = Path(rng.choice(insts).path).parent.name
                target = [i for i in insts if Path(i.path).parent.name == series]
                if kind == "instance":
                    target = [rng.choice(target)]
                    sop = target[0].sop
            sops = [i.sop for i in target]
            route = rng.choice(["web", "cli"])
            info = {"study": study, "kind": kind, "route": route, "mix": mix, "t": time.time()}
            self.ledger.delete_sent(sops, info)
            outcome = "unsure"
            for _ in range(20):
                node = self.node(rng)
                if node is None and route == "web":
                    time.sleep(0.5)
                    continue
                if self.delete_once(node, study, series, sop, route) == "acked":
                    outcome = "acked"
                    self.ledger.delete_acked(sops, info)
                    break
                self.ledger.count("delete_retry")
                if self.stop.wait(0.5):
                    break
            if thin:
                self.thin_result = study if outcome == "acked" else None
                self.thin_done.set()
            self.ledger.count("delete_%s_%s_%s" % (kind, mix, outcome))
            with self.ledger.lock:
                self.ledger.deletes.append((round(time.time(), 1), kind, mix, route, study, series or "", len(sops),
                                            outcome))

    # --- reads during the run ----------------------------------------------------------------------
    def tier_of(self, sops):
        q = ",".join("'%s'" % s for s in sops)
        return {r[0]: int(r[1]) for r in self.sys.sql("SELECT sop_uid, tier FROM instances WHERE sop_uid IN (%s)" % q)}

    def check_read(self, sop, sha, tiers, route):
        e = self.ledger.acked.get(sop)
        if e is None:
            return
        if self.ledger.life is not None and e["study"] in self.ledger.life.touched():
            return  # may be served corrected by now: the final lifecycle check compares what is left
        if sha != e["sha"]:
            self.ledger.bad_reads.append((route, sop, "read back other bytes during the run"))
            return
        with self.ledger.lock:
            self.ledger.read_tiers.setdefault(sop, set()).add(tiers.get(sop, -1))

    def _reader(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            time.sleep(rng.uniform(0.3, 1.0))
            node = self.node(rng)
            sops = self.ledger.sample(rng, 1)
            if node is None or not sops:
                continue
            study = self.ledger.acked[sops[0]]["study"]
            kind = rng.choice(["find", "get", "wado", "wado"])
            try:
                tiers = self.tier_of([sops[0]])
            except Exception:
                tiers = {}
            if kind == "find":
                p = run(["findscu", "-S", "-aec", node.aet, "-k", "QueryRetrieveLevel=STUDY",
                         "-k", "StudyInstanceUID=" + study, "-k", "NumberOfStudyRelatedInstances", *node.addr()],
                        timeout=60)
                self.ledger.count("find_ok" if p.returncode == 0 else "find_error")
            elif kind == "get":
                out = Path(tempfile.mkdtemp(dir=str(self.tmp)))
                p = run(["getscu", "-S", "-aec", node.aet, "-od", out, "-k", "QueryRetrieveLevel=IMAGE",
                         "-k", "StudyInstanceUID=" + study,
                         "-k", "SeriesInstanceUID=" + Path(self.by_sop[sops[0]].path).parent.name,
                         "-k", "SOPInstanceUID=" + sops[0], *node.addr()], timeout=60)
                for f in out.iterdir():
                    try:
                        s, sha = file_digest(f)
                        self.check_read(s, sha, tiers, "c-get")
                    except ValueError:
                        pass
                self.ledger.count("get_ok" if p.returncode == 0 else "get_error")
                shutil.rmtree(out, ignore_errors=True)
            else:
                inst = self.by_sop[sops[0]]
                series = Path(inst.path).parent.name
                for got_sop, sha in wado(node, inst.study, series, inst.sop):
                    self.check_read(got_sop, sha, tiers, "wado-rs")
                self.ledger.count("wado")

    def _cli(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            what = rng.choice(["migrate", "find", "verify", "migrate"])
            if what == "migrate" and self.hold_cli_migrate.is_set():
                what = "find"
            if what == "migrate":
                p = self.sys.cli("migrate", "--older-than", "0s", timeout=120)
            elif what == "find":
                p = self.sys.cli("find", "-k", "PatientID", timeout=60)
            else:
                p = self.sys.cli("verify", timeout=120)
            self.ledger.count("cli_%s_%s" % (what, "ok" if p.returncode == 0 else "fail"))
            time.sleep(rng.uniform(0.2, 1.5))

    def start(self, seed):
        jobs = [self._ingest] * self.args.ingest_threads + [self._late, self._resend, self._reader, self._reader,
                                                            self._cli]
        if self.args.delete_share > 0:
            jobs.append(self._delete)
        if self.args.lifecycle_share > 0:
            from lifecycle import LifecycleClient
            jobs.append(LifecycleClient(self, self.ledger, self.args, self.stop).run)
        for k, job in enumerate(jobs):
            t = threading.Thread(target=job, args=(seed * 100 + k,), daemon=True)
            t.start()
            self.threads.append(t)

    def ingest_done(self):
        with self.queue_lock:
            return not self.early and not self.late

    def join(self):
        for t in self.threads:
            t.join(timeout=180)


def wado(node, study, series=None, sop=None, timeout=120):
    """[(sop, sha)] of what WADO-RS returns, as stored (transfer-syntax=*)."""
    url = node.url() + "/dicomweb/studies/" + study
    if series:
        url += "/series/" + series
    if sop:
        url += "/instances/" + sop
    req = urllib.request.Request(url, headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body, ctype = r.read(), r.headers.get("Content-Type", "")
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return []
    out = []
    try:
        for part in multipart_parts(body, ctype):
            out.append(dataset_digest(part))
    except ValueError:
        pass
    return out

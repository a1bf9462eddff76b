"""The end-of-run checks, on a quiet system (faults stopped, nodes restarted cleanly, a final
migration and cleanup done). Each violation is listed; none is forgiven."""
import io
import json
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from cluster import BUCKET, run
from dicomio import file_digest
from workload import wado

_FIND_SOP = re.compile(r"\(0008,0018\) UI \[([^\]]*)\]")
RECORD_PREFIXES = ("tombstones/", "corrections/")  # the cold store's records (not packs)


class Violations:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = {}  # category -> [text]
        self.sops = {}  # category -> distinct SOP Instance UIDs concerned

    def add(self, cat, text, sop=None):
        with self.lock:
            self.items.setdefault(cat, []).append(text)
            if sop:
                self.sops.setdefault(cat, set()).add(sop)

    def n(self, cat):
        return len(self.items.get(cat, []))

    def distinct(self, *cats):
        out = set()
        for c in cats:
            out |= self.sops.get(c, set())
        return len(out)

    def total(self):
        return sum(len(v) for v in self.items.values())


def catalog_rows(system):
    rows = system.sql("SELECT i.sop_uid, i.tier, i.hot_path, i.pack_key, i.pack_offset, i.pack_length, i.size, "
                      "st.study_uid FROM instances i JOIN studies st ON st.pk = i.study_pk")
    return {r[0]: {"tier": int(r[1]), "hot": r[2], "pack": r[3], "off": int(r[4]), "len": int(r[5]),
                   "size": int(r[6]), "study": r[7]} for r in rows}


def resolve_deletes(ledger, rows):
    """(expected, gone): what must be there and what must not. A delete never confirmed may
    or may not have run; the catalog decides, and the stores must then agree with it."""
    expected = ledger.expected()
    gone = dict(ledger.deleted)
    for sop, info in ledger.delete_unsure.items():
        if sop in rows:
            expected[sop] = ledger.acked[sop]
        else:
            gone[sop] = info
    return expected, gone


def check_reads(system, expected, gone, v, threads=2):
    """(1) every acknowledged, not deleted instance, bit-identical data set, from every node,
    by C-GET and by WADO-RS; no deleted one among what they return."""
    studies = {}
    alt = {}  # SOP -> the other encoding of the same data set that is also correct (or absent)
    for sop, e in expected.items():
        studies.setdefault(e["study"], {})[sop] = e["sha"]
        if e.get("alt_sha"):
            alt[sop] = e["alt_sha"]
    for sop, info in gone.items():
        studies.setdefault(info["study"], {})
    work = [(n, s) for n in system.nodes for s in sorted(studies)]
    tmp = Path(tempfile.mkdtemp(prefix="safety-check-", dir=str(system.work)))
    lock = threading.Lock()

    def compare(route, node, expect, got):
        for sop in got:
            if sop in gone:
                v.add("deleted_visible", "%s node %s: deleted %s returned" % (route, node.name, sop), sop)
        for sop, sha in expect.items():
            if sop not in got:
                v.add("unreadable", "%s node %s: %s not returned" % (route, node.name, sop), sop)
            elif got[sop] != sha and got[sop] != alt.get(sop):
                v.add("corrupt", "%s node %s: %s data set differs from the acknowledged one" % (route, node.name, sop),
                      sop)

    def worker():
        while True:
            with lock:
                if not work:
                    return
                node, study = work.pop()
            expect = studies[study]
            out = Path(tempfile.mkdtemp(dir=str(tmp)))
            p = run(["getscu", "-S", "-aec", node.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY",
                     "-k", "StudyInstanceUID=" + study, *node.addr()], timeout=300)
            got = {}
            for f in out.iterdir():
                try:
                    s, sha = file_digest(f)
                    got[s] = sha
                except ValueError as e:
                    v.add("corrupt", "c-get node %s: %s unreadable (%s)" % (node.name, f.name, e))
            if p.returncode != 0 and len(got) < len(expect):
                v.add("read_error", "c-get node %s study %s: rc %d %s" % (node.name, study, p.returncode,
                                                                         p.stderr.strip()[-200:]))
            compare("c-get", node, expect, got)
            shutil.rmtree(out, ignore_errors=True)
            compare("wado-rs", node, expect, dict(wado(node, study, timeout=300)))

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    shutil.rmtree(tmp, ignore_errors=True)


def check_catalog(system, expected, gone, v):
    """(2) no row points at missing or corrupt bytes, (3) no orphan, (4) one current location,
    (5) no row of a deleted instance."""
    rows = catalog_rows(system)
    for sop in expected:
        if sop not in rows:
            v.add("lost", "catalog: acknowledged %s has no row" % sop, sop)
    for sop in gone:
        if sop in rows:
            v.add("deleted_visible", "catalog: deleted %s still has a row (tier %d)" % (sop, rows[sop]["tier"]), sop)
    p = system.cli("verify", "--hot", direct=True, timeout=600)
    if p.returncode != 0:
        v.add("verify", "strata verify --hot exit %d: %s" % (p.returncode, (p.stdout + p.stderr).strip()[-600:]))
    packs = {r[0]: r[1] for r in system.sql("SELECT pack_key, study_uid FROM packs")}
    objects = system.cold_objects()
    hot_files = set(system.hot_files())
    referenced_hot, referenced_packs = set(), set()
    for sop, r in rows.items():
        if r["tier"] == 0:
            if not r["hot"]:
                v.add("dangling", "%s: hot row without a path" % sop, sop)
                continue
            referenced_hot.add(r["hot"])
            path = system.hot.path / r["hot"]
            if not path.is_file():
                v.add("dangling", "%s: hot file %s missing" % (sop, r["hot"]), sop)
            elif path.stat().st_size != r["size"]:
                v.add("dangling", "%s: hot file %s has %d bytes, row says %d" % (sop, r["hot"], path.stat().st_size,
                                                                               r["size"]), sop)
            if r["pack"]:
                v.add("two_locations", "%s: hot row still names pack %s" % (sop, r["pack"]))
        else:
            referenced_packs.add(r["pack"])
            if r["pack"] not in packs:
                v.add("dangling", "%s: pack %s has no packs row" % (sop, r["pack"]), sop)
            if r["pack"] not in objects:
                v.add("dangling", "%s: pack object %s missing from the cold store" % (sop, r["pack"]), sop)
            elif objects[r["pack"]] and r["off"] + r["len"] > objects[r["pack"]]:
                v.add("dangling", "%s: entry past the end of %s" % (sop, r["pack"]), sop)
            if r["hot"]:
                v.add("two_locations", "%s: packed row keeps hot path %s after cleanup" % (sop, r["hot"]))
                referenced_hot.add(r["hot"])
    # Delete tombstones (archive/delete_tombstone.h) and correction records
    # (archive/correction_log.h) are records, not packs: rebuild-catalog reads them to keep
    # deleted instances dead and corrections applied. Each must be a non-empty object (sizes
    # are known for the local cold store; the S3 listing here carries none).
    tombstones = {k for k in objects if k.startswith(RECORD_PREFIXES)}
    for key in sorted(tombstones):
        if system.mode == "embedded" and not objects[key]:
            v.add("corrupt", "record %s is empty" % key)
    for key in sorted(set(objects) - set(packs) - tombstones):
        v.add("orphan", "cold object %s has no packs row" % key)
    for key in sorted(set(packs) - referenced_packs):
        v.add("orphan", "pack %s (study %s) referenced by no instance" % (key, packs[key]))
    for u in system.cold_pending():
        v.add("orphan", "pending upload / temp file %s" % u)
    for f in sorted(hot_files - referenced_hot):
        v.add("orphan", "hot file %s not in the catalog" % f)
    dup = system.sql("SELECT sop_uid, COUNT(*) FROM instances GROUP BY sop_uid HAVING COUNT(*) > 1")
    for sop, n in dup:
        v.add("two_locations", "%s: %s rows" % (sop, n))
    stuck = system.sql("SELECT study_uid, state, node FROM migrations WHERE state NOT IN ('done', 'failed')")
    for study, state, node in stuck:
        v.add("stuck_claim", "study %s: migration %s by %s after the final pass" % (study, state, node))
    return rows


def _qido_sops(node, study):
    req = urllib.request.Request(node.url() + "/dicomweb/studies/%s/instances" % study,
                                 headers={"Accept": "application/dicom+json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        if e.code in (204, 404):
            return set()
        raise
    return {(i.get("00080018", {}).get("Value") or [""])[0] for i in json.loads(body or b"[]")}


def check_deleted(system, expected, gone, rows, v):
    """(6) a deleted instance is gone from C-FIND and QIDO-RS on every node, and, the final
    pass having compacted every pack, no pack object still holds an entry no row references
    (no orphan entry) and the packs rows count exactly the live entries. Returns the number
    of pack objects opened."""
    studies = {}
    for sop, e in expected.items():
        studies.setdefault(e["study"], set()).add(sop)
    for sop, info in gone.items():
        studies.setdefault(info["study"], set())
    touched = sorted({info["study"] for info in gone.values()})
    for node in system.nodes:
        for study in touched:
            p = run(["findscu", "-v", "-S", "-aec", node.aet, "-k", "QueryRetrieveLevel=IMAGE",
                     "-k", "StudyInstanceUID=" + study, "-k", "SeriesInstanceUID", "-k", "SOPInstanceUID", *node.addr()],
                    timeout=120)
            found = {s.rstrip("\0 ") for s in _FIND_SOP.findall(p.stdout + p.stderr)}  # UI pads with NUL
            if p.returncode != 0:
                v.add("read_error", "c-find node %s study %s: rc %d" % (node.name, study, p.returncode))
            try:
                qido = _qido_sops(node, study)
            except (OSError, ValueError) as e:
                v.add("read_error", "qido-rs node %s study %s: %s" % (node.name, study, e))
                qido = None
            for route, got in (("c-find", found), ("qido-rs", qido)):
                if got is None:
                    continue
                for sop in sorted(got & set(gone)):
                    v.add("deleted_visible", "%s node %s: deleted %s listed" % (route, node.name, sop), sop)
                for sop in sorted(studies[study] - got):
                    v.add("unreadable", "%s node %s: %s not listed" % (route, node.name, sop), sop)
    # Every pack object: its entries are exactly the rows that point at it.
    live = {}
    for sop, r in rows.items():
        if r["tier"] != 0:
            live.setdefault(r["pack"], set()).add(sop)
    declared = {r[0]: int(r[1]) for r in system.sql("SELECT pack_key, entries FROM packs")}
    opened = 0
    for key, n in sorted(declared.items()):
        if n != len(live.get(key, ())):
            v.add("stale_entry", "pack %s: packs row says %d entries, %d rows point at it" % (
                key, n, len(live.get(key, ()))))
        data = _pack_bytes(system, key)
        if data is None:
            continue  # missing objects are the catalog check's (dangling)
        opened += 1
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile as e:
            v.add("stale_entry", "pack %s: not a zip (%s)" % (key, e))
            continue
        sops = {n.rsplit("/", 1)[1][:-4] for n in names if n.endswith(".dcm") and "/" in n}
        for sop in sorted(sops - live.get(key, set())):
            v.add("stale_entry", "pack %s still holds %s%s" % (key, sop, " (deleted)" if sop in gone else ""), sop)
    return opened


def _pack_bytes(system, key):
    if system.mode == "embedded":
        path = system.work / "cold" / key
        return path.read_bytes() if path.is_file() else None
    code, body = system.s3.request("GET", "/%s/%s/%s" % (BUCKET, system.prefix, key))
    return body if code == 200 else None


def replica_status(system, passes=12):
    """Final replication, direct to the stores: `strata replicate` until nothing is pending
    (a copy that failed during the faults may wait out its backoff, up to --replica-retry-max),
    then once more so that the copies of packs retired by the final compactions are removed
    (done only in a pass that starts with nothing of the study pending). Returns the last output."""
    out = ""
    for _ in range(passes):
        p = system.cli("replicate", direct=True, timeout=600)
        out = (p.stdout + p.stderr).strip()
        if p.returncode == 0 and " 0 pending" in out:
            break
        time.sleep(1)
    p = system.cli("replicate", direct=True, timeout=600)
    return p.returncode, (p.stdout + p.stderr).strip()


def check_replica(system, v):
    """(7) with a replica: every pack row's copy was verified ('replicated' in the backup queue)
    and both stores hold the same bytes; every tombstone and correction record of the primary is
    in the replica (and no correction record the primary removed stays there); the
    replica holds nothing else (`replica_orphan`: no object that no packs row or queue entry
    explains; tombstones and correction records are records); no queue entry pending or outliving its pack
    (`replica_stuck`). Run before anything else may repair: what is wrong now was left wrong
    by the final pass. Returns the number of packs compared."""
    packs = {r[0] for r in system.sql("SELECT pack_key FROM packs")}
    queue = {r[0]: r[1] for r in system.sql("SELECT pack_key, state FROM replica_queue")}
    primary = system.store_keys("primary")
    replica = system.store_keys("replica")
    compared = 0
    for key in sorted(packs):
        state = queue.get(key)
        if state != "replicated":
            v.add("replica_stuck", "pack %s: backup queue state %s after the final pass" % (key, state or "(no entry)"))
        a, b = system.store_get("primary", key), system.store_get("replica", key)
        if b is None:
            v.add("replica_bad", "pack %s missing from the replica" % key)
        elif a is not None and a != b:
            v.add("replica_bad", "pack %s: the two stores hold different bytes (%d / %d)" % (key, len(a), len(b)))
        compared += 1
    for key in sorted(set(queue) - packs):
        v.add("replica_stuck", "backup queue entry %s (%s) outlives its pack" % (key, queue[key]))
    tomb_p = {k for k in primary if k.startswith(RECORD_PREFIXES)}
    tomb_r = {k for k in replica if k.startswith(RECORD_PREFIXES)}
    for key in sorted(tomb_p - tomb_r):
        v.add("replica_bad", "record %s (tombstone or correction) not copied to the replica" % key)
    for key in sorted(k for k in tomb_r - tomb_p if k.startswith("corrections/")):
        v.add("replica_orphan", "correction record %s in the replica only (its change was refused)" % key)
    for key in sorted(replica - packs - set(queue) - tomb_r):
        v.add("replica_orphan", "replica object %s: no packs row, no queue entry" % key)
    return compared


def log_events(system, event):
    """How many times the nodes logged EVENT (e.g. pack_restored, read_from_replica)."""
    n = 0
    for node in system.nodes:
        try:
            n += node.log.read_text(errors="replace").count("event=%s " % event)
        except OSError:
            pass
    return n


_RESTORED = re.compile(r"event=pack_restored pack=(\S+) target=(\S+)")
_UNRECOVERABLE = re.compile(r"event=pack_unrecoverable pack=(\S+)")


def check_repairs(system, ledger, v):
    """(8) the nodes' scrubbers restored only what the faults damaged (the schedule damages one
    copy of a verified pack, so anything else restored was sound or retired, and a restored
    retired pack is an orphan), and never called a pack unrecoverable (one copy was always
    good). Returns (restored, spurious)."""
    restored = spurious = 0
    for node in system.nodes:
        try:
            text = node.log.read_text(errors="replace")
        except OSError:
            continue
        for key, target in _RESTORED.findall(text):
            restored += 1
            if key not in ledger.damaged:
                spurious += 1
                v.add("spurious_repair", "node %s restored %s in the %s, which no fault damaged" % (node.name, key, target))
        for key in _UNRECOVERABLE.findall(text):
            v.add("spurious_repair", "node %s: pack %s reported unrecoverable (a fault damages one copy only)" % (
                node.name, key))
    return restored, spurious

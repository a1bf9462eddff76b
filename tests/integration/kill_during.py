"""The kill-during-X scaffolding of the high-availability tests (test_pg_failover.py,
test_ceph_osd_loss.py): ingest a generated set and insist on every acknowledgement, wait until
migration is under way (and not finished) so that a kill lands inside it, wait until it is
finished after the kill, keep readers busy across a kill, and end with the safety checker's
verdict. The part that is killed (a PostgreSQL primary, an OSD) is the test's own."""
import shutil
import tempfile
import threading
import time
from pathlib import Path

import ha_system as ha
from dicomio import file_digest  # tests/safety (ha_system puts it on the path)
from workload import wado


def packed_count(system):
    return int(system.sql("SELECT count(*) FROM instances WHERE tier <> 0")[0][0])


def ingest_all(system, out, studies, slices, seed, threads=3, batch=6):
    """Generates STUDIES x 2 series x SLICES, stores them all (re-sending the refused); returns
    (instances, ledger) once every one is acknowledged."""
    insts = ha.instances(out, studies=studies, slices=slices, seed=seed)
    ledger = ha.Ledger()
    ha.Ingest(system, ledger, insts, threads=threads, batch=batch).start().join()
    assert len(ledger.acked) == len(insts), "%d of %d acknowledged" % (len(ledger.acked), len(insts))
    return insts, ledger


def wait_migrating(system, total, timeout=60):
    """Waits until some but not all of TOTAL instances are packed (the moment to kill); returns
    how many are packed."""
    deadline = time.time() + timeout
    packed = 0
    while time.time() < deadline:
        packed = packed_count(system)
        if packed > 0:
            break
        time.sleep(0.05)
    assert 0 < packed < total, "migration did not start, or finished before the kill (%d of %d packed)" % (
        packed, total)
    return packed


def wait_all_packed(system, total, since=None, timeout=120):
    """Waits until all TOTAL instances are packed; returns the time the count first rose above
    SINCE (None if SINCE is None or it never did). Fails if migration stalls."""
    deadline = time.time() + timeout
    first_after, now = None, 0
    while time.time() < deadline:
        now = packed_count(system)
        if since is not None and first_after is None and now > since:
            first_after = time.time()
        if now == total:
            return first_after
        time.sleep(0.1)
    raise AssertionError("migration stalled after the kill (%d of %d packed)" % (now, total))


def assert_clean(system, ledger):
    """The safety checker's verdict (final pass, every acknowledged instance read back
    bit-identical from every node, catalog and store checks) must have no violation."""
    v = ha.verdict(system, ledger)
    assert v.total() == 0, ha.describe(v)


class Readers:
    """THREADS clients reading whole studies from NODE in turn, alternately by C-GET and
    WADO-RS, each compared with what was acknowledged; a short, failed or different read is an
    error. mark() notes the count at a kill, so reads after it can be counted."""

    def __init__(self, system, ledger, node=None, threads=3):
        self.sys, self.node = system, node or system.nodes[0]
        self.studies = {}
        for sop, e in ledger.acked.items():
            self.studies.setdefault(e["study"], {})[sop] = e["sha"]
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.errors, self.reads, self.slowest, self.marks = [], 0, 0.0, {}
        self.tmp = Path(tempfile.mkdtemp(dir=str(system.work)))
        # daemon threads: a failed assertion before stop() must not keep pytest alive
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(threads)]

    def _run(self, k):
        order, i, node = sorted(self.studies), k, self.node
        while not self.stop_ev.is_set():
            study = order[i % len(order)]
            i += 1
            expect = self.studies[study]
            t0 = time.time()
            if i % 2:
                out = Path(tempfile.mkdtemp(dir=str(self.tmp)))
                p = ha.cluster.run(["getscu", "-S", "-aec", node.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY",
                                    "-k", "StudyInstanceUID=" + study, *node.addr()], timeout=120)
                got = dict(file_digest(f) for f in out.iterdir())
                shutil.rmtree(out, ignore_errors=True)
                route = "c-get rc %d" % p.returncode
            else:
                got = dict(wado(node, study, timeout=120))
                route = "wado-rs"
            dt = time.time() - t0
            with self.lock:
                self.reads += 1
                self.slowest = max(self.slowest, dt)
                if got != expect:
                    self.errors.append("%s study %s at %.1f: %d of %d instances, %d differ" % (
                        route, study, t0, len(set(got) & set(expect)), len(expect),
                        sum(1 for s in expect if s in got and got[s] != expect[s])))

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def mark(self, name):
        with self.lock:
            self.marks[name] = self.reads

    def since(self, name):
        with self.lock:
            return self.reads - self.marks[name]

    def stop(self):
        """Idempotent: the tests also call it in their finally."""
        self.stop_ev.set()
        for t in self.threads:
            if t.is_alive():
                t.join()
        shutil.rmtree(self.tmp, ignore_errors=True)

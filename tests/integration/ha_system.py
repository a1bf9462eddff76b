"""Shared pieces of the high-availability tests (test_pg_failover.py, test_ceph_osd_loss.py):
a system of `strata serve` nodes on one catalog and one cold store, built from the safety
checker's parts (tests/safety: Node, Ledger, final_pass, check_reads, check_catalog), and a
C-STORE client that timestamps every response, so that a failover's gap can be measured as a
client sees it."""
import os
import queue
import re
import sqlite3
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "safety"))
import cluster  # noqa: E402
from checker import Violations, catalog_rows, check_catalog, check_reads, resolve_deletes  # noqa: E402
from run_safety import final_pass  # noqa: E402
from workload import Instance, Ledger  # noqa: E402

CI_STRICT = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
_RSP = re.compile(r"Received Store Response \(([^)]*)\)")
_SENDING = re.compile(r"Sending file: (.+)$")


def engine_missing(what):
    """An engine that cannot start: a failure under CI=true, a skip elsewhere."""
    if CI_STRICT:
        pytest.fail("CI=true and %s: the test cannot run without it" % what)
    pytest.skip(what)


def args(**kw):
    a = dict(codec="none", lease="6s", interval="1s", older_than="2s", hot_mb=256)
    a.update(kw)
    return types.SimpleNamespace(**a)


class HaSystem(cluster.System):
    """Nodes a and b on CATALOG (postgresql://... or sqlite:PATH) and COLD (file:DIR, or
    s3://BUCKET/PREFIX with S3_ENDPOINT). Provides what checker.py and final_pass expect."""

    def __init__(self, work, a, catalog, cold, s3_endpoint=None, tiering=False, names=("a", "b")):
        self.work, self.args = Path(work), a
        self.work.mkdir(parents=True, exist_ok=True)
        self.catalog, self.cold, self.s3_endpoint = catalog, cold, s3_endpoint
        self.mode = "embedded" if cold.startswith("file:") else "full"
        self.hot = cluster.HotVolume(self.work / "hot", a.hot_mb)
        self.pg_proxy = self.s3_proxy = None
        self.started = []
        if cold.startswith("s3://"):
            from s3util import S3
            bucket, self.prefix = cold[5:].split("/", 1)
            self.s3 = S3(endpoint=s3_endpoint)
            self.s3.create_bucket(bucket)
            cluster.BUCKET = bucket
        flags = ["--tiering-enabled", "true" if tiering else "false", "--tiering-interval", a.interval,
                 "--tiering-older-than", a.older_than, "--tiering-lease", a.lease, "--tiering-codec", a.codec,
                 "--hot-reconcile-grace", "120s", "--hot-reconcile-interval", "30s"]
        self.nodes = [cluster.Node(n, self.work, self.common_flags() + flags) for n in names]

    def common_flags(self, direct=False):
        f = ["--catalog", self.catalog, "--cold", self.cold, "--hot-dir", str(self.hot.path)]
        if self.s3_endpoint:
            f += ["--s3-endpoint", self.s3_endpoint]
        return f

    def sql(self, query):
        if self.catalog.startswith("sqlite:"):
            con = sqlite3.connect("file:%s?mode=ro" % self.catalog[7:], uri=True, timeout=30)
            try:
                return [tuple("" if v is None else str(v) for v in r) for r in con.execute(query)]
            finally:
                con.close()
        p = cluster.run(["psql", self.catalog, "-tAF", "\x1f", "-c", query], timeout=120)
        if p.returncode != 0:
            raise RuntimeError("psql: " + p.stderr)
        return [tuple(line.split("\x1f")) for line in p.stdout.splitlines() if line]

    def close(self):
        for n in self.nodes:
            n.kill9()
        self.hot.close()


def start_nodes(system):
    for n in system.nodes:
        assert n.start(), "node %s did not start:\n%s" % (n.name, n.log.read_text()[-3000:])


def instances(out, studies, slices, seed):
    p = cluster.run([cluster.STRATA_GEN, "ct", "--out", out, "--patients", studies, "--studies-per-patient", 1,
                     "--series", 2, "--slices", slices, "--size", 64, "--seed", seed, "-q"])
    assert p.returncode == 0, p.stderr
    return [Instance(str(f), False) for f in sorted(Path(out).rglob("*.dcm"))]


class Ingest:
    """THREADS storescu clients, BATCH files per association, spread over the nodes; a store
    that was not acknowledged goes back to the queue and is sent again later. Every response
    is timestamped as storescu prints it (-v)."""

    def __init__(self, system, ledger, insts, threads=3, batch=4):
        self.sys, self.ledger = system, ledger
        self.todo = queue.Queue()
        for i in range(0, len(insts), batch):
            self.todo.put(insts[i:i + batch])
        self.n = len(insts)
        self.events = []  # (time, ok)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._worker, args=(k,)) for k in range(threads)]
        self.deadline = time.time() + 150

    def _store(self, node, batch):
        by_path = {i.path: i for i in batch}
        p = subprocess.Popen(["storescu", "-v", "-aec", node.aet, *node.addr(), *by_path], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=dict(os.environ, TCP_NODELAY="1"))
        current, left = None, dict(by_path)
        for line in p.stdout:
            m = _SENDING.search(line)
            if m:
                current = by_path.get(m.group(1).strip())
                continue
            m = _RSP.search(line)
            if m and current is not None:
                ok = m.group(1).startswith("Success") or m.group(1).startswith("Warning")
                with self.lock:
                    self.events.append((time.time(), ok))
                if ok:
                    self.ledger.ack(current, "c-store")
                    left.pop(current.path, None)
                current = None
        p.wait()
        return list(left.values())

    def _worker(self, k):
        turn = k
        while time.time() < self.deadline:
            try:
                batch = self.todo.get(timeout=0.2)
            except queue.Empty:
                if len(self.ledger.acked) >= self.n:
                    return
                continue
            node = self.sys.nodes[turn % len(self.sys.nodes)]
            turn += 1
            left = self._store(node, batch)
            if left:
                self.ledger.count("store_not_acknowledged", len(left))
                time.sleep(0.2)
                self.todo.put(left)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self):
        for t in self.threads:
            t.join()

    def gap(self, t_fault, t_back):
        """The outage as the clients saw it: the longest stretch without any acknowledgement
        that overlaps [T_FAULT, T_BACK]; returns (last success before it, first after it),
        client clock times, or None where there was none. (Stores whose answers were on the
        way when the fault struck are acknowledged a moment after T_FAULT.)"""
        with self.lock:
            oks = sorted(t for t, ok in self.events if ok)
        best = (None, None)
        for a, b in zip(oks, oks[1:]):
            if b >= t_fault and a <= t_back and (best[0] is None or b - a > best[1] - best[0]):
                best = (a, b)
        return best


def verdict(system, ledger, lease_s=6):
    """The safety checker's end-of-run verdict: final pass (clean stop, migrate, reconcile,
    restart), then every acknowledged instance read back by C-GET and WADO-RS, bit-identical,
    and the catalog/store checks. Returns the Violations."""
    v = Violations()
    final_pass(system, args(lease="%ds" % lease_s), v)
    expected, gone = resolve_deletes(ledger, catalog_rows(system))  # no deletes here: gone is empty
    check_reads(system, expected, gone, v)
    check_catalog(system, expected, gone, v)
    return v


def describe(v, limit=8):
    out = []
    for cat, items in sorted(v.items.items()):
        out.append("%s: %d" % (cat, len(items)))
        out += ["  " + t for t in items[:limit]]
    return "\n".join(out)

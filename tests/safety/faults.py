"""The fault schedule: seeded, so a failing seed replays the same sequence of fault kinds and
pauses (the system's own timing still varies). Every fault is undone before the next one
starts, except node deaths, which are repaired by restarting the node."""
import random
import subprocess
import threading
import time

from cluster import ROOT, run

FULL_KINDS = {  # kind -> weight
    "kill9": 5, "pg_restart": 2, "pg_cut_random": 2, "pg_cut_commit": 3, "s3_down": 2, "rgw_restart": 2,
    "disk_full": 2, "clock_skew": 1, "kill9_compaction": 2,
}
EMBEDDED_KINDS = {"kill9": 5, "disk_full": 2, "kill9_compaction": 2}
# With a replica (--replica on): its proxy cut (full mode), a node killed while the backup queue
# has copies due, a pack object deleted or corrupted in one of the two stores.
REPLICA_KINDS = {"replica_down": 2, "kill9_replicating": 2, "pack_damage": 3}
EMBEDDED_REPLICA_KINDS = {"kill9_replicating": 2, "pack_damage": 3}

# A claimed migration of a study whose packs hold dead entries (a delete's): a compaction.
_COMPACTING = ("SELECT m.node, m.study_uid FROM migrations m WHERE m.state IN ('claimed', 'uploaded') AND m.study_uid IN"
               " (SELECT p.study_uid FROM packs p WHERE p.entries >"
               "  (SELECT COUNT(*) FROM instances i WHERE i.pack_key = p.pack_key AND i.tier = 1))")
# Packs whose replica copy was read back and verified (damaging one of their two copies must
# never lose data), with an entry's offset and length to corrupt.
_REPLICATED = ("SELECT p.pack_key, MIN(i.pack_offset), MIN(i.pack_length) FROM packs p"
               " JOIN replica_queue q ON q.pack_key = p.pack_key AND q.state = 'replicated'"
               " JOIN instances i ON i.pack_key = p.pack_key AND i.tier = 1 GROUP BY p.pack_key")


class Poller:
    """Fast catalog queries for the faults that wait for a moment (a compaction's claim): one
    psql session kept open (a new psql per query is too slow to see a claim of ~0.1 s), or
    SQLite read-only."""

    def __init__(self, system):
        self.sys, self.proc = system, None
        if system.mode == "full":
            self.proc = subprocess.Popen(["psql", system.pg_url_direct(), "-qtAF", "\x1f", "-v", "ON_ERROR_STOP=0"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True, bufsize=1)

    def query(self, q):
        if self.proc is None:
            return self.sys.sql(q)
        if self.proc.poll() is not None:
            self.__init__(self.sys)
        self.proc.stdin.write(q.rstrip(";") + ";\n\\echo __poll_end__\n")
        self.proc.stdin.flush()
        rows = []
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == "__poll_end__":
                return rows
            if line:
                rows.append(tuple(line.split("\x1f")))
        raise RuntimeError("psql session ended")

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


class Faults:
    def __init__(self, system, ledger, args, stop, clients=None):
        self.sys, self.ledger, self.args, self.stop = system, ledger, args, stop
        self.clients = clients  # asked for a delete that thins a pack (kill9_compaction)
        self.rng = random.Random(args.seed)
        self.kinds = dict(FULL_KINDS if system.mode == "full" else EMBEDDED_KINDS)
        if getattr(system, "replica", False):
            self.kinds.update(REPLICA_KINDS if system.mode == "full" else EMBEDDED_REPLICA_KINDS)
        self.damaged = set()  # pack keys damaged once (never twice: the other copy must stay good)
        self.poller = None
        if not system.hot.mounted:
            self.kinds = {k: w for k, w in self.kinds.items() if k != "disk_full"}
        if getattr(args, "only_kinds", None):  # --only-kinds: a subset of this mode's kinds, same weights
            unknown = set(args.only_kinds) - set(self.kinds)
            if unknown:
                raise ValueError("--only-kinds: %s not in this mode's kinds %s" % (
                    ",".join(sorted(unknown)), ",".join(sorted(self.kinds))))
            self.kinds = {k: w for k, w in self.kinds.items() if k in args.only_kinds}
            if not self.kinds:
                raise ValueError("--only-kinds left no fault kind to inject (disk_full needs the tmpfs)")
        self.done = []  # (time, kind, detail)
        self.thread = None

    def pick(self):
        kinds, weights = zip(*sorted(self.kinds.items()))
        return self.rng.choices(kinds, weights)[0]

    def restart(self, node):
        for _ in range(5):
            if node.start():
                return True
            node.kill9()
            time.sleep(1)
        self.ledger.count("restart_failed")
        return False

    def inject(self, kind):
        r, s = self.rng, self.sys
        node = r.choice(s.nodes)
        if kind == "kill9":
            time.sleep(r.uniform(0, 1.5))  # a random moment, not right after the last fault
            node.kill9()
            time.sleep(r.uniform(0.2, 2))
            self.restart(node)
            return "node " + node.name
        if kind == "kill9_compaction":
            # kill -9 of the node that is compacting a study right now. The delete client is
            # asked for a delete that thins a packed study (an instance or a series of it), so
            # the converter's next pass (1 s) compacts; the claim is polled for up to 8 s (a
            # compaction of these small packs lasts a fraction of a second). Without one to hit,
            # an ordinary kill -9.
            names = {n.name: n for n in s.nodes}
            if self.clients:
                self.clients.hold_cli_migrate.set()
            try:
                asked = self.clients.request_thinning(timeout=20) if self.clients else None
                if self.poller is None:
                    self.poller = Poller(s)
                deadline, hit = time.time() + 8, None
                while time.time() < deadline and hit is None:
                    try:
                        # migrations.node is the claim's owner, "<node id>/<pid>"
                        hit = next(((names[n.split("/")[0]], st) for n, st in self.poller.query(_COMPACTING)
                                    if n.split("/")[0] in names and names[n.split("/")[0]].alive()), None)
                    except Exception:
                        pass
                    if hit is None:
                        time.sleep(0.005)
            finally:
                if self.clients:
                    self.clients.hold_cli_migrate.clear()
            victim = hit[0] if hit else node
            victim.kill9()
            time.sleep(r.uniform(0.2, 1))
            self.restart(victim)
            if hit:
                self.ledger.count("kill9_during_compaction")
            return "node %s %s%s" % (victim.name, "compacting " + hit[1] if hit else "(no compaction running)",
                                     "" if asked else "; no thinning delete done")
        if kind == "kill9_replicating":
            # kill -9 while the backup queue has copies due (the nodes' replicators pass every
            # 1 s). Whether the victim was inside a pass is read from its log afterwards: an
            # event=replicated / replicate_failed after its last event=replicator_run.
            if self.poller is None:
                self.poller = Poller(s)
            deadline, due = time.time() + 6, 0
            while time.time() < deadline:
                try:
                    due = int(self.poller.query("SELECT COUNT(*) FROM replica_queue WHERE state = 'pending'")[0][0])
                except Exception:
                    due = 0
                if due:
                    break
                time.sleep(0.02)
            time.sleep(r.uniform(0, 0.5))
            mark = node.log.stat().st_size if node.log.exists() else 0
            node.kill9()
            mid = _mid_pass(node.log, mark)
            time.sleep(r.uniform(0.2, 1))
            self.restart(node)
            if due:
                self.ledger.count("kill9_with_copies_pending")
            if mid:
                self.ledger.count("kill9_during_replication")
            return "node %s (%d pending%s)" % (node.name, due, ", inside a pass" if mid else "")
        if kind == "replica_down":
            s.replica_proxy.down()
            time.sleep(r.uniform(1, 5))
            s.replica_proxy.restore()
            return ""
        if kind == "pack_damage":
            return self.damage_pack(r, s)
        if kind == "pg_restart":
            p = run([ROOT / "scripts" / "pg-dev.sh", "restart", s.pg_dir], timeout=120)
            return "rc %d" % p.returncode
        if kind == "pg_cut_random":
            p = r.choice([0.01, 0.05, 0.2])
            s.pg_proxy.cut_random(p)
            time.sleep(r.uniform(2, 5))
            s.pg_proxy.cut_random(0)
            s.pg_proxy.restore()
            return "p=%g" % p
        if kind == "pg_cut_commit":
            # COMMIT forwarded, its answer cut; sometimes the reconnections after it refused too,
            # or commits cut at random for a while.
            if r.random() < 0.3:
                s.pg_proxy.cut_commits(0.3)
                time.sleep(r.uniform(2, 5))
                s.pg_proxy.cut_commits(0)
                return "30% of commits for a while"
            n, refuse = r.randint(1, 4), r.choice([0, 0, 2])
            s.pg_proxy.cut_next_commit(n, when="after", then_refuse=refuse)
            time.sleep(r.uniform(2, 5))
            s.pg_proxy.restore()
            return "next %d commits (then refuse %d)" % (n, refuse)
        if kind == "s3_down":
            s.s3_proxy.down()
            time.sleep(r.uniform(1, 5))
            s.s3_proxy.restore()
            return ""
        if kind == "rgw_restart":
            # radosgw itself dies (in-flight PUTs and multipart uploads cut mid-body, not by a
            # proxy) and comes back on the same port; the call blocks until it answers HTTP.
            sig = r.choice(["KILL", "KILL", "TERM"])
            t = time.time()
            p = s.restart_rgw(sig)
            if p.returncode != 0:
                raise RuntimeError("restart-rgw rc %d: %s" % (p.returncode, p.stderr.strip()[-300:]))
            return "SIG%s, back in %.1f s" % (sig, time.time() - t)
        if kind == "disk_full":
            try:
                n = s.hot.fill()
                time.sleep(r.uniform(2, 5))
            finally:
                s.hot.unfill()
            return "%d MB filled" % (n >> 20)
        if kind == "clock_skew":
            node.kill9()
            node.skew = r.choice(["+5m", "-5m", "+20m"])
            self.restart(node)
            time.sleep(r.uniform(8, 15))
            node.kill9()
            node.skew = None
            self.restart(node)
            return "node %s" % node.name
        raise ValueError(kind)

    def damage_pack(self, r, s):
        """A pack object deleted, or one byte of an entry flipped, in ONE store: only packs whose
        replica copy was verified, each at most once, so the other copy is always sound. The
        scrubber (or `strata verify`) must restore it; reads meanwhile fall back to the other copy."""
        try:
            cands = [row for row in s.sql(_REPLICATED) if row[0] not in self.damaged]
        except Exception as e:
            return "no catalog: %r" % e
        if not cands:
            return "no replicated pack yet"
        key, off, length = r.choice(sorted(cands))
        store = r.choice(["primary", "replica"])
        how = r.choice(["delete", "corrupt"])
        self.damaged.add(key)
        if how == "delete":
            s.store_delete(store, key)
        elif not s.store_flip(store, key, int(off) + int(length) // 2):
            return "%s %s: gone before the flip" % (store, key)
        elif s.mode == "full" and not s.sql("SELECT 1 FROM packs WHERE pack_key = '%s'" % key):
            # read-flip-write on S3: if the pack was retired meanwhile, the PUT brought back an
            # object nobody will delete; the fault takes it back (a retired copy is gone anyway)
            s.store_delete(store, key)
            return "%s %s: retired during the flip (undone)" % (store, key)
        self.ledger.count("pack_damage_%s_%s" % (how, store))
        with self.ledger.lock:
            self.ledger.damaged[key] = (store, how)
        return "%s %s in the %s" % (how, key, store)

    def _loop(self):
        start = time.time()
        while not self.stop.is_set():
            if time.time() - start >= self.args.duration and len(self.done) >= self.args.faults:
                break
            kind = self.pick()
            t = time.time()
            try:
                detail = self.inject(kind)
            except Exception as e:  # a fault that could not be injected is reported, not hidden
                detail = "inject error: %r" % e
                self.ledger.count("inject_error")
            self.done.append((round(t - start, 1), kind, detail))
            self.stop.wait(self.rng.uniform(0.5, self.args.pause))
        for n in self.sys.nodes:  # whatever the last fault left dead
            if not n.alive():
                self.restart(n)
        if self.poller:
            self.poller.close()

    def start(self):
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def join(self):
        self.thread.join()


def _mid_pass(log, since):
    """True if LOG, from byte SINCE on (where the kill found it), shows a replication pass that
    copied or failed a pack and had not logged its end (event=replicator_run) yet."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, since - 20000))
            tail = f.read().decode(errors="replace").splitlines()
    except OSError:
        return False
    for line in reversed(tail):
        if "=== start" in line or "event=replicator_run" in line:
            return False
        if "event=replicated " in line or "event=replicate_failed " in line:
            return True
    return False

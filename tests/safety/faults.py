"""The fault schedule: seeded, so a failing seed replays the same sequence of fault kinds and
pauses (the system's own timing still varies). Every fault is undone before the next one
starts, except node deaths, which are repaired by restarting the node."""
import random
import threading
import time

from cluster import ROOT, run

FULL_KINDS = {  # kind -> weight
    "kill9": 5, "pg_restart": 2, "pg_cut_random": 2, "pg_cut_commit": 3, "s3_down": 2, "rgw_restart": 2,
    "disk_full": 2, "clock_skew": 1, "kill9_compaction": 2,
}
EMBEDDED_KINDS = {"kill9": 5, "disk_full": 2, "kill9_compaction": 2}

# A claimed migration of a study whose packs hold dead entries (a delete's): a compaction.
_COMPACTING = ("SELECT m.node, m.study_uid FROM migrations m WHERE m.state IN ('claimed', 'uploaded') AND m.study_uid IN"
               " (SELECT p.study_uid FROM packs p WHERE p.entries >"
               "  (SELECT COUNT(*) FROM instances i WHERE i.pack_key = p.pack_key AND i.tier = 1))")


class Faults:
    def __init__(self, system, ledger, args, stop):
        self.sys, self.ledger, self.args, self.stop = system, ledger, args, stop
        self.rng = random.Random(args.seed)
        self.kinds = FULL_KINDS if system.mode == "full" else EMBEDDED_KINDS
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
            # kill -9 of the node that is compacting a study right now (waits up to 4 s for one:
            # a compaction of these small packs lasts a fraction of a second); without one to
            # hit, an ordinary kill -9.
            names = {n.name: n for n in s.nodes}
            deadline, hit = time.time() + 4, None
            while time.time() < deadline and hit is None:
                try:
                    hit = next(((names[n], st) for n, st in s.sql(_COMPACTING) if n in names and names[n].alive()),
                               None)
                except Exception:
                    pass
                if hit is None:
                    time.sleep(0.01)
            victim = hit[0] if hit else node
            victim.kill9()
            time.sleep(r.uniform(0.2, 1))
            self.restart(victim)
            if hit:
                self.ledger.count("kill9_during_compaction")
            return "node %s %s" % (victim.name, "compacting " + hit[1] if hit else "(no compaction running)")
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

    def start(self):
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def join(self):
        self.thread.join()

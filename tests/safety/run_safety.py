#!/usr/bin/python3
"""Strata's safety checker (issue 10): concurrent clients + a seeded fault schedule + a ledger
of every acknowledgement, then proof that nothing acknowledged was lost or replaced.

  run_safety.py --mode full      two `strata serve` nodes over PostgreSQL + Ceph RGW, each
                                 behind a fault proxy, one shared hot dir on a small tmpfs
  run_safety.py --mode embedded  one node on SQLite + a file: cold store, CLI beside it

Prints one summary line (`safety: ...`) and exits 1 on any violation, listing each; 2 if the
system could not be set up (with CI=true that is a failure too, never a skip)."""
import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checker import (Violations, catalog_rows, check_catalog, check_deleted, check_reads,  # noqa: E402
                     check_repairs, check_replica, log_events, replica_status, resolve_deletes)
from cluster import SetupError, System  # noqa: E402
from lifecycle_check import check_lifecycle, resolve as resolve_lifecycle, sabotage_attribute  # noqa: E402
from faults import EMBEDDED_KINDS, EMBEDDED_REPLICA_KINDS, FULL_KINDS, REPLICA_KINDS, Faults  # noqa: E402
from workload import Clients, Ledger, generate  # noqa: E402


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["full", "embedded"], default="full")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("STRATA_SAFETY_SEED", "1")))
    ap.add_argument("--duration", type=float, default=150, help="seconds of faults (at least)")
    ap.add_argument("--faults", type=int, default=30, help="faults to inject (at least)")
    ap.add_argument("--pause", type=float, default=3.0, help="longest pause between faults, seconds")
    ap.add_argument("--only-kinds", type=lambda v: [k for k in v.split(",") if k], metavar="K1,K2",
                    help="inject only these fault kinds (their usual weights), e.g. rgw_restart,kill9")
    ap.add_argument("--studies", type=int, default=100)
    ap.add_argument("--slices", type=int, default=12, help="per series (2 series per study)")
    ap.add_argument("--late-slices", type=int, default=2, help="of each series, sent after the study is packed")
    ap.add_argument("--ingest-threads", type=int, default=3)
    ap.add_argument("--delete-share", type=float, default=0.2,
                    help="at most this share of the studies is deleted from (instance, series or study); 0: none")
    ap.add_argument("--lifecycle-share", type=float, default=0.15,
                    help="at most this share of the studies is corrected, merged or rejected from; 0: none")
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--older-than", default="3s")
    ap.add_argument("--lease", default="8s")
    ap.add_argument("--codec", default="none", help="pack codec (none keeps data sets bit-identical)")
    ap.add_argument("--hot-mb", type=int, default=48)
    ap.add_argument("--work", help="work directory (default: a new temp dir, removed on success)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--pg-dir", help="use this running scripts/pg-dev.sh server instead of starting one")
    ap.add_argument("--ceph-dir", help="use this running scripts/ceph-dev.sh cluster instead of starting one")
    ap.add_argument("--replica", choices=["on", "off"], default="on",
                    help="a replica (second cold store: a second Ceph cluster, or a second file: dir) with the"
                         " backup queue, the scrubber and its faults (default on)")
    ap.add_argument("--replica-ceph-dir", help="use this running scripts/ceph-dev.sh cluster as the replica")
    ap.add_argument("--scrub-interval", default="4s", help="the nodes' background scrub interval (with a replica)")
    ap.add_argument("--max-list", type=int, default=20, help="violations listed per category")
    ap.add_argument("--sabotage", action="store_true",
                    help="self-test: after the final pass delete one pack, corrupt another (embedded) and drop"
                         " an orphan hot file; the checker must report each")
    args = ap.parse_args()
    kinds = dict(FULL_KINDS if args.mode == "full" else EMBEDDED_KINDS)
    if args.replica == "on":
        kinds.update(REPLICA_KINDS if args.mode == "full" else EMBEDDED_REPLICA_KINDS)
    bad = sorted(set(args.only_kinds or []) - set(kinds))
    if bad:
        ap.error("--only-kinds: %s not a %s-mode fault kind (%s)" % (",".join(bad), args.mode, ",".join(sorted(kinds))))
    return args


def say(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def final_pass(system, args, v):
    """Clean restart, then migration + cleanup with the engines healthy (direct, no proxy)."""
    for n in system.nodes:
        rc = n.stop()
        if rc not in (0,):
            v.add("unclean_stop", "node %s: SIGTERM exit %s" % (n.name, rc))
    # Let every claim's lease run out, so the final cleanup may take over dead work.
    lease_s = float(args.lease.rstrip("s")) if args.lease.endswith("s") else 10.0
    time.sleep(lease_s + 1)
    # Nothing runs but these CLI passes now (each finishes before the next), so the janitor's
    # age margin for unreferenced objects (2 x lease by default) can be short: an orphan left
    # by work killed a moment before the final pass goes too.
    for node_id in [n.name for n in system.nodes] + ["cli", "cli"]:
        p = system.cli("migrate", "--older-than", "0s", "--tiering-orphan-grace", "1s", node_id=node_id, direct=True,
                       timeout=600)
        if p.returncode != 0:
            v.add("final_migrate", "migrate as %s exit %d: %s" % (node_id, p.returncode,
                                                                   (p.stdout + p.stderr).strip()[-400:]))
    # No store is in flight now (nodes stopped): reconcile the hot tier at once, as the
    # servers' janitor does after its grace period.
    if getattr(system, "replica", False):  # (the HA tests' systems have none)
        # Copies of the packs the final compactions wrote, removal of the retired ones.
        rc, out = replica_status(system)
        if rc != 0:
            v.add("final_replicate", "replicate exit %d: %s" % (rc, out[-400:]))
    # With a replica this also restores a pack damaged in one store from the other.
    p = system.cli("verify", "--hot", "--repair", "--hot-reconcile-grace", "0s", direct=True, timeout=600)
    if p.returncode not in (0, 1):  # 1 = problems found (and repaired); the checker re-verifies
        v.add("final_reconcile", "verify --hot --repair exit %d: %s" % (p.returncode,
                                                                        (p.stdout + p.stderr).strip()[-400:]))
    # Nodes back, converters and scrubbers off, for the reads (the checks see the stores as the
    # final pass left them).
    off = {"--tiering-enabled": "false", "--scrub-interval": "0"}
    for n in system.nodes:
        n.skew = None
        n.flags = [off.get(prev, f) for prev, f in zip([""] + n.flags, n.flags)]
        if not n.start():
            v.add("restart", "node %s did not start after the run" % n.name)


def sabotage(system):
    """Break the archive behind Strata's back, the way a lost or damaged object would."""
    packs = [r[0] for r in system.sql("SELECT DISTINCT pack_key FROM instances WHERE tier <> 0 ORDER BY pack_key")]
    done = []
    if system.replica:
        # Both copies of one pack gone (lost, unreadable), one byte of another flipped in the
        # primary only (the reads fall back, but the stores differ: replica_bad), and an object
        # in the replica nobody wrote (replica_orphan).
        if packs:
            system.store_delete("primary", packs[0])
            system.store_delete("replica", packs[0])
            done.append("deleted pack %s in both stores" % packs[0])
        if len(packs) > 1:
            off, length = map(int, system.sql("SELECT pack_offset, pack_length FROM instances WHERE pack_key = '%s'"
                                              % packs[1])[0])
            system.store_flip("primary", packs[1], off + length - 1)
            done.append("flipped the last byte of an entry in the primary's " + packs[1])
        stray = "packs/sabotage/stray.zip"
        if system.mode == "embedded":
            path = system.work / "replica" / stray
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"PK\5\6" + b"\0" * 18)
        else:
            system.replica_s3.request("PUT", "/%s/%s/%s" % (__import__("cluster").REPLICA_BUCKET, system.prefix, stray),
                                      body=b"PK\5\6" + b"\0" * 18)
        done.append("stray replica object " + stray)
        packs = []  # the primary-only sabotage below is done
    if packs:
        if system.mode == "embedded":
            (system.work / "cold" / packs[0]).unlink()
        else:
            system.s3.request("DELETE", "/%s/%s/%s" % (__import__("cluster").BUCKET, system.prefix, packs[0]))
        done.append("deleted pack " + packs[0])
    if len(packs) > 1 and system.mode == "embedded":
        off, length = map(int, system.sql("SELECT pack_offset, pack_length FROM instances WHERE pack_key = '%s'"
                                          % packs[1])[0])
        path = system.work / "cold" / packs[1]
        with open(path, "r+b") as f:
            f.seek(off + length - 1)
            b = f.read(1)
            f.seek(off + length - 1)
            f.write(bytes([b[0] ^ 0xFF]))
        done.append("flipped the last byte of an entry in " + packs[1])
    orphan = system.hot.path / "00" / "00" / "sabotage.dcm"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"\0" * 128 + b"DICM")
    done.append("orphan hot file " + str(orphan))
    return "; ".join(done)


def main():
    args = parse()
    ci = os.environ.get("CI", "").lower() == "true"
    work = Path(args.work or tempfile.mkdtemp(prefix="strata-safety-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)  # PostgreSQL runs as the postgres user and must reach its directory
    say("mode=%s seed=%d work=%s" % (args.mode, args.seed, work))
    try:
        system = System(args.mode, work, args)
    except SetupError as e:
        print("safety: SETUP FAILED (%s): %s" % ("CI: failing, not skipping" if ci else "not run", e), flush=True)
        return 2
    v = Violations()
    ledger = Ledger()
    ok = False
    try:
        say("hot dir: %s" % system.hot.note)
        insts = generate(work / "gen", args, __import__("random").Random(args.seed))
        say("generated %d instances in %d studies" % (len(insts), len({i.study for i in insts})))
        for n in system.nodes:
            if not n.start():
                raise SetupError("node %s did not start: %s" % (n.name, n.log.read_text()[-2000:]))
        stop = threading.Event()
        clients = Clients(system, ledger, insts, args, stop)
        faults = Faults(system, ledger, args, stop, clients)
        t0 = time.time()
        say("clients and faults start (t=0)")
        clients.start(args.seed)
        faults.start()
        faults.join()
        fault_s = time.time() - t0
        say("faults done: %d in %.0f s; acknowledged so far %d" % (len(faults.done), fault_s, len(ledger.acked)))
        # A short quiet period: ingest and late additions finish with every engine healthy.
        deadline = time.time() + 60
        while time.time() < deadline and not clients.ingest_done():
            time.sleep(1)
        stop.set()
        clients.join()
        if system.pg_proxy:
            system.pg_proxy.restore()
            system.s3_proxy.restore()
        system.hot.unfill()
        say("clients stopped; acknowledged %d; final pass" % len(ledger.acked))
        rows_before = catalog_rows(system)
        final_pass(system, args, v)
        tiers = system.sql("SELECT tier, COUNT(*) FROM instances GROUP BY tier ORDER BY tier")
        migs = system.sql("SELECT state, COUNT(*) FROM migrations GROUP BY state ORDER BY state")
        future = system.sql("SELECT COUNT(*) FROM studies WHERE last_received_ms > %d" % int(time.time() * 1000))
        say("after the final pass: tiers %s; migrations %s; studies whose last image 'arrived' in the future"
            " (a skewed node's clock): %s" % (dict(tiers), dict(migs), future[0][0] if future else "?"))
        if args.sabotage:
            say("sabotage: " + sabotage(system) + "; " + sabotage_attribute(system, ledger))
        expected, gone = resolve_deletes(ledger, catalog_rows(system))
        say("deletes: %d acknowledged (%d instances), %d instances unsure -> %d gone, %d expected" % (
            sum(1 for d in ledger.deletes if d[-1] == "acked"), len(ledger.deleted), len(ledger.delete_unsure),
            len(gone), len(expected)))
        want, rejected = resolve_lifecycle(system, ledger, expected, v)
        changed = ledger.life.changed if ledger.life else set()
        say("checking reads from every node")
        # Corrected and merged studies are served patched: check_lifecycle compares them.
        check_reads(system, {s: e for s, e in expected.items() if e["study"] not in changed}, gone, v)
        compared, repairs = 0, (0, 0)
        if system.replica:
            say("checking the replica: both copies of every pack, orphans, the backup queue, the scrubbers' repairs")
            compared = check_replica(system, v)
            repairs = check_repairs(system, ledger, v)
        say("checking catalog, stores and hot dir")
        rows = check_catalog(system, expected, gone, v)
        say("checking deletes: C-FIND, QIDO-RS, pack entries")
        opened = check_deleted(system, expected, gone, rows, v)
        say("checking corrections, merges and rejections: catalog, C-FIND, QIDO-RS, served data sets, re-sends")
        life_compared = check_lifecycle(system, ledger, expected, want, rejected, v)
        for kind, route, studies in ledger.lifecycle_refused:
            v.add("lifecycle_refused", "%s by %s of %s refused with a definite error" % (kind, route, " ".join(studies)))
        for route, sop, why in ledger.bad_reads:
            v.add("corrupt_during_run", "%s: %s %s" % (route, sop, why), sop)
        for route, sop, why in ledger.flags:
            v.add("resend_flagged", "%s re-send of %s reported as different content: %s" % (route, sop, why))
        read_hot = sum(1 for s, t in ledger.read_tiers.items() if 0 in t)
        read_packed = sum(1 for s, t in ledger.read_tiers.items() if any(x != 0 for x in t))
        kinds = {}
        for _, k, _ in faults.done:
            kinds[k] = kinds.get(k, 0) + 1
        say("fault schedule (s after start, kind, detail):")
        for t, k, d in faults.done:
            print("  %7.1f %-14s %s" % (t, k, d))
        say("faults: " + " ".join("%s=%d" % kv for kv in sorted(kinds.items())))
        say("deletes (t, kind, tiers, route, study, series, instances, outcome):")
        t_start = ledger.deletes[0][0] if ledger.deletes else 0
        for d in ledger.deletes:
            print("  %7.1f %-8s %-6s %-3s %s %s %d %s" % ((d[0] - t_start,) + d[1:]))
        if ledger.life:
            say("lifecycle changes (t, kind, tiers, route, studies, outcome):")
            life_t0 = ledger.life.ops[0][0] if ledger.life.ops else 0
            for op in ledger.life.ops:
                print("  %7.1f %-8s %-6s %-6s %s %s" % ((op[0] - life_t0,) + op[1:]))
        say("events: " + " ".join("%s=%d" % kv for kv in sorted(ledger.events.items())))
        say("routes: c-store=%d stow-rs=%d; read back during the run: hot=%d packed=%d; rows=%d (before final %d)"
            " packed=%d" % (sum(1 for e in ledger.acked.values() if "c-store" in e["routes"]),
                            sum(1 for e in ledger.acked.values() if "stow-rs" in e["routes"]),
                            read_hot, read_packed, len(rows), len(rows_before),
                            sum(1 for r in rows.values() if r["tier"] != 0)))
        if system.pg_proxy:
            say("proxy stats: pg %s s3 %s%s" % (system.pg_proxy.stats(), system.s3_proxy.stats(),
                                                " replica %s" % system.replica_proxy.stats() if system.replica_proxy
                                                else ""))
        if system.replica:
            say("replica: %d packs compared in both stores; damaged during the run %d (%s); nodes restored %d packs"
                " (scrubber; %d of them not damaged), read %d entries from the replica (fallback)" % (
                    compared, len(ledger.damaged),
                    " ".join("%s/%s=%d" % (st, how, sum(1 for x in ledger.damaged.values() if x == (st, how)))
                             for st in ("primary", "replica") for how in ("delete", "corrupt")),
                    repairs[0], repairs[1], log_events(system, "read_from_replica")))
        for cat in sorted(v.items):
            items = v.items[cat]
            print("VIOLATION %s (%d):" % (cat, len(items)))
            for t in items[:args.max_list]:
                print("  " + t)
            if len(items) > args.max_list:
                print("  ... %d more" % (len(items) - args.max_list))
        life = ledger.life.counts if ledger.life else {"corrected": 0, "merged": 0, "rejected": 0, "unsure": 0}
        # lost: acknowledged, and the catalog has no row or its row points at bytes that are gone;
        # unreadable: a row and bytes, but some node did not give it back (counted per instance).
        print("safety: mode=%s seed=%d rounds=1 faults=%d acknowledged=%d lost=%d unreadable=%d corrupt=%d "
              "orphans=%d two_locations=%d resend_flagged=%d deleted=%d deleted_visible=%d stale_entries=%d "
              "packs_opened=%d kill9_during_compaction=%d replica=%s replica_bad=%d replica_orphans=%d "
              "replica_stuck=%d kill9_during_replication=%d corrected=%d merged=%d rejected=%d lifecycle_unsure=%d "
              "lifecycle_studies_read=%d lifecycle_violations=%d violations=%d" % (
                  args.mode, args.seed, len(faults.done), len(ledger.acked), v.distinct("lost", "dangling"),
                  v.distinct("unreadable"), v.distinct("corrupt", "corrupt_during_run"), v.n("orphan"),
                  v.n("two_locations"), v.n("resend_flagged"), len(gone), v.distinct("deleted_visible"),
                  v.n("stale_entry"), opened, ledger.events.get("kill9_during_compaction", 0), args.replica,
                  v.n("replica_bad"), v.n("replica_orphan"), v.n("replica_stuck"),
                  ledger.events.get("kill9_during_replication", 0), life["corrected"], life["merged"],
                  life["rejected"], life["unsure"], life_compared,
                  sum(v.n(c) for c in ("lifecycle_attr", "rejected_visible", "rejected_accepted", "lifecycle_refused")),
                  v.total()),
              flush=True)
        ok = v.total() == 0 and len(faults.done) >= args.faults and len(ledger.acked) > 0
        if len(ledger.acked) == 0:
            print("safety: nothing was acknowledged: the run proves nothing")
        return 0 if ok else 1
    except SetupError as e:
        print("safety: SETUP FAILED: %s" % e, flush=True)
        return 2
    finally:
        system.close()
        if ok and not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say("work dir kept: %s" % work)


if __name__ == "__main__":
    sys.exit(main())

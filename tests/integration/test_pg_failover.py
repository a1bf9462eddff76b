"""Catalog high availability (issue 16): a PostgreSQL primary with a synchronous streaming
standby (scripts/pg-dev.sh start-ha), two `strata serve` nodes on the multi-host URL
(target_session_attrs=read-write). The primary is SIGKILLed during ingest (several storescu
associations at once) and, in a second run, during migration; the standby is promoted; the
nodes must go on by themselves, and the safety checker's verdict must be clean: every
acknowledged image comes back bit-identical by C-GET and WADO-RS from both nodes, no row
points at missing bytes, nothing is orphaned. The failover gap seen by the clients is printed
(`failover:` lines; docs/benchmarks.md). Starts its own PostgreSQL pair: with CI=true a pair
that cannot start fails the test."""
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import ha_system as ha
import kill_during as kd

ROOT = Path(__file__).resolve().parents[2]
PG_DEV = ROOT / "scripts" / "pg-dev.sh"
PROMOTE_AFTER = 2.0  # seconds between the primary's death and the promotion (an operator's or a tool's delay)


@pytest.fixture
def pg_ha():
    if not shutil.which("psql") or not list(Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup")):
        ha.engine_missing("PostgreSQL is not installed (apt-get install postgresql)")
    # Outside pytest's private (0700) tree: the servers run as the "postgres" user under root.
    d = Path(tempfile.mkdtemp(prefix="strata-pg-ha-"))
    p = ha.cluster.run([PG_DEV, "start-ha", d], timeout=180)
    if p.returncode != 0:
        ha.cluster.run([PG_DEV, "stop", d])
        ha.engine_missing("scripts/pg-dev.sh start-ha failed: " + (p.stdout + p.stderr)[-1500:])
    env = ha.cluster.read_env(d / "env")
    env["dir"] = d
    yield env
    ha.cluster.run([PG_DEV, "stop", d], timeout=120)
    shutil.rmtree(d, ignore_errors=True)


def kill_and_promote(pg):
    t_kill = time.time()
    p = ha.cluster.run([PG_DEV, "kill-primary", pg["dir"]])
    assert p.returncode == 0, p.stderr
    time.sleep(PROMOTE_AFTER)
    t_promote = time.time()
    p = ha.cluster.run([PG_DEV, "promote", pg["dir"]], timeout=120)
    assert p.returncode == 0, p.stderr
    status = ha.cluster.run([PG_DEV, "ha-status", pg["dir"]]).stdout
    assert "primary: down" in status and "standby: up (primary)" in status, status
    return t_kill, t_promote, time.time()


def server_port(system):
    return system.sql("SELECT inet_server_port()")[0][0]


def test_primary_killed_during_ingest(pg_ha, tmp_path):
    system = ha.HaSystem(tmp_path / "w", ha.args(), pg_ha["STRATA_TEST_PG_URL"], "file:%s" % (tmp_path / "w" / "cold"))
    try:
        ha.start_nodes(system)
        assert server_port(system) == pg_ha["PGDEV_PRIMARY_PORT"]
        insts = ha.instances(tmp_path / "gen", studies=16, slices=8, seed=16)
        ledger = ha.Ledger()
        ingest = ha.Ingest(system, ledger, insts, threads=3, batch=4).start()
        while len(ledger.acked) < len(insts) // 4:
            time.sleep(0.05)
        acked_before = len(ledger.acked)
        t_kill, t_promote, t_promoted = kill_and_promote(pg_ha)
        ingest.join()
        last, first = ingest.gap(t_kill, t_promoted)
        assert last and first, "no acknowledgement before or after the failover"
        assert all(n.alive() for n in system.nodes), "a node died with its catalog's primary"
        assert len(ledger.acked) == len(insts), "%d of %d acknowledged in the end" % (len(ledger.acked), len(insts))
        assert server_port(system) == pg_ha["PGDEV_STANDBY_PORT"]
        print("failover: ingest, %d images (%d acknowledged before the kill, %d refused stores re-sent); "
              "promotion %.2f s after the kill took %.2f s; client gap %.2f s (last success %+.2f s from the "
              "kill, first %+.2f s from the promotion's end)" % (
                  len(insts), acked_before, ledger.events.get("store_not_acknowledged", 0), t_promote - t_kill,
                  t_promoted - t_promote, first - last, last - t_kill, first - t_promoted))
        kd.assert_clean(system, ledger)
    finally:
        system.close()


def test_primary_killed_during_migration(pg_ha, tmp_path):
    system = ha.HaSystem(tmp_path / "w", ha.args(), pg_ha["STRATA_TEST_PG_URL"], "file:%s" % (tmp_path / "w" / "cold"),
                         tiering=True)
    try:
        ha.start_nodes(system)
        insts, ledger = kd.ingest_all(system, tmp_path / "gen", studies=24, slices=6, seed=17)
        packed = kd.wait_migrating(system, len(insts))
        t_kill, t_promote, t_promoted = kill_and_promote(pg_ha)
        first_after = kd.wait_all_packed(system, len(insts), since=packed, timeout=90)
        assert all(n.alive() for n in system.nodes), "a node died with its catalog's primary"
        print("failover: migration, %d images, %d packed at the kill; promotion %.2f s after the kill took %.2f s; "
              "first study packed %.2f s after the promotion, all %.2f s after" % (
                  len(insts), packed, t_promote - t_kill, t_promoted - t_promote,
                  (first_after or time.time()) - t_promoted, time.time() - t_promoted))
        kd.assert_clean(system, ledger)
    finally:
        system.close()


def test_commit_answer_lost_in_the_switch(pg_ha, tmp_path):
    """A COMMIT that the old primary never answered, while the standby already holds it: the
    standby's replay is paused and the primary waits for remote_apply, so a store hangs in its
    COMMIT; the standby is promoted (it replays what it has), then the primary is killed. The
    node's inquiry lands on another server instance, so it must not trust a transaction id
    there: kUnknownOutcome, read-back from the new primary, and the client's answer must match
    what the new primary holds."""
    p1, p2 = pg_ha["PGDEV_PRIMARY_PORT"], pg_ha["PGDEV_STANDBY_PORT"]
    primary = "postgresql://strata@127.0.0.1:%s/strata" % p1
    standby = "postgresql://strata@127.0.0.1:%s/strata" % p2
    system = ha.HaSystem(tmp_path / "w", ha.args(), pg_ha["STRATA_TEST_PG_URL"], "file:%s" % (tmp_path / "w" / "cold"),
                         names=("a",))
    try:
        ha.start_nodes(system)
        insts = ha.instances(tmp_path / "gen", studies=1, slices=3, seed=18)
        ledger = ha.Ledger()
        first, last = insts[:-1], insts[-1]
        ha.Ingest(system, ledger, first, threads=1, batch=len(first)).start().join()
        assert len(ledger.acked) == len(first)
        for sql in ("ALTER SYSTEM SET synchronous_commit = 'remote_apply'", "SELECT pg_reload_conf()"):
            ha.cluster.run(["psql", primary, "-tAc", sql])
        ha.cluster.run(["psql", standby, "-tAc", "SELECT pg_wal_replay_pause()"])
        time.sleep(1)
        node = system.nodes[0]
        store = ha.subprocess.Popen(["storescu", "-v", "-aec", node.aet, *node.addr(), last.path],
                                    stdout=ha.subprocess.PIPE, stderr=ha.subprocess.STDOUT, text=True)
        time.sleep(3)
        assert store.poll() is None, "the store did not wait for the paused standby:\n" + store.stdout.read()
        p = ha.cluster.run([PG_DEV, "promote", pg_ha["dir"]], timeout=120)
        assert p.returncode == 0, p.stderr
        ha.cluster.run([PG_DEV, "kill-primary", pg_ha["dir"]])
        out, _ = store.communicate(timeout=120)
        m = ha._RSP.search(out)
        assert m, out
        acked = m.group(1).startswith("Success") or m.group(1).startswith("Warning")
        if acked:
            ledger.ack(last, "c-store")
        held = system.sql("SELECT count(*) FROM instances WHERE sop_uid = '%s'" % last.sop)[0][0] == "1"
        log = node.log.read_text()
        assert "is gone" in log and "read_back=" in log, "the lost COMMIT was not settled by a read-back:\n" + log[-3000:]
        assert acked == held, "client told %s, the new primary %s the row" % (m.group(1), "has" if held else "lacks")
        print("failover: lost COMMIT settled by read-back (%s; row %s on the promoted standby)" % (
            m.group(1), "present" if held else "absent"))
        kd.assert_clean(system, ledger)
    finally:
        system.close()

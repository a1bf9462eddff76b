"""The replica and self-repair (issue 16) against a real `strata serve` with a file: replica:
packs are copied by the backup queue and counted replicated once read back (/api/stats); a
byte corrupted in the primary's pack is not noticed by C-GET and WADO-RS clients (the reads
fall back to the replica); `strata verify` restores the primary from the replica; a pack lost
in the replica is restored from the primary."""
import json
import os
import time
import urllib.request
import uuid

import pytest

from conftest import STRATA, free_port, gen, run, storescu, study_uid_of
from test_rebuild import cget_instances, wado_instances


def api_stats(server):
    with urllib.request.urlopen("http://127.0.0.1:%d/api/stats" % server.http_port, timeout=30) as r:
        return json.loads(r.read())


def test_replica_copy_fallback_and_repair(server_factory, tmp_path):
    replica = tmp_path / "replica"
    data = tmp_path / "data0"
    extra = ["--tiering-enabled", "false", "--replica", "file:%s" % replica, "--replica-interval", "1s"]
    server = server_factory(http_port=free_port(), extra=extra)
    files = gen("ct", tmp_path / "ct", patients=1, studies_per_patient=1, series=2, slices=4, rows=64, cols=64, seed=31)
    study = study_uid_of(files)
    storescu(server, files)
    run([STRATA, "migrate", "--data", data, "--older-than", "0s", "--replica", "file:%s" % replica])
    packs = sorted(p.relative_to(data / "cold") for p in (data / "cold").rglob("*.zip"))
    assert len(packs) == 1
    # The server's replicator picks the pack up (interval 1s) and verifies the copy.
    t0 = time.time()
    while time.time() - t0 < 30:
        st = api_stats(server)["replica"]
        if st["packs_replicated"] == 1:
            break
        time.sleep(0.2)
    replicate_s = time.time() - t0
    assert st["packs_replicated"] == 1 and st["packs_pending"] == 0 and st["studies_replicated"] == 1, st
    assert (replica / packs[0]).read_bytes() == (data / "cold" / packs[0]).read_bytes()
    p = run([STRATA, "replicate", "--data", data, "--replica", "file:%s" % replica, "--status"])
    assert "1 packs replicated" in p.stdout and "studies 1 of 1 replicated" in p.stdout, p.stdout

    before_wado = wado_instances(server, study)
    before_get = cget_instances(server, study, tmp_path / "get-before")
    assert len(before_wado) == 8
    # Corrupt one byte in the middle of the primary's pack (inside an entry's data).
    primary = data / "cold" / packs[0]
    raw = bytearray(primary.read_bytes())
    raw[len(raw) // 3] ^= 0x41
    primary.write_bytes(bytes(raw))
    assert wado_instances(server, study) == before_wado
    assert cget_instances(server, study, tmp_path / "get-after") == before_get
    assert "event=read_from_replica" in server.log_text()

    # verify restores the primary from the replica, then finds everything sound.
    p = run([STRATA, "verify", "--data", data, "--replica", "file:%s" % replica], check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "RESTORED primary " + str(packs[0]) in p.stdout and "1 restored in the primary" in p.stdout, p.stdout
    assert primary.read_bytes() == (replica / packs[0]).read_bytes()
    # The replica's copy lost: restored from the primary.
    (replica / packs[0]).unlink()
    p = run([STRATA, "verify", "--data", data, "--replica", "file:%s" % replica], check=False)
    assert p.returncode == 0 and "1 in the replica" in p.stdout, p.stdout
    assert (replica / packs[0]).read_bytes() == primary.read_bytes()
    # Both bad: verify says so and exits 1.
    raw = bytearray(primary.read_bytes())
    raw[len(raw) // 3] ^= 0x41
    primary.write_bytes(bytes(raw))
    (replica / packs[0]).unlink()
    p = run([STRATA, "verify", "--data", data, "--replica", "file:%s" % replica], check=False)
    assert p.returncode == 1 and "unrecoverable" in p.stdout, p.stdout
    print("BENCH replicate one study (8 instances, 1 pack) via the server's queue: %.2f s" % replicate_s)


S3_URL = os.environ.get("STRATA_TEST_S3_ENDPOINT", "")
# The replica's own cluster (scripts/test.sh starts a second ceph-dev cluster with credentials of
# its own): another endpoint, fsid, OSD and radosgw, so a copy really crosses clusters.
REPLICA_URL = os.environ.get("STRATA_TEST_S3_REPLICA_ENDPOINT", "")
NEEDS_TWO = pytest.mark.skipif(not (S3_URL and REPLICA_URL),
                               reason="needs STRATA_TEST_S3_ENDPOINT and STRATA_TEST_S3_REPLICA_ENDPOINT (two Ceph"
                                      " clusters: scripts/test.sh starts both)")


def replica_s3():
    from s3util import S3
    return S3(endpoint=REPLICA_URL, access_key=os.environ["STRATA_TEST_S3_REPLICA_ACCESS_KEY"],
              secret_key=os.environ["STRATA_TEST_S3_REPLICA_SECRET_KEY"],
              region=os.environ.get("STRATA_TEST_S3_REPLICA_REGION", "us-east-1"))


def replica_flags(bucket, endpoint=None):
    return ["--replica", "s3://" + bucket, "--replica-endpoint", endpoint or REPLICA_URL,
            "--replica-access-key", os.environ["STRATA_TEST_S3_REPLICA_ACCESS_KEY"],
            "--replica-secret-key", os.environ["STRATA_TEST_S3_REPLICA_SECRET_KEY"],
            "--replica-region", os.environ.get("STRATA_TEST_S3_REPLICA_REGION", "us-east-1")]


def wait_replicated(server, n, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout and api_stats(server)["replica"]["packs_replicated"] != n:
        time.sleep(0.05)
    return time.time() - t0


@NEEDS_TWO
def test_replica_on_a_second_ceph_cluster(server_factory, tmp_path):
    """Primary and replica on two Ceph clusters (each its own RGW, credentials and OSD): the
    queue copies; a corrupted primary object is not noticed by WADO-RS (read from the other
    cluster); `strata verify` restores it; an object deleted in the replica is restored from
    the primary. The replica's credentials are refused by the primary's cluster and vice versa."""
    from s3util import S3
    s3, rs3 = S3(), replica_s3()
    tag = uuid.uuid4().hex[:8]
    primary_b, replica_b = "prim-" + tag, "repl-" + tag
    s3.create_bucket(primary_b)
    rs3.create_bucket(replica_b)
    assert S3(endpoint=REPLICA_URL).request("PUT", "/other-" + tag)[0] == 403, "the two clusters share credentials"
    data = tmp_path / "data0"
    stores = ["--cold", "s3://" + primary_b, "--s3-endpoint", S3_URL] + replica_flags(replica_b)
    server = server_factory(http_port=free_port(), extra=["--tiering-enabled", "false", "--replica-interval", "1s"] + stores)
    files = gen("ct", tmp_path / "ct", patients=1, studies_per_patient=1, series=1, slices=6, rows=64, cols=64, seed=41)
    study = study_uid_of(files)
    storescu(server, files)
    run([STRATA, "migrate", "--data", data, "--older-than", "0s"] + stores)
    replicate_s = wait_replicated(server, 1, 60)
    assert api_stats(server)["replica"]["packs_replicated"] == 1
    keys = [k for k in s3.list_keys(primary_b, "packs/")]
    assert len(keys) == 1 and rs3.list_keys(replica_b, "packs/") == keys
    assert s3.request("GET", "/" + replica_b)[0] == 404, "the replica's bucket is on the primary's cluster"
    before = wado_instances(server, study)
    status, body = s3.request("GET", "/%s/%s" % (primary_b, keys[0]))
    assert status == 200 and rs3.request("GET", "/%s/%s" % (replica_b, keys[0]))[1] == body
    raw = bytearray(body)
    raw[len(raw) // 3] ^= 0x41
    assert s3.request("PUT", "/%s/%s" % (primary_b, keys[0]), body=bytes(raw))[0] == 200
    assert wado_instances(server, study) == before
    assert "event=read_from_replica" in server.log_text()
    p = run([STRATA, "verify", "--data", data] + stores, check=False)
    assert p.returncode == 0 and "1 restored in the primary" in p.stdout, p.stdout + p.stderr
    assert s3.request("GET", "/%s/%s" % (primary_b, keys[0]))[1] == body
    assert rs3.request("DELETE", "/%s/%s" % (replica_b, keys[0]))[0] in (200, 204)
    p = run([STRATA, "verify", "--data", data] + stores, check=False)
    assert p.returncode == 0 and "1 in the replica" in p.stdout, p.stdout + p.stderr
    assert rs3.request("GET", "/%s/%s" % (replica_b, keys[0]))[1] == body
    # A bigger study for the figure: 2 series x 40 slices of 256 x 256.
    files = gen("ct", tmp_path / "ct2", patients=1, studies_per_patient=1, series=2, slices=40, rows=256, cols=256,
                seed=42)
    storescu(server, files)
    run([STRATA, "migrate", "--data", data, "--older-than", "0s"] + stores)
    t_big = wait_replicated(server, 2, 120)
    assert api_stats(server)["replica"]["packs_replicated"] == 2
    size = sum(f.stat().st_size for f in files)
    print("BENCH replicate one study (6 instances, 1 pack, %d KB) to a second Ceph cluster: %.2f s" % (
        len(body) >> 10, replicate_s))
    print("BENCH replicate one study (80 instances, %.1f MB) to a second Ceph cluster: %.2f s (from the migrate's end;"
          " queue interval 1 s)" % (size / 1e6, t_big))


@NEEDS_TWO
def test_replica_through_fault_proxy(server_factory, tmp_path):
    """The replica cluster's endpoint behind the fault proxy: while it is down every copy fails
    and stays pending (nothing counts as replicated); with connections cut at random the passes
    retry until every pack is replicated, and every replica object is the primary's, byte for byte."""
    from faultproxy import FaultProxy
    from s3util import S3
    import urllib.parse
    s3, rs3 = S3(), replica_s3()
    tag = uuid.uuid4().hex[:8]
    primary_b, replica_b = "fprim-" + tag, "frepl-" + tag
    s3.create_bucket(primary_b)
    rs3.create_bucket(replica_b)
    u = urllib.parse.urlsplit(REPLICA_URL)
    data = tmp_path / "data0"
    with FaultProxy(u.hostname, u.port, seed=int(os.environ.get("STRATA_FAULT_SEED", "1"))) as proxy:
        stores = ["--cold", "s3://" + primary_b, "--s3-endpoint", S3_URL] + \
            replica_flags(replica_b, "http://127.0.0.1:%d" % proxy.port) + ["--replica-retry", "0s"]
        server = server_factory(extra=["--tiering-enabled", "false"] + stores[:4])
        files = gen("ct", tmp_path / "ct", patients=4, studies_per_patient=1, series=1, slices=3, rows=64, cols=64,
                    seed=61)
        storescu(server, files)
        run([STRATA, "migrate", "--data", data, "--older-than", "0s"] + stores[:4])
        server.stop()
        keys = s3.list_keys(primary_b, "packs/")
        assert len(keys) == 4
        proxy.down()
        p = run([STRATA, "replicate", "--data", data] + stores, check=False)
        assert p.returncode == 1 and "0 packs replicated" in p.stdout and "4 pending" in p.stdout, p.stdout
        proxy.restore()
        proxy.cut_random(0.05)
        for attempt in range(20):
            p = run([STRATA, "replicate", "--data", data] + stores, check=False)
            if "4 packs replicated" in p.stdout:
                break
        assert "4 packs replicated" in p.stdout and "studies 4 of 4 replicated" in p.stdout, p.stdout
        assert proxy.stats().get("refused", 0) > 0  # the down phase really refused the replica
        print("fault proxy: %s; replicate passes after restore: %d" % (proxy.stats(), attempt + 1))
        assert sorted(rs3.list_keys(replica_b, "packs/")) == sorted(keys)
        for k in keys:
            assert rs3.request("GET", "/%s/%s" % (replica_b, k))[1] == s3.request("GET", "/%s/%s" % (primary_b, k))[1]

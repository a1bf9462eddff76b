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


@pytest.mark.skipif(not S3_URL, reason="needs STRATA_TEST_S3_ENDPOINT (scripts/ceph-dev.sh or ceph-micro.sh)")
def test_replica_on_ceph_buckets(server_factory, tmp_path):
    """Primary and replica in two RGW buckets: the queue copies, a corrupted primary object
    is not noticed by WADO-RS, and `strata verify` restores it from the replica bucket."""
    from s3util import S3
    s3 = S3()
    tag = uuid.uuid4().hex[:8]
    primary_b, replica_b = "prim-" + tag, "repl-" + tag
    s3.create_bucket(primary_b)
    s3.create_bucket(replica_b)
    data = tmp_path / "data0"
    stores = ["--cold", "s3://" + primary_b, "--replica", "s3://" + replica_b, "--s3-endpoint", S3_URL]
    server = server_factory(http_port=free_port(), extra=["--tiering-enabled", "false", "--replica-interval", "1s"] + stores)
    files = gen("ct", tmp_path / "ct", patients=1, studies_per_patient=1, series=1, slices=6, rows=64, cols=64, seed=41)
    study = study_uid_of(files)
    storescu(server, files)
    run([STRATA, "migrate", "--data", data, "--older-than", "0s"] + stores)
    t0 = time.time()
    while time.time() - t0 < 60 and api_stats(server)["replica"]["packs_replicated"] != 1:
        time.sleep(0.2)
    replicate_s = time.time() - t0
    assert api_stats(server)["replica"]["packs_replicated"] == 1
    keys = [k for k in s3.list_keys(primary_b, "packs/")]
    assert len(keys) == 1 and s3.list_keys(replica_b, "packs/") == keys
    before = wado_instances(server, study)
    status, body = s3.request("GET", "/%s/%s" % (primary_b, keys[0]))
    assert status == 200
    raw = bytearray(body)
    raw[len(raw) // 3] ^= 0x41
    assert s3.request("PUT", "/%s/%s" % (primary_b, keys[0]), body=bytes(raw))[0] == 200
    assert wado_instances(server, study) == before
    p = run([STRATA, "verify", "--data", data] + stores, check=False)
    assert p.returncode == 0 and "1 restored in the primary" in p.stdout, p.stdout + p.stderr
    assert s3.request("GET", "/%s/%s" % (primary_b, keys[0]))[1] == body
    print("BENCH replicate one study (6 instances, 1 pack) RGW bucket to RGW bucket: %.2f s" % replicate_s)


@pytest.mark.skipif(not S3_URL, reason="needs STRATA_TEST_S3_ENDPOINT (scripts/ceph-dev.sh or ceph-micro.sh)")
def test_replica_through_fault_proxy(server_factory, tmp_path):
    """The replica's endpoint behind the fault proxy: while it is down every copy fails and stays
    pending (nothing counts as replicated); with connections cut at random the passes retry
    until every pack is replicated, and every replica object is the primary's, byte for byte."""
    from faultproxy import FaultProxy
    from s3util import S3
    import urllib.parse
    s3 = S3()
    tag = uuid.uuid4().hex[:8]
    primary_b, replica_b = "fprim-" + tag, "frepl-" + tag
    s3.create_bucket(primary_b)
    s3.create_bucket(replica_b)
    u = urllib.parse.urlsplit(S3_URL)
    data = tmp_path / "data0"
    with FaultProxy(u.hostname, u.port, seed=int(os.environ.get("STRATA_FAULT_SEED", "1"))) as proxy:
        stores = ["--cold", "s3://" + primary_b, "--s3-endpoint", S3_URL, "--replica", "s3://" + replica_b,
                  "--replica-endpoint", "http://127.0.0.1:%d" % proxy.port, "--replica-retry", "0s"]
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
        assert sorted(s3.list_keys(replica_b, "packs/")) == sorted(keys)
        for k in keys:
            assert s3.request("GET", "/%s/%s" % (replica_b, k))[1] == s3.request("GET", "/%s/%s" % (primary_b, k))[1]

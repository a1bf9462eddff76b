"""`strata send` and `strata get` against real peers: two Strata nodes, DCMTK's storescp and
dcmqrscp, and (when installed) Debian's Orthanc in a private network namespace."""
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pydicom
import pytest

from conftest import STRATA, TOOL_ENV, free_port, gen, run, same_dataset, storescu, study_uid_of

ROOT = Path(__file__).resolve().parents[2]
# Strata's own commands must not need TCP_NODELAY from the environment.
STRATA_ENV = {k: v for k, v in os.environ.items() if k != "TCP_NODELAY"}


def strata(*args, timeout=300):
    return subprocess.run([STRATA, *[str(a) for a in args]], capture_output=True, text=True, timeout=timeout,
                          env=STRATA_ENV)


def summary(p):
    m = re.search(r"^summary: .*$", p.stdout, re.M)
    assert m, "no summary line:\n%s\n%s" % (p.stdout, p.stderr)
    return m.group(0)


def sops_in_catalog(server):
    con = sqlite3.connect(str(server.data / "catalog.db"))
    try:
        return {r[0] for r in con.execute("SELECT sop_uid FROM instances")}
    finally:
        con.close()


def instances_in_log(server):
    return sum(int(n) for n in re.findall(r"event=association .*?instances_in=(\d+)", server.log_text()))


def sop_of(path):
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def syntax_of(path):
    return str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)


class Peer:
    """A DCMTK server process started by a test (stopped by pid)."""

    def __init__(self, cmd, port, log):
        self.port = port
        self.logf = open(log, "w")
        self.proc = subprocess.Popen([str(c) for c in cmd], stdout=self.logf, stderr=subprocess.STDOUT, env=TOOL_ENV)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                import socket
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("%s did not start" % cmd[0])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.logf.close()


@pytest.fixture
def peers():
    started = []
    yield started
    for p in started:
        p.stop()


def start_storescp(peers, out, *opts):
    port = free_port()
    out.mkdir(parents=True, exist_ok=True)
    # Without --fork: one association at a time, the hardest case for a parallel sender.
    peers.append(Peer(["storescp", *opts, "-aet", "STORESCP", "-od", out, port], port, out.parent / "storescp.log"))
    return port


def start_dcmqrscp(peers, tmp_path):
    port = free_port()
    db = tmp_path / "qr" / "db"
    db.mkdir(parents=True)
    cfg = tmp_path / "qr" / "dcmqrscp.cfg"
    cfg.write_text("NetworkTCPPort = %d\nMaxPDUSize = 16384\nMaxAssociations = 16\n\n"
                   "HostTable BEGIN\nHostTable END\n\nVendorTable BEGIN\nVendorTable END\n\n"
                   "AETable BEGIN\nQRSCP %s RW (200, 1024mb) ANY\nAETable END\n" % (port, db))
    peers.append(Peer(["dcmqrscp", "-c", cfg], port, tmp_path / "qr" / "dcmqrscp.log"))
    return port


@pytest.fixture(scope="module")
def mixed_study(tmp_path_factory):
    """One CT study (one series of 14 slices, 128x128) whose files use seven transfer
    syntaxes: explicit LE, implicit LE, explicit BE, deflated, JPEG-LS lossless, RLE and JPEG
    lossless SV1 (converted with DCMTK's tools), two files each."""
    base = tmp_path_factory.mktemp("mixed")
    files = gen("ct", base / "src", patients=1, studies_per_patient=1, series=1, slices=14, seed=11, size=128)
    out = base / "study"
    out.mkdir()
    tools = [None, ["dcmconv", "+ti"], ["dcmconv", "+tb"], ["dcmconv", "+td"], ["dcmcjpls"], ["dcmcrle"], ["dcmcjpeg"]]
    result = []
    for i, f in enumerate(files):
        dst = out / ("%02d.dcm" % i)
        tool = tools[i // 2]
        if tool is None:
            shutil.copy(f, dst)
        else:
            run([*tool, f, dst])
        result.append(dst)
    assert len({syntax_of(f) for f in result}) == 7
    return result


# --- strata send ------------------------------------------------------------------------------

def test_send_parallel_over_two_nodes_stores_each_file_once(server_factory, ct_study):
    a, b = server_factory(), server_factory()
    p = strata("send", ct_study[0].parents[2], "--to", "127.0.0.1:%d,127.0.0.1:%d" % (a.port, b.port),
               "--parallel", 4)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "24/24 files stored" in summary(p) and "0 failures" in summary(p)
    on_a, on_b = sops_in_catalog(a), sops_in_catalog(b)
    assert on_a and on_b, "both nodes should get a share: %d / %d" % (len(on_a), len(on_b))
    assert not (on_a & on_b), "a file was stored on both nodes"
    assert on_a | on_b == {sop_of(f) for f in ct_study}
    # Exactly once on the wire too (a re-sent duplicate would be absorbed by the catalog).
    assert instances_in_log(a) + instances_in_log(b) == 24
    assert re.search(r"per node: 127\.0\.0\.1:%d=%d 127\.0\.0\.1:%d=%d" % (a.port, len(on_a), b.port, len(on_b)),
                     p.stdout)


def test_send_skips_non_dicom_files_and_counts_them(server, ct_study, tmp_path):
    src = tmp_path / "in"
    shutil.copytree(ct_study[0].parents[2], src)
    (src / "README.txt").write_text("not an image\n")
    (src / "empty.dcm").write_bytes(b"")
    (src / "nested").mkdir()
    (src / "nested" / "random.bin").write_bytes(os.urandom(4096))
    p = strata("send", src, "--to", "127.0.0.1:%d" % server.port, "-j", 3)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "24/24 files stored" in summary(p)
    assert "3 non-DICOM files skipped" in summary(p)
    assert len(sops_in_catalog(server)) == 24


def test_send_to_storescp_keeps_every_syntax(peers, mixed_study, tmp_path):
    out = tmp_path / "scp"
    port = start_storescp(peers, out, "+xa")
    p = strata("send", *mixed_study, "--to", "127.0.0.1:%d" % port, "--called-aet", "STORESCP", "--parallel", 4)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "14/14 files stored" in summary(p)
    got = {sop_of(f): f for f in out.iterdir()}
    assert len(got) == 14
    for f in mixed_study:
        r = got[sop_of(f)]
        assert syntax_of(r) == syntax_of(f), f.name
        assert same_dataset(f, r), f.name


def test_send_refused_syntax_is_listed(peers, mixed_study, tmp_path):
    # storescp without +xa takes only uncompressed syntaxes: the compressed files fail, by name.
    out = tmp_path / "scp"
    port = start_storescp(peers, out)
    p = strata("send", *mixed_study, "--to", "127.0.0.1:%d" % port, "--called-aet", "STORESCP", "--parallel", 2)
    assert p.returncode == 1
    compressed = [f for f in mixed_study if syntax_of(f).startswith("1.2.840.10008.1.2.4") or
                  syntax_of(f) in ("1.2.840.10008.1.2.5", "1.2.840.10008.1.2.1.99")]
    failed = re.findall(r"^FAILED (\S+) ", p.stderr, re.M)
    assert sorted(failed) == sorted(str(f) for f in compressed), p.stderr
    assert "did not accept" in p.stderr
    assert len(list(out.iterdir())) == 14 - len(compressed)


def test_dead_node_fails_with_a_list_and_nonzero_exit(ct_study):
    dead = free_port()
    p = strata("send", *ct_study[:5], "--to", "127.0.0.1:%d" % dead, "--retries", 1)
    assert p.returncode == 1
    assert "0/5 files stored" in summary(p) and "5 failures" in summary(p)
    failed = re.findall(r"^FAILED (\S+) \(SOP ([0-9.]+)\): (.*)$", p.stderr, re.M)
    assert sorted(f[0] for f in failed) == sorted(str(f) for f in ct_study[:5])
    assert all("127.0.0.1:%d" % dead in f[2] for f in failed), p.stderr


def test_rejected_association_is_reported_per_file(server, ct_study):
    p = strata("send", *ct_study[:3], "--to", "127.0.0.1:%d" % server.port, "--called-aet", "NOT-STRATA")
    assert p.returncode == 1
    failed = re.findall(r"^FAILED (\S+) .*Called AE Title Not Recognized", p.stderr, re.M)
    assert sorted(failed) == sorted(str(f) for f in ct_study[:3]), p.stderr
    assert sops_in_catalog(server) == set()


def test_live_node_takes_over_from_a_dead_one(server, ct_study):
    dead = free_port()
    p = strata("send", *ct_study, "--to", "127.0.0.1:%d,127.0.0.1:%d" % (server.port, dead), "--parallel", 4)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "24/24 files stored" in summary(p)
    assert re.search(r"warning: cannot connect to 127\.0\.0\.1:%d" % dead, p.stderr), p.stderr
    assert len(sops_in_catalog(server)) == 24


def test_send_bad_usage(tmp_path):
    assert strata("send", tmp_path / "missing", "--to", "127.0.0.1:104").returncode == 2
    assert strata("send", tmp_path, "--to", "127.0.0.1").returncode == 2
    (tmp_path / "x.txt").write_text("x")
    p = strata("send", tmp_path, "--to", "127.0.0.1:104")
    assert p.returncode == 1 and "nothing to send" in p.stdout


# --- strata get -------------------------------------------------------------------------------

def check_retrieved(out, originals, study_uid, exact_syntax=True):
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) == len(originals), [str(f) for f in files]
    by_sop = {sop_of(f): f for f in originals}
    for f in files:
        ds = pydicom.dcmread(f)
        assert f.name == ds.SOPInstanceUID + ".dcm"
        assert f.parent.name == ds.SeriesInstanceUID and f.parent.parent == out
        assert ds.StudyInstanceUID == study_uid
        src = by_sop[str(ds.SOPInstanceUID)]
        if syntax_of(src) == syntax_of(f):
            assert same_dataset(src, f), f
        else:  # transcoded on the way (big endian -> little endian): same attributes and pixels
            a = pydicom.dcmread(src)
            assert all(e.tag == 0x7FE00010 or e.value == ds[e.tag].value for e in a) and len(a) == len(ds), f
            assert (a.pixel_array == ds.pixel_array).all(), f
        if exact_syntax:
            assert syntax_of(f) == syntax_of(src), f


@pytest.mark.parametrize("parallel", [4, 2, 1])
def test_get_from_strata_returns_identical_files(server, ct_study, tmp_path, parallel):
    storescu(server, ct_study)
    study = study_uid_of(ct_study)
    out = tmp_path / "out"
    p = strata("get", "--study", study, "--from", "127.0.0.1:%d" % server.port, "--out", out, "--parallel", parallel)
    assert p.returncode == 0, p.stdout + p.stderr
    s = summary(p)
    assert "24/24 instances received in 2 series" in s and "0 missing" in s
    # 2 series and 4 associations: each series cut into instance lists; 2 or 1: whole series.
    assert ("4 instance lists" if parallel == 4 else "0 instance lists") in p.stderr
    check_retrieved(out, ct_study, study)


def test_get_one_series(server, ct_study, tmp_path):
    storescu(server, ct_study)
    series = str(pydicom.dcmread(ct_study[0], stop_before_pixels=True).SeriesInstanceUID)
    mine = [f for f in ct_study if str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID) == series]
    out = tmp_path / "out"
    p = strata("get", "--study", study_uid_of(ct_study), "--series", series, "--from",
               "127.0.0.1:%d" % server.port, "--out", out)
    assert p.returncode == 0, p.stdout + p.stderr
    check_retrieved(out, mine, study_uid_of(ct_study))


def test_mixed_syntaxes_round_trip_through_strata(server, mixed_study, tmp_path):
    p = strata("send", *mixed_study, "--to", "127.0.0.1:%d" % server.port, "-j", 4)
    assert p.returncode == 0, p.stdout + p.stderr
    out = tmp_path / "out"
    p = strata("get", "--study", study_uid_of(mixed_study), "--from", "127.0.0.1:%d" % server.port, "--out", out,
               "-j", 4)
    assert p.returncode == 0, p.stdout + p.stderr
    check_retrieved(out, mixed_study, study_uid_of(mixed_study), exact_syntax=False)
    big_endian = "1.2.840.10008.1.2.2"  # retired; we do not propose it alone, so it comes back LE
    for f in mixed_study:
        if syntax_of(f) != big_endian:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
            assert syntax_of(out / ds.SeriesInstanceUID / (ds.SOPInstanceUID + ".dcm")) == syntax_of(f), f.name


def test_get_unknown_study_fails_clearly(server, tmp_path):
    p = strata("get", "--study", "1.2.3.4.5", "--from", "127.0.0.1:%d" % server.port, "--out", tmp_path / "o")
    assert p.returncode == 1
    assert "has no instances" in p.stderr
    p = strata("get", "--study", "1.2.03", "--from", "127.0.0.1:%d" % server.port, "--out", tmp_path / "o")
    assert p.returncode == 2


def test_get_from_dcmqrscp(peers, ct_study, tmp_path):
    port = start_dcmqrscp(peers, tmp_path)
    run(["storescu", "-aec", "QRSCP", "127.0.0.1", port, *ct_study])
    study = study_uid_of(ct_study)
    for parallel in (4, 1):
        out = tmp_path / ("out%d" % parallel)
        p = strata("get", "--study", study, "--from", "127.0.0.1:%d" % port, "--called-aet", "QRSCP", "--out", out,
                   "--parallel", parallel)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "24/24 instances received" in summary(p)
        check_retrieved(out, ct_study, study)


# --- Orthanc (Debian package), in a private network namespace -----------------------------------

def orthanc_usable():
    if not shutil.which("Orthanc") or not shutil.which("curl") or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not orthanc_usable(), reason="needs Debian's orthanc package and unshare --net")
def test_send_and_get_with_orthanc(mixed_study, tmp_path):
    study = study_uid_of(mixed_study)
    script = f"""
set -euo pipefail
ip link set lo up
source {ROOT}/bench/lib/orthanc.sh
trap orthanc_stop EXIT
orthanc_start {tmp_path}/orthanc 4242 8042 ORTHANC
{STRATA} send {' '.join(str(f) for f in mixed_study)} --to 127.0.0.1:4242 --called-aet ORTHANC -j 4 > {tmp_path}/send.out 2> {tmp_path}/send.err
echo "count=$(orthanc_count_instances)" > {tmp_path}/count.out
{STRATA} get --study {study} --from 127.0.0.1:4242 --called-aet ORTHANC --out {tmp_path}/get -j 4 > {tmp_path}/get.out 2> {tmp_path}/get.err
"""
    p = subprocess.run(["unshare", "--net", "bash", "-c", script], capture_output=True, text=True, timeout=180,
                       env=STRATA_ENV)
    logs = "".join((tmp_path / n).read_text() for n in ("send.out", "send.err", "get.out", "get.err")
                   if (tmp_path / n).exists())
    assert p.returncode == 0, p.stdout + p.stderr + logs
    assert "14/14 files stored" in (tmp_path / "send.out").read_text()
    assert (tmp_path / "count.out").read_text().strip() == "count=14"
    assert "14/14 instances received" in (tmp_path / "get.out").read_text()
    check_retrieved(tmp_path / "get", mixed_study, study, exact_syntax=False)

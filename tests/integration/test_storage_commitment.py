"""Storage Commitment Push Model SCP (PS3.4 Annex J) against peers that are not DCMTK: a raw
DIMSE client (the report on the same association, and on a new association to a raw SCP that
checks the SCP/SCU role selection), and Debian's Orthanc 1.10 as the SCU (its
/modalities/{id}/storage-commitment, the report arriving on a new association). Instances:
hot, packed (after `strata migrate`), unknown, corrupt on disk, stored under another class."""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pydicom  # noqa: E402
from pydicom.dataset import Dataset  # noqa: E402
from pydicom.filebase import DicomBytesIO  # noqa: E402
from pydicom.filewriter import write_dataset  # noqa: E402
from pydicom.sequence import Sequence  # noqa: E402
import pytest  # noqa: E402

from conftest import STRATA, Server, free_port, gen, run, storescu  # noqa: E402
import rawdimse  # noqa: E402
from rawdimse import _command, _item, _uid, parse_command  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STGCMT_CLASS = "1.2.840.10008.1.20.1"
STGCMT_INSTANCE = "1.2.840.10008.1.20.1.1"
NO_SUCH_INSTANCE, PROCESSING_FAILURE, CLASS_CONFLICT = 0x0112, 0x0110, 0x0119


# --- a raw DIMSE client and SCP for N-ACTION / N-EVENT-REPORT ----------------------------------

def encode(ds):
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)
    return fp.getvalue()


def decode(data):
    return pydicom.filereader.read_dataset(DicomBytesIO(data), is_implicit_VR=False, is_little_endian=True)


def us(cmd, tag):
    return struct.unpack("<H", cmd[tag])[0]


def text(cmd, tag):
    return cmd[tag].decode().strip("\0 ")


class Peer:
    """One side of an association over SOCK: reads and writes whole DIMSE messages."""

    def __init__(self, sock):
        self.sock = sock

    def recv_exact(self, n):
        return rawdimse.recv_exact(self.sock, n)

    def recv_pdu(self):
        return rawdimse.recv_pdu(self.sock)

    def send_pdu(self, t, body):
        rawdimse.send_pdu(self.sock, t, body)

    def send_message(self, pc_id, cmd_fields, dataset=None):
        cmd = _command(cmd_fields)
        self.send_pdu(0x04, struct.pack(">IBB", len(cmd) + 2, pc_id, 0x03) + cmd)
        if dataset is not None:  # in PDUs well under any peer's maximum
            chunk = 16000
            for at in range(0, max(len(dataset), 1), chunk):
                frag = dataset[at:at + chunk]
                last = 0x02 if at + chunk >= len(dataset) else 0x00
                self.send_pdu(0x04, struct.pack(">IBB", len(frag) + 2, pc_id, last) + frag)

    def recv_message(self):
        """(pc_id, command dict, data set bytes or None); raises on a non-P-DATA PDU."""
        cmd, data, pc_id = b"", b"", 0
        want_data = None
        while True:
            t, payload = self.recv_pdu()
            if t != 0x04:
                raise ConnectionError("expected P-DATA, got PDU type 0x%02x" % t)
            pos = 0
            while pos < len(payload):
                n = struct.unpack(">I", payload[pos:pos + 4])[0]
                pc_id, hdr = payload[pos + 4], payload[pos + 5]
                frag = payload[pos + 6:pos + 4 + n]
                pos += 4 + n
                if hdr & 0x01:
                    cmd += frag
                    if hdr & 0x02:
                        fields = parse_command(cmd)
                        want_data = us(fields, (0x0000, 0x0800)) != 0x0101
                        if not want_data:
                            return pc_id, fields, None
                else:
                    data += frag
                    if hdr & 0x02:
                        return pc_id, parse_command(cmd), data


def n_action(peer, pc_id, transaction, refs, msg_id=1):
    ds = Dataset()
    ds.TransactionUID = transaction
    ds.ReferencedSOPSequence = Sequence()
    for cls, uid in refs:
        item = Dataset()
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = cls, uid
        ds.ReferencedSOPSequence.append(item)
    peer.send_message(pc_id, {
        (0x0000, 0x0003): _uid(STGCMT_CLASS),
        (0x0000, 0x0100): struct.pack("<H", 0x0130),
        (0x0000, 0x0110): struct.pack("<H", msg_id),
        (0x0000, 0x0800): struct.pack("<H", 0x0000),
        (0x0000, 0x1001): _uid(STGCMT_INSTANCE),
        (0x0000, 0x1008): struct.pack("<H", 1),
    }, encode(ds))


def answer_event_report(peer, pc_id, cmd):
    peer.send_message(pc_id, {
        (0x0000, 0x0002): _uid(STGCMT_CLASS),
        (0x0000, 0x0100): struct.pack("<H", 0x8100),
        (0x0000, 0x0120): cmd[(0x0000, 0x0110)],
        (0x0000, 0x0800): struct.pack("<H", 0x0101),
        (0x0000, 0x0900): struct.pack("<H", 0),
        (0x0000, 0x1000): _uid(STGCMT_INSTANCE),
        (0x0000, 0x1002): cmd[(0x0000, 0x1002)],
    })


def report_of(cmd, data):
    """{'event': type, 'transaction':..., 'committed': {uid}, 'failed': {uid: reason}}"""
    assert us(cmd, (0x0000, 0x0100)) == 0x0100, cmd
    assert text(cmd, (0x0000, 0x0002)) == STGCMT_CLASS
    assert text(cmd, (0x0000, 0x1000)) == STGCMT_INSTANCE
    ds = decode(data)
    return {
        "event": us(cmd, (0x0000, 0x1002)),
        "transaction": str(ds.TransactionUID),
        "committed": {str(i.ReferencedSOPInstanceUID) for i in ds.get("ReferencedSOPSequence", [])},
        "failed": {str(i.ReferencedSOPInstanceUID): int(i.FailureReason) for i in ds.get("FailedSOPSequence", [])},
    }


class CommitmentSCU(rawdimse.Association):
    def __init__(self, host, port, calling="RAWSCU"):
        super().__init__(host, port, calling=calling, sop_class=STGCMT_CLASS, syntax=rawdimse.EXPLICIT_LE)
        self.peer = Peer(self.sock)


class RawReportSCP:
    """Accepts one association on a free port, answers the role selection as GRANT_SCP says,
    and records the A-ASSOCIATE-RQ's role sub-item and the N-EVENT-REPORT it receives."""

    def __init__(self, grant_scp=True, wrap=None):
        self.grant_scp = grant_scp
        self.wrap = wrap  # optional: turns the accepted socket into another (TLS, test_tls.py)
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.lsock.settimeout(30)
        self.port = self.lsock.getsockname()[1]
        self.role = None  # (scu_role, scp_role) proposed for the commitment class
        self.report = None
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.lsock.accept()
            conn.settimeout(30)
            if self.wrap:
                conn = self.wrap(conn)
            peer = Peer(conn)
            t, rq = peer.recv_pdu()
            assert t == 0x01
            pos, pc_id, calling = 68, None, rq[20:36]
            while pos < len(rq):
                it, n = rq[pos], struct.unpack(">H", rq[pos + 2:pos + 4])[0]
                body = rq[pos + 4:pos + 4 + n]
                if it == 0x20:
                    pc_id = body[0]
                elif it == 0x50:
                    sp = 0
                    while sp < len(body):
                        st, sn = body[sp], struct.unpack(">H", body[sp + 2:sp + 4])[0]
                        sb = body[sp + 4:sp + 4 + sn]
                        if st == 0x54:
                            un = struct.unpack(">H", sb[:2])[0]
                            if sb[2:2 + un].rstrip(b"\0").decode() == STGCMT_CLASS:
                                self.role = (sb[2 + un], sb[3 + un])
                        sp += 4 + sn
                pos += 4 + n
            user = _item(0x51, struct.pack(">I", 65536)) + _item(0x52, _uid("1.2.3.4"))
            if self.grant_scp:
                cls = STGCMT_CLASS.encode()
                user += _item(0x54, struct.pack(">H", len(cls)) + cls + bytes([0, 1]))
            ac = (struct.pack(">HH", 1, 0) + rq[4:36] + b"\0" * 32 + _item(0x10, _uid(rawdimse.APP_CONTEXT)) +
                  _item(0x21, struct.pack(">BBBB", pc_id, 0, 0, 0) + _item(0x40, _uid(rawdimse.EXPLICIT_LE))) +
                  _item(0x50, user))
            peer.send_pdu(0x02, ac)
            try:
                pc, cmd, data = peer.recv_message()
            except ConnectionError:
                return  # Strata aborted: no report for us
            self.report = report_of(cmd, data)
            answer_event_report(peer, pc, cmd)
            t, _ = peer.recv_pdu()
            if t == 0x05:
                peer.send_pdu(0x06, b"\0" * 4)
            conn.close()
        except Exception as e:  # surfaced by the test
            self.error = e

    def join(self):
        self.thread.join(40)
        self.lsock.close()


# --- fixtures -----------------------------------------------------------------------------------

def uids(f):
    d = pydicom.dcmread(f, stop_before_pixels=True)
    return str(d.SOPClassUID), str(d.SOPInstanceUID)


def flip_byte_of_hot_file(data, sop_uid):
    """Flips one byte in the middle of the hot file that holds SOP_UID."""
    for p in (data / "hot").rglob("*.dcm"):
        try:
            if str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) != sop_uid:
                continue
        except Exception:
            continue
        b = bytearray(p.read_bytes())
        b[len(b) // 2] ^= 0xFF
        p.write_bytes(bytes(b))
        return p
    raise AssertionError("no hot file for " + sop_uid)


def prepare(data_dir, tmp_path, server_factory=None, server=None):
    """Stores study A and packs it, then stores study B (hot) and corrupts one of its files.
    Returns the server and the (class, uid) pairs by kind."""
    a = gen("ct", tmp_path / "a", patients=1, studies_per_patient=1, series=1, slices=3, seed=31, size=64)
    b = gen("ct", tmp_path / "b", patients=1, studies_per_patient=1, series=1, slices=3, seed=32, size=64)
    storescu(server, a)
    p = run([STRATA, "migrate", "--data", server.data, "--older-than", "0s"])
    assert "3 instances" in p.stdout, p.stdout
    storescu(server, b)
    packed = [uids(f) for f in a]
    hot = [uids(f) for f in b]
    flip_byte_of_hot_file(server.data, hot[2][1])
    return {"packed": packed, "hot": hot[:2], "corrupt": hot[2],
            "unknown": (hot[0][0], "1.2.826.0.1.3680043.2.1143.999.%d" % os.getpid()),
            "conflict": ("1.2.840.10008.5.1.4.1.1.4", hot[0][1])}


def expected(kinds):
    committed = {u for _, u in kinds["packed"]} | {u for _, u in kinds["hot"]}
    failed = {kinds["corrupt"][1]: PROCESSING_FAILURE, kinds["unknown"][1]: NO_SUCH_INSTANCE,
              kinds["conflict"][1]: CLASS_CONFLICT}
    return committed, failed


def all_refs(kinds):
    return kinds["packed"] + kinds["hot"] + [kinds["corrupt"], kinds["unknown"], kinds["conflict"]]


# --- raw peers ---------------------------------------------------------------------------------

def test_report_on_the_same_association(server_factory, tmp_path):
    server = server_factory()
    kinds = prepare(server.data, tmp_path, server=server)
    scu = CommitmentSCU(server.addr()[0], int(server.port))
    n_action(scu.peer, 1, "1.2.826.0.1.3680043.2.1143.77.1", all_refs(kinds))
    _, rsp, _ = scu.peer.recv_message()
    assert us(rsp, (0x0000, 0x0100)) == 0x8130 and us(rsp, (0x0000, 0x0900)) == 0
    pc, cmd, data = scu.peer.recv_message()  # kept open: the report comes here
    report = report_of(cmd, data)
    answer_event_report(scu.peer, pc, cmd)
    scu.release()
    committed, failed = expected(kinds)
    assert report["event"] == 2
    assert report["transaction"] == "1.2.826.0.1.3680043.2.1143.77.1"
    assert report["committed"] == committed
    assert report["failed"] == failed
    log = server.log_text()
    assert re.search(r"event=storage_commitment transaction=1\.2\.826\.0\.1\.3680043\.2\.1143\.77\.1 "
                     r"requester=RAWSCU committed=5 failed=3 check_seconds=[0-9.]+ delivery=same_association "
                     r'status="ok"', log), log[-2000:]


def test_all_committed_is_event_type_1(server_factory, tmp_path):
    server = server_factory()
    files = gen("ct", tmp_path / "c", patients=1, studies_per_patient=1, series=1, slices=2, seed=33, size=64)
    storescu(server, files)
    scu = CommitmentSCU(server.addr()[0], int(server.port))
    n_action(scu.peer, 1, "1.2.826.0.1.3680043.2.1143.77.2", [uids(f) for f in files])
    scu.peer.recv_message()
    pc, cmd, data = scu.peer.recv_message()
    answer_event_report(scu.peer, pc, cmd)
    scu.release()
    report = report_of(cmd, data)
    assert report["event"] == 1 and report["failed"] == {}
    assert report["committed"] == {u for _, u in map(uids, files)}


def test_bad_requests_are_refused_and_the_server_lives(server_factory):
    server = server_factory()
    scu = CommitmentSCU(server.addr()[0], int(server.port))
    # No Transaction UID: 0x0120 (missing attribute), association kept.
    ds = Dataset()
    ds.ReferencedSOPSequence = Sequence()
    scu.peer.send_message(1, {
        (0x0000, 0x0003): _uid(STGCMT_CLASS), (0x0000, 0x0100): struct.pack("<H", 0x0130),
        (0x0000, 0x0110): struct.pack("<H", 1), (0x0000, 0x0800): struct.pack("<H", 0),
        (0x0000, 0x1001): _uid(STGCMT_INSTANCE), (0x0000, 0x1008): struct.pack("<H", 1)}, encode(ds))
    _, rsp, _ = scu.peer.recv_message()
    assert us(rsp, (0x0000, 0x0900)) == 0x0120
    # Action type 7: 0x0123 (no such action).
    scu.peer.send_message(1, {
        (0x0000, 0x0003): _uid(STGCMT_CLASS), (0x0000, 0x0100): struct.pack("<H", 0x0130),
        (0x0000, 0x0110): struct.pack("<H", 2), (0x0000, 0x0800): struct.pack("<H", 0),
        (0x0000, 0x1001): _uid(STGCMT_INSTANCE), (0x0000, 0x1008): struct.pack("<H", 7)},
        encode(Dataset()))
    _, rsp, _ = scu.peer.recv_message()
    assert us(rsp, (0x0000, 0x0900)) == 0x0123
    scu.release()
    run(["echoscu", "-aec", "STRATA", *server.addr()])


def nested_action_data(depth):
    """TransactionUID, then DEPTH Referenced SOP Sequences nested with undefined lengths."""
    uid = _uid("1.2.826.0.1.3680043.2.1143.77.9")
    head = struct.pack("<HH2sH", 0x0008, 0x1195, b"UI", len(uid)) + uid
    sq = struct.pack("<HH2sHI", 0x0008, 0x1199, b"SQ", 0, 0xFFFFFFFF)
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return head + (sq + item) * depth + end * depth


def send_raw_action(peer, data, msg_id=1):
    peer.send_message(1, {
        (0x0000, 0x0003): _uid(STGCMT_CLASS), (0x0000, 0x0100): struct.pack("<H", 0x0130),
        (0x0000, 0x0110): struct.pack("<H", msg_id), (0x0000, 0x0800): struct.pack("<H", 0),
        (0x0000, 0x1001): _uid(STGCMT_INSTANCE), (0x0000, 0x1008): struct.pack("<H", 1)}, data)
    _, rsp, _ = peer.recv_message()
    return us(rsp, (0x0000, 0x0900))


def test_deep_or_huge_requests_cannot_take_the_server_down(server_factory):
    server = server_factory()
    scu = CommitmentSCU(server.addr()[0], int(server.port))
    # At the bound (4096 items, nested): parsed, no SOP pairs in it -> missing attribute.
    assert send_raw_action(scu.peer, nested_action_data(4096), 1) == 0x0120
    # Past it: refused before parsing (0x0110), association and server alive.
    assert send_raw_action(scu.peer, nested_action_data(20000), 2) == 0x0110
    scu.release()
    run(["echoscu", "-aec", "STRATA", *server.addr()])
    assert server.alive()


@pytest.mark.parametrize("grant_scp", [True, False])
def test_report_on_a_new_association_with_role_selection(server_factory, tmp_path, grant_scp):
    scp = RawReportSCP(grant_scp=grant_scp)
    server = server_factory(extra=["--dimse-move-destinations", "RAWSCU=127.0.0.1:%d" % scp.port])
    files = gen("ct", tmp_path / "d", patients=1, studies_per_patient=1, series=1, slices=2, seed=34, size=64)
    storescu(server, files)
    scu = CommitmentSCU(server.addr()[0], int(server.port))
    n_action(scu.peer, 1, "1.2.826.0.1.3680043.2.1143.77.3", [uids(f) for f in files])
    _, rsp, _ = scu.peer.recv_message()
    assert us(rsp, (0x0000, 0x0900)) == 0
    scu.release()  # at once: the report must come on a new association
    scp.join()
    assert scp.error is None, scp.error
    assert scp.role == (0, 1)  # Strata proposes itself as SCP of the class, not SCU
    deadline = time.time() + 10
    while "delivery=new_association" not in server.log_text() and time.time() < deadline:
        time.sleep(0.1)
    if grant_scp:
        assert scp.report["event"] == 1
        assert scp.report["committed"] == {u for _, u in map(uids, files)}
        assert re.search(r'committed=2 failed=0 check_seconds=[0-9.]+ delivery=new_association status="ok"',
                         server.log_text())
    else:
        # Without the SCP role granted Strata must not send the report.
        assert scp.report is None
        assert "did not grant Strata the SCP role" in server.log_text()


# --- Orthanc 1.10 as the SCU, in a private network namespace -----------------------------------

def orthanc_usable():
    if not shutil.which("Orthanc") or not shutil.which("curl") or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


def http(port, method, path, body=None):
    cmd = ["curl", "-sf", "-m", "30", "-X", method, "http://127.0.0.1:%d%s" % (port, path)]
    if body is not None:
        cmd += ["-d", json.dumps(body)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, "%s %s: %s" % (method, path, p.stderr)
    return json.loads(p.stdout) if p.stdout.strip() else None


def orthanc_scenario(tmp):
    """Runs inside `unshare --net`: Strata and Orthanc on loopback; prints the result as JSON."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    tmp = Path(tmp)
    odicom, ohttp = 4242, 8042
    server = Server(tmp / "data", extra=["--dimse-move-destinations", "ORTHANC=127.0.0.1:%d" % odicom]).start()
    pidfile = tmp / "orthanc.pid"
    subprocess.run(["bash", "-c", "source %s/bench/lib/orthanc.sh && orthanc_start %s/orthanc %d %d ORTHANC "
                    ">/dev/null 2>&1 && echo $ORTHANC_PID > %s" % (ROOT, tmp, odicom, ohttp, pidfile)], check=True)
    try:
        kinds = prepare(server.data, tmp, server=server)
        http(ohttp, "PUT", "/modalities/strata", {"AET": "STRATA", "Host": "127.0.0.1", "Port": server.port})
        job = http(ohttp, "POST", "/modalities/strata/storage-commitment",
                   {"DicomInstances": [list(r) for r in all_refs(kinds)]})
        result = None
        deadline = time.time() + 60
        while time.time() < deadline:
            result = http(ohttp, "GET", "/storage-commitment/%s" % job["ID"])
            if result.get("Status") != "Pending":
                break
            time.sleep(0.2)
        print(json.dumps({"kinds": kinds, "job": job, "result": result}))
    finally:
        if pidfile.exists():
            pid = int(pidfile.read_text())
            os.kill(pid, 15)
            for _ in range(100):
                if not Path("/proc/%d" % pid).exists():
                    break
                time.sleep(0.1)
        server.stop()


@pytest.mark.skipif(not orthanc_usable(), reason="needs Debian's orthanc package and unshare --net")
def test_orthanc_storage_commitment(tmp_path):
    p = subprocess.run(["unshare", "--net", sys.executable, __file__, "orthanc", str(tmp_path)],
                       capture_output=True, text=True, timeout=240, env=dict(os.environ))
    logs = "".join(f.read_text()[-4000:] for f in [tmp_path / "data.log", tmp_path / "orthanc" / "orthanc.log"]
                   if f.exists())
    assert p.returncode == 0, p.stdout + p.stderr + logs
    out = json.loads(p.stdout.strip().splitlines()[-1])
    kinds, result = out["kinds"], out["result"]
    committed, failed = expected(kinds)
    assert result["Status"] == "Failure", result  # Orthanc's word for "some failed" (event type 2)
    assert {s["SOPInstanceUID"] for s in result["Success"]} == committed, result
    assert {f["SOPInstanceUID"]: f["FailureReason"] for f in result["Failures"]} == failed, result
    assert "delivery=new_association status=\"ok\"" in (tmp_path / "data.log").read_text(), logs


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "orthanc":
    orthanc_scenario(sys.argv[2])

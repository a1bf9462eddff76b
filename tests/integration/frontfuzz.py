"""A bounded mutation fuzzer for the front doors: valid C-STORE and C-FIND requests and
STOW-RS bodies, mutated (bit flips, truncation, inserted/deleted bytes, lying length fields,
repeated chunks), sent to a running `strata serve`. Any answer, or a dropped connection, is
fine; a dead process, a request that hangs, or memory that keeps growing is not."""
import io
import random
import socket
import struct
import time
import urllib.error
import urllib.request

import pydicom

import rawdimse

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"


def small_instance(path):
    """(transfer syntax, data set bytes) of PATH shrunk to a 16x16 image (fast to send)."""
    ds = pydicom.dcmread(path)
    ds.Rows, ds.Columns = 16, 16
    ds.PixelData = bytes(16 * 16 * 2)
    buf = io.BytesIO()
    ds.save_as(buf, write_like_original=False)
    raw = buf.getvalue()
    group_len = struct.unpack("<I", raw[140:144])[0]
    return str(ds.file_meta.TransferSyntaxUID), raw[144 + group_len:], raw


def mutate(rng, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        if not b:
            break
        at = rng.randrange(len(b))
        if op == 0:
            b[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            del b[at:]  # truncation
        elif op == 2:
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            del b[at:at + rng.randint(1, 64)]
        elif op == 4 and at + 4 <= len(b):  # a lying length field somewhere
            b[at:at + 4] = struct.pack("<I", rng.choice([0, 1, 0xFFFFFFFF, 0xFFFFFFF1, 0x7FFFFFFF,
                                                          rng.randrange(1 << 32)]))
        elif op == 5:
            n = rng.randint(1, 256)
            b[at:at] = b[at:at + n] * rng.randint(1, 20)
    return bytes(b)


def read_reply(sock_assoc, deadline):
    """Reads PDUs until a command's last fragment, an abort/release, or the peer closes."""
    sock_assoc.sock.settimeout(max(0.1, deadline - time.time()))
    while True:
        t, payload = sock_assoc._recv_pdu()
        if t != 0x04:
            return t
        pos = 0
        while pos + 6 <= len(payload):
            n = struct.unpack(">I", payload[pos:pos + 4])[0]
            if payload[pos + 5] & 0x03 == 0x03:
                return 0x04
            pos += 4 + n


def find_identifier():
    qrl = struct.pack("<HHI", 0x0008, 0x0052, 6) + b"STUDY "
    return qrl + struct.pack("<HHI", 0x0010, 0x0010, 2) + b"* " + struct.pack("<HHI", 0x0020, 0x000D, 0)


def find_command(msg_id):
    return rawdimse._command({
        (0x0000, 0x0002): rawdimse._uid(STUDY_ROOT_FIND),
        (0x0000, 0x0100): struct.pack("<H", 0x0020),
        (0x0000, 0x0110): struct.pack("<H", msg_id),
        (0x0000, 0x0700): struct.pack("<H", 0),
        (0x0000, 0x0800): struct.pack("<H", 0x0102),
    })


def store_command(sop, msg_id):
    return rawdimse._command({
        (0x0000, 0x0002): rawdimse._uid(CT_STORAGE),
        (0x0000, 0x0100): struct.pack("<H", 0x0001),
        (0x0000, 0x0110): struct.pack("<H", msg_id),
        (0x0000, 0x0700): struct.pack("<H", 0),
        (0x0000, 0x0800): struct.pack("<H", 0x0000),
        (0x0000, 0x1000): rawdimse._uid(sop),
    })


def dimse_case(rng, port, kind, ts, data, timeout=15):
    """One mutated C-STORE or C-FIND on a fresh association. Returns seconds taken."""
    t0 = time.time()
    deadline = t0 + timeout
    try:
        if kind == "store":
            a = rawdimse.Association("127.0.0.1", port, sop_class=CT_STORAGE, syntax=ts, timeout=timeout)
            cmd, payload = store_command("1.2.826.0.1.3680043.10.1337.99.%d" % rng.randrange(1 << 30), 1), data
        else:
            a = rawdimse.Association("127.0.0.1", port, sop_class=STUDY_ROOT_FIND, syntax=rawdimse.IMPLICIT_LE,
                                     timeout=timeout)
            cmd, payload = find_command(1), find_identifier()
    except (ConnectionError, OSError):
        raise AssertionError("association refused: the server is not answering")
    try:
        if rng.random() < 0.2:
            cmd = mutate(rng, cmd)
        else:
            payload = mutate(rng, payload)
        a._pdv(cmd, command=True, last=True)
        for i in range(0, max(1, len(payload)), 16000):
            a.send_data(payload[i:i + 16000], last=i + 16000 >= len(payload))
        read_reply(a, deadline)
    except socket.timeout:
        raise AssertionError("%s case hung for %d s" % (kind, timeout))
    except (ConnectionError, OSError, struct.error):
        pass  # refused or dropped: fine
    finally:
        a.sock.close()
    return time.time() - t0


def stow_case(rng, http_port, part, timeout=15):
    boundary = "fuzz-boundary-%d" % rng.randrange(1 << 30)
    body = (b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n--" +
            boundary.encode() + b"--\r\n")
    body = mutate(rng, body)
    req = urllib.request.Request("http://127.0.0.1:%d/dicomweb/studies" % http_port, data=body, method="POST",
                                 headers={"Content-Type": 'multipart/related; type="application/dicom"; boundary=' +
                                          boundary})
    t0 = time.time()
    try:
        urllib.request.urlopen(req, timeout=timeout).read()
    except urllib.error.HTTPError:
        pass
    except socket.timeout:
        raise AssertionError("STOW case hung for %d s" % timeout)
    except (ConnectionError, OSError) as e:
        if "timed out" in str(e):
            raise AssertionError("STOW case hung for %d s" % timeout)
    return time.time() - t0


def vmrss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

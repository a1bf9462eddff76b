"""A deliberately small DICOM upper-layer client for negative tests.

DCMTK's tools refuse to send malformed data, so the tests that check how Strata handles a
garbage data set, a peer that vanishes mid-transfer or a half-sent PDU speak the protocol
here: A-ASSOCIATE, P-DATA with a C-STORE-RQ command (Implicit VR Little Endian), raw data set
bytes, and A-RELEASE / A-ABORT.
"""
import socket
import struct

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
APP_CONTEXT = "1.2.840.10008.3.1.1.1"


def send_pdu(sock, t, body):
    """Sends one PDU of type T."""
    sock.sendall(struct.pack(">BBI", t, 0, len(body)) + body)


def recv_exact(sock, n):
    """Reads exactly N bytes (ConnectionError if the peer closes first)."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buf += chunk
    return buf


def recv_pdu(sock):
    """Reads one PDU; returns (type, body)."""
    t, _, n = struct.unpack(">BBI", recv_exact(sock, 6))
    return t, recv_exact(sock, n)


def _uid(s):
    b = s.encode()
    return b + b"\0" if len(b) % 2 else b


def _item(t, payload):
    return struct.pack(">BBH", t, 0, len(payload)) + payload


def _elem(group, elem, value):
    if len(value) % 2:
        value += b"\0" if isinstance(value, bytes) else b" "
    return struct.pack("<HHI", group, elem, len(value)) + value


def _command(fields):
    body = b"".join(_elem(g, e, v) for (g, e), v in sorted(fields.items()))
    return _elem(0x0000, 0x0000, struct.pack("<I", len(body))) + body


class Association:
    def __init__(self, host, port, called="STRATA", calling="RAWTEST", sop_class="1.2.840.10008.5.1.4.1.1.2",
                 syntax=EXPLICIT_LE, timeout=10, source=None, wrap=None):
        """WRAP (optional) turns the connected TCP socket into another, e.g. an ssl.SSLSocket."""
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if wrap:
            self.sock = wrap(self.sock)
        pc = _item(0x30, _uid(sop_class)) + _item(0x40, _uid(syntax))
        pres = _item(0x20, struct.pack(">BBBB", 1, 0, 0, 0) + pc)
        user = _item(0x50, _item(0x51, struct.pack(">I", 65536)) + _item(0x52, _uid("1.2.3.4")))
        body = (struct.pack(">HH", 1, 0) + called.ljust(16).encode() + calling.ljust(16).encode() + b"\0" * 32 +
                _item(0x10, _uid(APP_CONTEXT)) + pres + user)
        self._send_pdu(0x01, body)
        t, payload = self._recv_pdu()
        if t != 0x02:
            raise ConnectionError("association not accepted (PDU type 0x%02x)" % t)
        self.msg_id = 1

    def _send_pdu(self, t, body):
        send_pdu(self.sock, t, body)

    def _recv_exact(self, n):
        return recv_exact(self.sock, n)

    def _recv_pdu(self):
        return recv_pdu(self.sock)

    def _pdv(self, data, command, last):
        hdr = (0x01 if command else 0x00) | (0x02 if last else 0x00)
        pdv = struct.pack(">IBB", len(data) + 2, 1, hdr) + data
        self._send_pdu(0x04, pdv)

    def store_command(self, sop_class, sop_instance):
        cmd = _command({
            (0x0000, 0x0002): _uid(sop_class),
            (0x0000, 0x0100): struct.pack("<H", 0x0001),
            (0x0000, 0x0110): struct.pack("<H", self.msg_id),
            (0x0000, 0x0700): struct.pack("<H", 0),
            (0x0000, 0x0800): struct.pack("<H", 0x0000),
            (0x0000, 0x1000): _uid(sop_instance),
        })
        self.msg_id += 1
        self._pdv(cmd, command=True, last=True)

    def send_data(self, data, last=True):
        self._pdv(data, command=False, last=last)

    def read_status(self):
        """Reads the C-STORE-RSP and returns (status, error_comment)."""
        data = b""
        while True:
            t, payload = self._recv_pdu()
            if t != 0x04:
                raise ConnectionError("expected P-DATA, got PDU type 0x%02x" % t)
            pos = 0
            while pos < len(payload):
                n = struct.unpack(">I", payload[pos:pos + 4])[0]
                hdr = payload[pos + 5]
                data += payload[pos + 6:pos + 4 + n]
                pos += 4 + n
                if hdr & 0x02:
                    return _parse_status(data)

    def store(self, sop_class, sop_instance, dataset_bytes):
        self.store_command(sop_class, sop_instance)
        self.send_data(dataset_bytes)
        return self.read_status()

    def release(self):
        self._send_pdu(0x05, b"\0" * 4)
        try:
            self._recv_pdu()
        finally:
            self.sock.close()

    def close_abruptly(self):
        self.sock.close()


def _parse_status(cmd):
    pos, status, comment = 0, None, ""
    while pos + 8 <= len(cmd):
        g, e, n = struct.unpack("<HHI", cmd[pos:pos + 8])
        v = cmd[pos + 8:pos + 8 + n]
        if (g, e) == (0x0000, 0x0900):
            status = struct.unpack("<H", v)[0]
        if (g, e) == (0x0000, 0x0902):
            comment = v.decode(errors="replace").strip("\0 ")
        pos += 8 + n
    return status, comment


STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"


class FindAssociation(Association):
    """A C-FIND SCU (PS3.7 9.1.2) speaking raw PDUs: a peer that is not DCMTK. The identifier
    goes in the negotiated transfer syntax (Explicit VR Little Endian by default)."""

    def __init__(self, host, port, sop_class=STUDY_ROOT_FIND, **kw):
        super().__init__(host, port, sop_class=sop_class, **kw)
        self.sop_class = sop_class
        self._pdvs = []

    def _next_pdv(self):
        """The next PDV as (presentation context ID, message control header, fragment)."""
        while not self._pdvs:
            t, payload = self._recv_pdu()
            if t != 0x04:
                raise ConnectionError("expected P-DATA, got PDU type 0x%02x" % t)
            pos = 0
            while pos < len(payload):
                n = struct.unpack(">I", payload[pos:pos + 4])[0]
                self._pdvs.append((payload[pos + 4], payload[pos + 5], payload[pos + 6:pos + 4 + n]))
                pos += 4 + n
        return self._pdvs.pop(0)

    def _message_on(self, command):
        """A whole command set or data set: (presentation context ID, bytes)."""
        data = b""
        while True:
            pc, hdr, chunk = self._next_pdv()
            if bool(hdr & 0x01) != command:
                raise ConnectionError("expected a %s fragment" % ("command" if command else "data set"))
            data += chunk
            if hdr & 0x02:
                return pc, data

    def _read_message(self, command):
        return self._message_on(command)[1]

    def find(self, identifier):
        """Sends IDENTIFIER (data set bytes); returns (final status, [response identifier bytes])."""
        cmd = _command({
            (0x0000, 0x0002): _uid(self.sop_class),
            (0x0000, 0x0100): struct.pack("<H", 0x0020),
            (0x0000, 0x0110): struct.pack("<H", self.msg_id),
            (0x0000, 0x0700): struct.pack("<H", 0),
            (0x0000, 0x0800): struct.pack("<H", 0x0001),
        })
        self.msg_id += 1
        self._pdv(cmd, command=True, last=True)
        self._pdv(identifier, command=False, last=True)
        answers = []
        while True:
            status, _ = _parse_status(self._read_message(command=True))
            if status in (0xFF00, 0xFF01):
                answers.append(self._read_message(command=False))
            else:
                return status, answers


STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"


def parse_command(cmd):
    """Group 0000 elements of a command set (Implicit VR LE) as {(group, element): bytes}."""
    out, pos = {}, 0
    while pos + 8 <= len(cmd):
        g, e, n = struct.unpack("<HHI", cmd[pos:pos + 8])
        out[(g, e)] = cmd[pos + 8:pos + 8 + n]
        pos += 8 + n
    if pos != len(cmd):
        raise ConnectionError("command set does not end at an element boundary")
    return out


class GetAssociation(FindAssociation):
    """A C-GET SCU (PS3.4 C.4.3) speaking raw PDUs: it negotiates the Study Root GET model and
    one storage SOP class with the SCP role (role selection, PS3.7 D.3.3.4), answers each
    C-STORE sub-operation with Success and keeps the data set bytes exactly as they came."""

    def __init__(self, host, port, storage_class="1.2.840.10008.5.1.4.1.1.2", syntax=EXPLICIT_LE,
                 called="STRATA", calling="RAWGET", timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sop_class = STUDY_ROOT_GET
        self._pdvs = []
        pcs = b""
        for pc_id, cls in ((1, STUDY_ROOT_GET), (3, storage_class)):
            pcs += _item(0x20, struct.pack(">BBBB", pc_id, 0, 0, 0) + _item(0x30, _uid(cls)) + _item(0x40, _uid(syntax)))
        role = _item(0x54, struct.pack(">H", len(_uid(storage_class))) + _uid(storage_class) + b"\x00\x01")
        user = _item(0x50, _item(0x51, struct.pack(">I", 65536)) + _item(0x52, _uid("1.2.3.4")) + role)
        body = (struct.pack(">HH", 1, 0) + called.ljust(16).encode() + calling.ljust(16).encode() + b"\0" * 32 +
                _item(0x10, _uid(APP_CONTEXT)) + pcs + user)
        self._send_pdu(0x01, body)
        t, _ = self._recv_pdu()
        if t != 0x02:
            raise ConnectionError("association not accepted (PDU type 0x%02x)" % t)
        self.msg_id = 1

    def get(self, identifier):
        """Sends the C-GET-RQ; returns (final status, {SOP Instance UID: data set bytes})."""
        cmd = _command({
            (0x0000, 0x0002): _uid(STUDY_ROOT_GET),
            (0x0000, 0x0100): struct.pack("<H", 0x0010),
            (0x0000, 0x0110): struct.pack("<H", self.msg_id),
            (0x0000, 0x0700): struct.pack("<H", 0),
            (0x0000, 0x0800): struct.pack("<H", 0x0001),
        })
        self.msg_id += 1
        self._pdv(cmd, command=True, last=True)
        self._pdv(identifier, command=False, last=True)
        received = {}
        while True:
            pc, raw = self._message_on(command=True)
            c = parse_command(raw)
            field = struct.unpack("<H", c[(0x0000, 0x0100)])[0]
            if field == 0x0001:  # C-STORE-RQ sub-operation
                assert struct.unpack("<H", c[(0x0000, 0x0800)])[0] != 0x0101, "C-STORE-RQ without a data set"
                _, data = self._message_on(command=False)
                sop = c[(0x0000, 0x1000)].rstrip(b"\0 ").decode()
                received[sop] = data
                rsp = _command({
                    (0x0000, 0x0002): c[(0x0000, 0x0002)],
                    (0x0000, 0x0100): struct.pack("<H", 0x8001),
                    (0x0000, 0x0120): c[(0x0000, 0x0110)],
                    (0x0000, 0x0800): struct.pack("<H", 0x0101),
                    (0x0000, 0x0900): struct.pack("<H", 0x0000),
                    (0x0000, 0x1000): c[(0x0000, 0x1000)],
                })
                hdr = 0x03
                self._send_pdu(0x04, struct.pack(">IBB", len(rsp) + 2, pc, hdr) + rsp)
            elif field == 0x8010:  # C-GET-RSP
                status = struct.unpack("<H", c[(0x0000, 0x0900)])[0]
                if struct.unpack("<H", c.get((0x0000, 0x0800), b"\x01\x01"))[0] != 0x0101:
                    self._message_on(command=False)  # a failed-instance list
                if status not in (0xFF00, 0xFF01):
                    return status, received
            else:
                raise ConnectionError("unexpected command field 0x%04x" % field)

"""What the checker compares: the SHA-256 of an instance's data set, the bytes after the Part 10
file meta group (0002), which C-STORE and STOW-RS may rewrite but must never touch the rest.
Standard library only, so the checker trusts nothing it checks."""
import hashlib
import re
import struct

# Explicit VR little endian VRs with a 4-byte length (PS3.5 7.1.2).
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def split_part10(data):
    """(meta end offset, SOP Instance UID from the meta group) of a Part 10 file."""
    if len(data) < 132 or data[128:132] != b"DICM":
        raise ValueError("not a Part 10 file")
    pos, sop = 132, None
    while pos + 8 <= len(data):
        group, elem = struct.unpack_from("<HH", data, pos)
        if group != 0x0002:
            break
        vr = data[pos + 4:pos + 6]
        if vr in _LONG_VRS:
            (length,) = struct.unpack_from("<I", data, pos + 8)
            start = pos + 12
        else:
            (length,) = struct.unpack_from("<H", data, pos + 6)
            start = pos + 8
        if elem == 0x0003:
            sop = data[start:start + length].rstrip(b"\0 ").decode("ascii", "replace")
        pos = start + length
    if pos > len(data):
        raise ValueError("meta group runs past the end")
    return pos, sop


def dataset_digest(data):
    """(SOP Instance UID, hex SHA-256 of the data set) of a Part 10 file's bytes."""
    end, sop = split_part10(data)
    return sop, hashlib.sha256(data[end:]).hexdigest()


def file_digest(path):
    with open(path, "rb") as f:
        return dataset_digest(f.read())


def multipart_parts(body, content_type):
    """Body parts of a multipart/related response (RFC 2046), headers dropped."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise ValueError("no boundary in %r" % content_type)
    delim = b"--" + m.group(1).encode()
    parts = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if payload.endswith(b"\r\n"):
            payload = payload[:-2]
        parts.append(payload)
    return parts


def multipart_body(files):
    """(body, content type) of a STOW-RS request holding the given Part 10 files."""
    boundary = "strata-safety-boundary-7d1f"
    out = []
    for data in files:
        out.append(b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + data + b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), 'multipart/related; type="application/dicom"; boundary=%s' % boundary

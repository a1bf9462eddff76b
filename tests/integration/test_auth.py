"""Identities, permissions and the audit trail against a real `strata serve`: a JWKS made here
(python3-cryptography: an RSA and a P-256 key), tokens signed here, Basic users and static
tokens on DICOMweb; per-AE permissions on DIMSE through DCMTK's storescu/findscu/getscu/movescu;
then the audit file is read back for the records each step must have left."""
import base64
import http.server as httpserver
import json
import subprocess
import threading
import time
from pathlib import Path

import pydicom
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from conftest import TOOL_ENV, free_port, run, storescu, study_uid_of
from test_web import http, multipart_body, wait_http

ISS, AUD = "https://idp.hospital.test/realms/pacs", "strata"


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def uint(n, size=None):
    return n.to_bytes(size or (n.bit_length() + 7) // 8, "big")


class Issuer:
    """A token issuer: its keys, their JWKS, and signed tokens."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # not in the JWKS
        rn, en = self.rsa.public_key().public_numbers(), self.ec.public_key().public_numbers()
        self.jwks = {"keys": [
            {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": b64(uint(rn.n)), "e": b64(uint(rn.e))},
            {"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": b64(uint(en.x, 32)), "y": b64(uint(en.y, 32))}]}

    def token(self, roles=("read",), sub="alice", alg="RS256", kid=None, key=None, **claims):
        now = int(time.time())
        body = {"iss": ISS, "aud": AUD, "sub": sub, "iat": now, "nbf": now - 5, "exp": now + 600, "roles": list(roles)}
        body.update(claims)
        kid = kid or ("rsa-1" if alg == "RS256" else "ec-1")
        signing = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode()) + "." + b64(json.dumps(body).encode())
        if alg == "RS256":
            sig = (key or self.rsa).sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature((key or self.ec).sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
            sig = uint(r, 32) + uint(s, 32)
        return signing + "." + b64(sig)


def bearer(t):
    return {"Authorization": "Bearer " + t}


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode((user + ":" + password).encode()).decode()}


def audit_records(server):
    path = server.data / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def issuer():
    return Issuer()


@pytest.fixture
def small_study(ct_study):
    return ct_study[:4]


@pytest.fixture
def secured(server_factory, issuer, tmp_path):
    """A server with every kind of identity, DIMSE permissions and the audit trail on."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks))
    dest_port, other_port = free_port(), free_port()
    s = server_factory(http_port=free_port(), extra=[
        "--tiering-enabled", "false",
        "--web-jwks-file", jwks, "--web-jwt-issuer", ISS, "--web-jwt-audience", AUD,
        "--web-users", "ann=read:ann-Pw-7,wes=write:wes-Pw-8,dee=delete:dee-Pw-9",
        "--web-tokens", "ris=read|write:static-RIS-token",
        "--dimse-ae-permissions", "MODALITY=store,RIS=find,VIEWER=find|retrieve,MOVER=retrieve",
        "--dimse-move-allowed", "MOVER=DEST",
        "--dimse-move-destinations", "DEST=127.0.0.1:%d,OTHER=127.0.0.1:%d" % (dest_port, other_port),
        "--audit-file", "${data}/audit.jsonl"])
    wait_http(s.http_port)
    s.dest_port = dest_port
    s.base = "http://127.0.0.1:%d" % s.http_port
    return s


# ---- DICOMweb ------------------------------------------------------------------------------------
def test_every_route_family_needs_the_right_identity(secured, issuer, small_study):
    s = secured
    study = study_uid_of(small_study)
    d = pydicom.dcmread(small_study[0], stop_before_pixels=True)
    series, sop = str(d.SeriesInstanceUID), str(d.SOPInstanceUID)
    storescu(s, small_study, "-aet", "MODALITY")
    inst = "/dicomweb/studies/%s/series/%s/instances/%s" % (study, series, sop)
    reads = ["/dicomweb/studies", "/dicomweb/series", "/dicomweb/instances",
             "/dicomweb/studies/%s/series" % study, "/dicomweb/studies/%s/instances" % study,
             "/dicomweb/studies/%s/series/%s/instances" % (study, series),
             "/dicomweb/studies/%s/metadata" % study, "/dicomweb/studies/%s/series/%s/metadata" % (study, series),
             inst, inst + "/metadata", inst + "/frames/1", inst + "/rendered", inst + "/thumbnail",
             "/dicomweb/studies/%s/thumbnail" % study,
             "/wado?requestType=WADO&studyUID=%s&seriesUID=%s&objectUID=%s" % (study, series, sop),
             "/api/stats", "/api/studies", "/api/studies/%s/tiers" % study, "/api/migrations", "/api/queue",
             "/api/lifecycle",
             "/", "/index.html", "/assets/app.js", "/favicon.ico"]
    now = int(time.time())
    wrong = {
        "no identity": {},
        "expired token": bearer(issuer.token(exp=now - 3600, nbf=now - 7200)),
        "token not yet valid": bearer(issuer.token(nbf=now + 3600)),
        "wrong audience": bearer(issuer.token(aud="another-archive")),
        "wrong issuer": bearer(issuer.token(iss="https://evil.test")),
        "wrong signature": bearer(issuer.token(key=issuer.forger)),
        "unknown key": bearer(issuer.token(kid="rsa-9")),
        "unknown static token": bearer("static-RIS-tokeN"),
        "wrong password": basic("ann", "ann-Pw-6"),
    }
    messages = {"expired token": "token expired", "token not yet valid": "not yet valid",
                "wrong audience": "audience", "wrong issuer": "issuer", "wrong signature": "signature",
                "unknown key": "unknown key id", "wrong password": "wrong user name or password"}
    for path in reads:
        for why, headers in wrong.items():
            r = http(s.base + path, headers=headers)
            assert r.status == 401, (path, why, r.status)
            assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), (path, why)
            if why in messages:
                assert messages[why] in r.body.decode(), (path, why, r.body[:200])
        # Right identities: a JWT (RS256 and ES256), a Basic user, a static token.
        for headers in (bearer(issuer.token()), bearer(issuer.token(alg="ES256")), basic("ann", "ann-Pw-7"),
                        bearer("static-RIS-token")):
            r = http(s.base + path, headers=headers)
            assert r.status == 200, (path, headers, r.status, r.body[:300])
        # An identity without the read role.
        r = http(s.base + path, headers=basic("wes", "wes-Pw-8"))
        assert r.status == 403 and b"lacks the read role" in r.body, (path, r.status)
        r = http(s.base + path, headers=bearer(issuer.token(roles=["write"])))
        assert r.status == 403, path
    # The expired token's 401 says why in its challenge too (RFC 6750).
    r = http(s.base + "/dicomweb/studies", headers=wrong["expired token"])
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert 'error_description="token expired"' in r.headers["WWW-Authenticate"]


def test_store_and_delete_need_write_and_delete(secured, issuer, ct_study):
    s = secured
    files = ct_study[4:8]
    body, ctype = multipart_body(files)
    post = lambda headers: http(s.base + "/dicomweb/studies", method="POST", data=body,
                                headers={"Content-Type": ctype, **headers})
    assert post({}).status == 401
    assert post(bearer(issuer.token(exp=int(time.time()) - 3600))).status == 401
    assert post(basic("ann", "ann-Pw-7")).status == 403           # read only
    assert post(bearer(issuer.token(roles=["read"]))).status == 403
    r = post(bearer(issuer.token(roles=["write"], sub="modality-gateway")))
    assert r.status == 200 and len(r.json()["00081199"]["Value"]) == 4
    study = study_uid_of(files)
    url = s.base + "/dicomweb/studies/" + study
    assert http(url, method="DELETE").status == 401
    assert http(url, method="DELETE", headers=bearer("static-RIS-token")).status == 403  # read|write
    assert http(url, method="DELETE", headers=basic("wes", "wes-Pw-8")).status == 403
    assert http(url, method="DELETE", headers=basic("dee", "dee-Pw-9")).status == 204
    assert http(url + "/metadata", headers=basic("ann", "ann-Pw-7")).status == 404

    recs = audit_records(s)
    stored = [r for r in recs if r["action"] == "store" and r["protocol"] == "DICOMweb" and r["outcome"] == "success"]
    assert len(stored) == 1 and stored[0]["UserID"] == "modality-gateway"
    assert stored[0]["ParticipantObjectID"] == study and stored[0]["NumberOfInstances"] == 4
    assert sorted(stored[0]["instances"]) == sorted(str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID)
                                                    for f in files)
    assert stored[0]["EventID"] == "110104" and stored[0]["EventActionCode"] == "C"
    deleted = [r for r in recs if r["action"] == "delete" and r["outcome"] == "success"]
    assert len(deleted) == 1 and deleted[0]["UserID"] == "dee" and deleted[0]["ParticipantObjectID"] == study
    assert deleted[0]["EventID"] == "110105" and deleted[0]["EventActionCode"] == "D"
    denied = [r for r in recs if r["action"] == "deny"]
    assert {r["UserID"] for r in denied} >= {"ann", "alice", "ris", "wes"}
    assert all(r["EventOutcomeIndicator"] == 8 for r in denied)
    rejected = [r for r in recs if r["action"] == "reject"]
    assert any("token expired" in r.get("EventOutcomeDescription", "") for r in rejected)
    # No secret in the audit trail or the log.
    text = (s.data / "audit.jsonl").read_text() + s.log_text()
    for secret in ("ann-Pw-7", "wes-Pw-8", "dee-Pw-9", "static-RIS-token"):
        assert secret not in text


def test_jwks_url_and_scope_claim(server_factory, issuer, tmp_path):
    """Keys fetched from a JWKS URL at start; roles read from an OAuth 2 'scope' string."""
    body = json.dumps(issuer.jwks).encode()

    class Jwks(httpserver.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/certs" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    idp = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=idp.serve_forever, daemon=True).start()
    try:
        s = server_factory(http_port=free_port(), extra=[
            "--tiering-enabled", "false", "--web-jwks-url", "http://127.0.0.1:%d/certs" % idp.server_port,
            "--web-jwt-audience", AUD, "--web-jwt-roles-claim", "scope"])
        wait_http(s.http_port)
        base = "http://127.0.0.1:%d/dicomweb/studies" % s.http_port
        assert http(base, headers=bearer(issuer.token(roles=[], scope="openid read"))).status == 200
        assert http(base, headers=bearer(issuer.token(roles=["read"], scope="openid"))).status == 403
        assert http(base, headers=bearer(issuer.token(aud="x", scope="read"))).status == 401
        assert "event=http_start" in s.log_text() and "jwt_keys=2" in s.log_text()
    finally:
        idp.shutdown()


def test_unreachable_jwks_url_refuses_to_start(tmp_path):
    from conftest import STRATA
    p = run([STRATA, "serve", "--data", tmp_path / "d", "--port", free_port(), "--http-port", free_port(),
             "--web-jwks-url", "http://127.0.0.1:%d/certs" % free_port()], check=False, timeout=60)
    assert p.returncode != 0 and "JWT keys" in (p.stdout + p.stderr)


# ---- DIMSE ---------------------------------------------------------------------------------------
def dimse_status(p):
    return p.stdout + p.stderr


def refused(p, reason):
    """True when DCMTK's -d output shows status 0124H (Refused: Not Authorized) with REASON."""
    out = dimse_status(p)
    return ("0x0124" in out or "0x124" in out) and reason in out


def test_dimse_services_per_calling_ae(secured, small_study, tmp_path):
    s = secured
    study = study_uid_of(small_study)
    # C-STORE: MODALITY may, RIS may not (0124H with a reason).
    p = storescu(s, small_study[:1], "-d", "-aet", "RIS", check=False)
    assert refused(p, "AE RIS may not store"), dimse_status(p)[-3000:]
    storescu(s, small_study, "-aet", "MODALITY")
    # C-FIND: RIS may, MODALITY may not.
    q = ["findscu", "-d", "-S", "-aec", s.aet, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=" + study]
    p = run(q[:3] + ["-aet", "RIS"] + q[3:] + s.addr())
    assert "Pending" in dimse_status(p) or "Success" in dimse_status(p)
    p = run(q[:3] + ["-aet", "MODALITY"] + q[3:] + s.addr(), check=False)
    assert refused(p, "AE MODALITY may not find"), dimse_status(p)[-3000:]
    # C-GET: VIEWER may, RIS may not.
    got = tmp_path / "got"
    got.mkdir()
    g = ["getscu", "-d", "-S", "-aec", s.aet, "-od", got, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=" + study]
    run(g + ["-aet", "VIEWER"] + s.addr())
    assert len(list(got.iterdir())) == len(small_study)
    p = run(g + ["-aet", "RIS"] + s.addr(), check=False)
    assert refused(p, "AE RIS may not retrieve"), dimse_status(p)[-3000:]
    # C-MOVE: MOVER may send to DEST only; VIEWER may retrieve but is listed for no destination.
    moved = tmp_path / "moved"
    moved.mkdir()
    scp = subprocess.Popen(["storescp", "-aet", "DEST", "-od", str(moved), str(s.dest_port)], env=TOOL_ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        m = ["movescu", "-d", "-S", "-aec", s.aet, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=" + study]
        run(m + ["-aet", "MOVER", "-aem", "DEST"] + s.addr())
        p = run(m + ["-aet", "MOVER", "-aem", "OTHER"] + s.addr(), check=False)
        assert refused(p, "AE MOVER may not move to OTHER"), dimse_status(p)[-3000:]
        p = run(m + ["-aet", "VIEWER", "-aem", "DEST"] + s.addr(), check=False)
        assert refused(p, "AE VIEWER may not move to DEST"), dimse_status(p)[-3000:]
    finally:
        scp.terminate()
        scp.wait()
    assert len(list(moved.iterdir())) == len(small_study)
    # An AE not listed at all may still echo.
    run(["echoscu", "-aet", "STRANGER", "-aec", s.aet] + s.addr())
    assert s.alive()

    recs = [r for r in audit_records(s) if r["protocol"] == "DIMSE"]
    stores = [r for r in recs if r["action"] == "store" and r["outcome"] == "success"]
    assert len(stores) == len(small_study)
    assert all(r["AlternativeUserID"] == "MODALITY" and r["ParticipantObjectID"] == study and
               r["NetworkAccessPointID"] for r in stores)
    assert sorted(i for r in stores for i in r["instances"]) == sorted(
        str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in small_study)
    assert any(r["action"] == "query" and r["AlternativeUserID"] == "RIS" and r["ParticipantObjectID"] == study
               for r in recs)
    assert any(r["action"] == "retrieve" and r["AlternativeUserID"] == "VIEWER" and
               r["NumberOfInstances"] == len(small_study) for r in recs)
    exports = [r for r in recs if r["action"] == "export" and r["outcome"] == "success"]
    assert len(exports) == 1 and exports[0]["DestinationAE"] == "DEST" and exports[0]["EventID"] == "110106"
    denied = {(r["AlternativeUserID"], r["target"], r.get("DestinationAE", "")) for r in recs if r["action"] == "deny"}
    assert denied == {("RIS", "C-STORE", ""), ("MODALITY", "C-FIND", ""), ("RIS", "C-GET", ""),
                      ("MOVER", "C-MOVE", "OTHER"), ("VIEWER", "C-MOVE", "DEST")}


def test_rejected_association_is_audited(server_factory, small_study):
    s = server_factory(extra=["--dimse-allowed-aets", "MODALITY", "--audit-file", "${data}/audit.jsonl"])
    p = storescu(s, small_study[:1], "-aet", "INTRUDER", check=False)
    assert "Association Rejected" in dimse_status(p) or "rejected" in dimse_status(p).lower()
    # The server records the rejection after it has sent A-ASSOCIATE-RJ, so storescu may have
    # exited first: wait for the record (seen once in CI: read before it was written).
    deadline = time.monotonic() + 10
    while True:
        recs = audit_records(s)
        if any(r["action"] == "reject" and r["AlternativeUserID"] == "INTRUDER" for r in recs) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert any(r["action"] == "reject" and r["AlternativeUserID"] == "INTRUDER" for r in recs), recs


def test_audit_copied_to_syslog_over_udp(server_factory, small_study):
    """audit.syslog=udp:HOST:PORT: each record also leaves as an RFC 5424 message."""
    import socket
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    s = server_factory(extra=["--audit-file", "${data}/audit.jsonl",
                              "--audit-syslog", "udp:127.0.0.1:%d" % sock.getsockname()[1]])
    storescu(s, small_study[:2], "-aet", "CT7")
    msgs = [sock.recv(65536).decode() for _ in range(2)]
    sock.close()
    for m in msgs:
        # <PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG; authpriv (10) * 8 + info (6) = 86
        head, _, body = m.partition(" - ")
        fields = head.split(" ")
        assert fields[0] == "<86>1" and fields[3] == "strata" and fields[5] == "store", m
        rec = json.loads(body)
        assert rec["AlternativeUserID"] == "CT7" and rec["EventID"] == "110104"
    assert len([r for r in audit_records(s) if r["action"] == "store"]) == 2


def test_change_not_acknowledged_when_audit_cannot_be_written(server_factory, issuer, ct_study):
    """audit.file on /dev/full: every write fails with ENOSPC, so no store may be reported done."""
    s = server_factory(http_port=free_port(), extra=["--tiering-enabled", "false", "--audit-file", "/dev/full",
                                                     "--web-tokens", "gw=write:gw-token"])
    wait_http(s.http_port)
    p = storescu(s, ct_study[8:9], "-aet", "CT8", check=False)
    out = dimse_status(p)
    assert "0xa700" in out.lower() or "Refused: OutOfResources" in out, out[-2000:]
    body, ctype = multipart_body(ct_study[9:10])
    r = http("http://127.0.0.1:%d/dicomweb/studies" % s.http_port, method="POST", data=body,
             headers={"Content-Type": ctype, "Authorization": "Bearer gw-token"})
    assert r.status == 503 and b"audit trail" in r.body, (r.status, r.body[:300])
    assert "event=audit_failed" in s.log_text() and s.alive()

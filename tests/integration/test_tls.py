"""DICOM TLS (PS3.15 Annex B, BCP 195) end to end: a test PKI made here with openssl, DCMTK's
echoscu/storescu/findscu/storescp with +tls (Debian builds getscu/movescu without TLS), `strata send/get` with --tls-*, and
Python's ssl module speaking the upper layer (rawdimse.py) as a non-DCMTK peer.

Refusals checked: a client certificate from another CA, an expired one, none when mutual TLS is
required, a certificate bound to one calling AE used with another, a bound AE on the plain port."""
import json
import socket
import ssl
import subprocess
import time
import warnings
from pathlib import Path

import pydicom
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
import pytest

import rawdimse
from conftest import STRATA, free_port, run, same_dataset, study_uid_of

SERVER_CN = "archive.example"
MODALITY_CN = "modality.example"
VIEWER_CN = "viewer.example"


def openssl(*args, cwd):
    return run(["openssl", *args], cwd=cwd)


class Pki:
    """A CA, a second (untrusted) CA and leaf certificates, all RSA 2048, in DIR."""

    def __init__(self, d):
        self.d = Path(d)
        self.d.mkdir(parents=True, exist_ok=True)
        for ca in ("ca", "wrongca"):
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key", "-out", ca + ".pem",
                    "-days", "30", "-subj", "/CN=Strata test " + ca, cwd=self.d)

    def path(self, name):
        return str(self.d / name)

    def leaf(self, name, cn, ca="ca", expired=False):
        """Signs NAME.pem/NAME.key for CN (SAN DNS:CN, DNS:localhost, IP:127.0.0.1) with CA."""
        (self.d / (name + ".ext")).write_text(
            "basicConstraints=CA:FALSE\nsubjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\n" % cn)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + cn, cwd=self.d)
        if not expired:
            openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                    "-CAcreateserial", "-days", "30", "-extfile", name + ".ext", "-out", name + ".pem", cwd=self.d)
        else:
            # openssl 3.0's x509 has no start date option; `openssl ca` has -startdate/-enddate.
            db = self.d / ("db-" + name)
            (db / "new").mkdir(parents=True, exist_ok=True)
            (db / "index.txt").write_text("")
            (db / "serial").write_text("1000\n")
            (db / "ca.cnf").write_text(
                "[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index.txt\nnew_certs_dir=%s/new\nserial=%s/serial\n"
                "default_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n" % (db, db, db))
            openssl("ca", "-batch", "-notext", "-config", str(db / "ca.cnf"), "-cert", ca + ".pem", "-keyfile",
                    ca + ".key", "-in", name + ".csr", "-out", name + ".pem", "-extfile", name + ".ext",
                    "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", cwd=self.d)
        return self.path(name + ".key"), self.path(name + ".pem")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.server = p.leaf("server", SERVER_CN)
    p.modality = p.leaf("modality", MODALITY_CN)
    p.viewer = p.leaf("viewer", VIEWER_CN)
    p.stranger = p.leaf("stranger", "stranger.example", ca="wrongca")
    p.expired = p.leaf("expired", MODALITY_CN, expired=True)
    p.peer = p.leaf("peer", "peer.example")
    return p


def tls_server(server_factory, pki, tmp_path, require=True, extra_dimse=None, name="tls"):
    tls_port = free_port()
    dimse = {"tls_port": tls_port, "tls_cert": pki.server[1], "tls_key": pki.server[0], "tls_ca": pki.path("ca.pem"),
             "tls_require_client_cert": require, "tls_client_aets": {MODALITY_CN: "MODALITY", VIEWER_CN: "VIEWER"}}
    dimse.update(extra_dimse or {})
    cfg = tmp_path / (name + ".json")
    cfg.write_text(json.dumps({"dimse": dimse}))
    s = server_factory(extra=["--config", cfg])
    wait_port(tls_port)  # opened just after the plain port the fixture waits for
    s.tls_port = tls_port
    return s


def tls_flags(pki, cert, profile="+px"):
    flags = ["+tls", cert[0], cert[1]] if cert else ["+tla"]
    return flags + ["+cf", pki.path("ca.pem"), profile]


def tls_addr(server):
    return ["127.0.0.1", str(server.tls_port)]


def echo(server, pki, cert, aet, port=None, profile="+px"):
    return run(["echoscu", "-v", "-aet", aet, "-aec", server.aet, *tls_flags(pki, cert, profile),
                "127.0.0.1", str(port or server.tls_port)], check=False, timeout=60)


def last_association(server):
    lines = [l for l in server.log_text().splitlines() if "event=association" in l]
    return lines[-1] if lines else ""


def wait_log(server, needle, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if needle in server.log_text():
            return True
        time.sleep(0.05)
    return False


def test_right_certificate_echo_store_find_get(server_factory, pki, tmp_path, ct_study):
    server = tls_server(server_factory, pki, tmp_path)
    for profile in ("+px", "+py"):  # BCP 195 and its non-downgrading variant
        p = echo(server, pki, pki.modality, "MODALITY", profile=profile)
        assert p.returncode == 0 and "Received Echo Response (Success)" in p.stdout + p.stderr, p.stdout + p.stderr
    files = ct_study[:6]
    p = run(["storescu", "-v", "-aet", "MODALITY", "-aec", server.aet, *tls_flags(pki, pki.modality),
             *tls_addr(server), *files])
    out = p.stdout + p.stderr
    assert out.count("Received Store Response (Success)") == 6, out
    assert wait_log(server, 'tls="%s"' % MODALITY_CN)
    assert "instances_in=6" in last_association(server)

    study = study_uid_of(files)
    d = tmp_path / "find"
    d.mkdir()
    run(["findscu", "-v", "-S", "-aet", "MODALITY", "-aec", server.aet, *tls_flags(pki, pki.modality), "-X",
         "-od", d, "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=" + study, "-k", "NumberOfStudyRelatedInstances",
         *tls_addr(server)])
    rsp = [pydicom.dcmread(f) for f in sorted(d.glob("rsp*.dcm"))]
    assert len(rsp) == 1 and int(rsp[0].NumberOfStudyRelatedInstances) == 6

    # Debian's getscu and movescu are built without TLS options: C-GET over TLS is
    # test_strata_send_and_get_over_tls (strata get), C-MOVE test_c_move_to_a_tls_destination.
    # Secrets never reach the log: no key material, no PEM at all.
    assert "PRIVATE KEY" not in server.log_text() and "BEGIN" not in server.log_text()


def assert_refused(p, server, reason_in_log):
    out = p.stdout + p.stderr
    assert p.returncode != 0 and "Echo Response (Success)" not in out, out
    assert wait_log(server, reason_in_log), server.log_text()[-2000:]
    assert server.alive()


def test_wrong_ca_expired_and_missing_certificates_are_refused(server_factory, pki, tmp_path):
    server = tls_server(server_factory, pki, tmp_path)
    assert_refused(echo(server, pki, pki.stranger, "ANYONE"), server, "handshake: TLS handshake failed")
    n = server.log_text().count("TLS handshake failed")
    assert_refused(echo(server, pki, pki.expired, "MODALITY"), server, "TLS handshake failed")
    assert server.log_text().count("TLS handshake failed") > n
    n = server.log_text().count("TLS handshake failed")
    assert_refused(echo(server, pki, None, "ANYONE"), server, "TLS handshake failed")  # +tla: no certificate
    assert server.log_text().count("TLS handshake failed") > n
    # A plain-TCP peer on the TLS port gets nowhere either.
    p = run(["echoscu", "-v", "-aec", server.aet, *tls_addr(server)], check=False, timeout=60)
    assert p.returncode != 0
    # A client that does not trust the server's CA refuses the server.
    p = run(["echoscu", "-v", "-aet", "MODALITY", "-aec", server.aet, "+tls", *pki.modality, "+cf",
             pki.path("wrongca.pem"), *tls_addr(server)], check=False, timeout=60)
    assert p.returncode != 0 and "Echo Response (Success)" not in p.stdout + p.stderr
    # ... and the right one still works after all that.
    assert echo(server, pki, pki.modality, "MODALITY").returncode == 0


def test_certificate_bound_to_one_ae_cannot_call_as_another(server_factory, pki, tmp_path):
    server = tls_server(server_factory, pki, tmp_path)
    # The viewer's certificate, calling as the modality's AE.
    assert_refused(echo(server, pki, pki.viewer, "MODALITY"), server,
                   "certificate '%s' may call only as VIEWER, not 'MODALITY'" % VIEWER_CN)
    # A certificate bound to nothing, calling as the modality's AE.
    assert_refused(echo(server, pki, pki.peer, "MODALITY"), server,
                   "calling AE 'MODALITY' is not bound to certificate 'peer.example'")
    # The modality's certificate, calling as an AE title bound to nobody.
    assert_refused(echo(server, pki, pki.modality, "ANYONE"), server,
                   "certificate '%s' may call only as MODALITY" % MODALITY_CN)
    assert echo(server, pki, pki.viewer, "VIEWER").returncode == 0


def test_optional_client_certificate_and_the_plain_port(server_factory, pki, tmp_path, ct_study):
    server = tls_server(server_factory, pki, tmp_path, require=False)
    # Without mutual TLS an anonymous TLS client may use unbound AE titles, not bound ones.
    p = echo(server, pki, None, "ANYONE")
    assert p.returncode == 0 and "Echo Response (Success)" in p.stdout + p.stderr
    assert wait_log(server, 'calling=ANYONE called=STRATA tls="anonymous"')
    assert_refused(echo(server, pki, None, "MODALITY"), server, "none was shown")
    # A certificate sent anyway is still checked against the CA.
    assert_refused(echo(server, pki, pki.stranger, "ANYONE"), server, "TLS handshake failed")
    # The plain port beside it: open to unbound AEs, closed to bound ones.
    p = run(["storescu", "-v", "-aet", "ANYONE", "-aec", server.aet, *server.addr(), ct_study[0]])
    assert "Received Store Response (Success)" in p.stdout + p.stderr
    p = run(["echoscu", "-v", "-aet", "MODALITY", "-aec", server.aet, *server.addr()], check=False)
    assert p.returncode != 0
    assert wait_log(server, "bound to a TLS client certificate (plain port refused)")


def test_bad_tls_settings_stop_the_server_with_a_reason(pki, tmp_path):
    cases = [
        ({"tls_cert": pki.server[1], "tls_key": pki.modality[0]}, "does not match certificate"),
        ({"tls_cert": str(tmp_path / "missing.pem")}, "missing.pem"),
        ({"tls_ca": ""}, "needs a CA file"),
        ({"tls_profile": "tls1.0"}, "TLS profile must be"),
    ]
    for i, (override, reason) in enumerate(cases):
        dimse = {"tls_port": free_port(), "tls_cert": pki.server[1], "tls_key": pki.server[0],
                 "tls_ca": pki.path("ca.pem"), "tls_require_client_cert": True}
        dimse.update(override)
        cfg = tmp_path / ("bad%d.json" % i)
        cfg.write_text(json.dumps({"dimse": dimse}))
        p = run([STRATA, "serve", "--data", tmp_path / ("d%d" % i), "--port", free_port(), "--http-port", "0",
                 "--config", cfg], check=False, timeout=30)
        assert p.returncode != 0 and reason in p.stdout + p.stderr, (override, p.stdout + p.stderr)
        assert "PRIVATE KEY" not in p.stdout + p.stderr


def start_storescp(pki, out, port, aet="PEER"):
    scp = subprocess.Popen(["storescp", "-v", "-aet", aet, "+tls", pki.peer[0], pki.peer[1], "+cf",
                            pki.path("ca.pem"), "+px", "-od", str(out), str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return scp
        except OSError:
            time.sleep(0.05)
    scp.kill()
    raise AssertionError("storescp did not start")


def stop(scp):
    scp.terminate()
    out, _ = scp.communicate(timeout=10)
    return out


def test_strata_send_and_get_over_tls(server_factory, pki, tmp_path, ct_study):
    files = ct_study[:4]
    # strata send to a DCMTK storescp +tls (which requires our client certificate).
    port = free_port()
    out = tmp_path / "peer"
    out.mkdir()
    scp = start_storescp(pki, out, port)
    try:
        p = run([STRATA, "send", "--to", "127.0.0.1:%d" % port, "--called-aet", "PEER", "--aet", "MODALITY", "-q",
                 "--tls-ca", pki.path("ca.pem"), "--tls-cert", pki.modality[1], "--tls-key", pki.modality[0],
                 *files], check=False)
    finally:
        log = stop(scp)
    assert p.returncode == 0, p.stdout + p.stderr + log
    assert len(list(out.iterdir())) == 4
    # Without our certificate the peer refuses us, and send says so.
    scp = start_storescp(pki, out, port)
    try:
        p = run([STRATA, "send", "--to", "127.0.0.1:%d" % port, "--called-aet", "PEER", "-q", "--retries", "0",
                 "--tls-ca", pki.path("ca.pem"), *files], check=False)
    finally:
        stop(scp)
    assert p.returncode != 0
    # A server whose CA we do not trust is refused by send.
    p = run([STRATA, "send", "--to", "127.0.0.1:%d" % free_port(), "-q", "--tls-ca", pki.path("nothere.pem"),
             *files], check=False)
    assert p.returncode != 0 and "nothere.pem" in p.stderr

    # strata send and get against Strata's own TLS port.
    server = tls_server(server_factory, pki, tmp_path)
    tls = ["--tls-ca", pki.path("ca.pem"), "--tls-cert", pki.modality[1], "--tls-key", pki.modality[0]]
    run([STRATA, "send", "--to", "127.0.0.1:%d" % server.tls_port, "--aet", "MODALITY", "-q", "-j", "2", *tls, *files])
    got = tmp_path / "got"
    run([STRATA, "get", "--study", study_uid_of(files), "--from", "127.0.0.1:%d" % server.tls_port, "--aet",
         "MODALITY", "--out", got, "-q", *tls])
    received = sorted(got.rglob("*.dcm"))
    assert len(received) == 4
    by_sop = {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID: f for f in files}
    for f in received:
        assert same_dataset(by_sop[pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID], f)
    # The same get with the viewer's certificate is refused (bound to VIEWER, calls as MODALITY).
    p = run([STRATA, "get", "--study", study_uid_of(files), "--from", "127.0.0.1:%d" % server.tls_port, "--aet",
             "MODALITY", "--out", tmp_path / "got2", "-q", "--retries", "0", "--tls-ca", pki.path("ca.pem"),
             "--tls-cert", pki.viewer[1], "--tls-key", pki.viewer[0]], check=False)
    assert p.returncode != 0
    assert not list((tmp_path / "got2").rglob("*.dcm"))


@pytest.mark.parametrize("tls_port", [False, True], ids=["client-only", "with-tls-port"])
def test_c_move_to_a_tls_destination(server_factory, pki, tmp_path, ct_study, tls_port):
    files = ct_study[:5]
    dest_port = free_port()
    dimse = {"tls_cert": pki.server[1], "tls_key": pki.server[0], "tls_ca": pki.path("ca.pem"),
             "move_destinations": {"PEER": "127.0.0.1:%d" % dest_port}, "tls_destinations": ["PEER"]}
    if tls_port:
        dimse.update({"tls_port": free_port(), "tls_require_client_cert": True})
    cfg = tmp_path / "move.json"
    cfg.write_text(json.dumps({"dimse": dimse}))
    server = server_factory(extra=["--config", cfg])
    run(["storescu", "-aec", server.aet, *server.addr(), *files])
    out = tmp_path / "moved"
    out.mkdir()
    scp = start_storescp(pki, out, dest_port)
    try:
        p = run(["movescu", "-v", "-S", "-aec", server.aet, "-aem", "PEER", "-k", "QueryRetrieveLevel=STUDY",
                 "-k", "StudyInstanceUID=" + study_uid_of(files), *server.addr()], check=False)
    finally:
        log = stop(scp)
    assert len(list(out.iterdir())) == 5, p.stdout + p.stderr + log + server.log_text()[-2000:]
    assert "Received Final Move Response (Success)" in p.stdout + p.stderr, p.stdout + p.stderr
    # The destination saw a TLS association (storescp only accepts TLS on that port).
    assert "Association Received" in log


def test_python_ssl_peer_speaks_the_upper_layer_over_tls(server_factory, pki, tmp_path, ct_study):
    """A non-DCMTK TLS stack (Python's ssl / OpenSSL via CPython) against the TLS port."""
    server = tls_server(server_factory, pki, tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(pki.path("ca.pem"))
    ctx.load_cert_chain(pki.modality[1], pki.modality[0])
    wrap = lambda s: ctx.wrap_socket(s, server_hostname="localhost")
    ds = pydicom.dcmread(ct_study[0])
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    a = rawdimse.Association("127.0.0.1", server.tls_port, calling="MODALITY", sop_class=ds.SOPClassUID, wrap=wrap)
    assert a.sock.version() in ("TLSv1.2", "TLSv1.3")
    data = buf.getvalue()
    a.store_command(ds.SOPClassUID, ds.SOPInstanceUID)
    step = 60000  # P-DATA PDUs under the archive's max PDU
    for i in range(0, len(data), step):
        a.send_data(data[i:i + step], last=i + step >= len(data))
    status, comment = a.read_status()
    assert status == 0, comment
    a.release()
    assert wait_log(server, 'calling=MODALITY called=STRATA tls="%s"' % MODALITY_CN)
    # TLS 1.1: refused by the default, non-downgrading profile (the client is told to allow it).
    p = tls11_client(server, pki)
    assert "Cipher is (NONE)" in p.stdout and "alert protocol version" in p.stderr, p.stdout + p.stderr
    assert wait_log(server, "unsupported protocol"), server.log_text()[-1500:]
    # A peer that trusts another CA refuses the archive.
    wrong = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    wrong.load_verify_locations(pki.path("wrongca.pem"))
    with pytest.raises(ssl.SSLCertVerificationError):
        rawdimse.Association("127.0.0.1", server.tls_port, wrap=lambda s: wrong.wrap_socket(s, server_hostname="localhost"))
    # The server keeps serving after all that.
    assert echo(server, pki, pki.modality, "MODALITY").returncode == 0


def tls11_client(server, pki):
    return run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % server.tls_port, "-tls1_1", "-cipher",
                "DEFAULT:@SECLEVEL=0", "-cert", pki.modality[1], "-key", pki.modality[0], "-CAfile",
                pki.path("ca.pem")], check=False, input="", timeout=30)


def test_profiles_choose_the_protocol_versions(server_factory, pki, tmp_path):
    """bcp195-nd (the default) is TLS 1.2+; bcp195 still lets a TLS 1.1 peer in (PS3.15 B.9)."""
    server = tls_server(server_factory, pki, tmp_path, extra_dimse={"tls_profile": "bcp195"})
    p = tls11_client(server, pki)
    assert "Protocol  : TLSv1.1" in p.stdout and "Cipher is (NONE)" not in p.stdout, p.stdout + p.stderr
    p = echo(server, pki, pki.modality, "MODALITY", profile="+py")
    assert p.returncode == 0 and "Echo Response (Success)" in p.stdout + p.stderr


# --- HTTPS for DICOMweb and the web page ------------------------------------------------------

def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("port %d does not answer" % port)


def https_server(server_factory, pki, tmp_path, http="on", extra_web=None):
    http_port, https_port = free_port(), free_port()
    web = {"https_port": https_port, "tls_cert": pki.server[1], "tls_key": pki.server[0], "http": http,
           "header_timeout": 2}
    web.update(extra_web or {})
    cfg = tmp_path / "https.json"
    cfg.write_text(json.dumps({"web": web}))
    s = server_factory(http_port=http_port, extra=["--config", cfg])
    wait_port(https_port)
    s.https_port = https_port
    return s


def curl(*args):
    return run(["curl", "-sS", "--max-time", "30", *args], check=False, timeout=60)


def https_get(url, ctx, method="GET", data=None, headers=None):
    import urllib.request
    import urllib.error
    req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.URLError as e:
        if isinstance(e.reason, Exception):
            raise e.reason  # the ssl error itself
        raise


def client_context(pki, ca="ca.pem"):
    ctx = ssl.create_default_context(cafile=pki.path(ca))
    return ctx


def stow_body(files, boundary="strata-tls-boundary"):
    body = b""
    for f in files:
        body += (b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + Path(f).read_bytes() +
                 b"\r\n")
    return body + b"--" + boundary.encode() + b"--\r\n", 'multipart/related; type="application/dicom"; boundary=' + boundary


def test_https_serves_dicomweb_and_the_page(server_factory, pki, tmp_path, ct_study):
    server = https_server(server_factory, pki, tmp_path)
    base = "https://localhost:%d" % server.https_port
    ctx = client_context(pki)
    # STOW-RS over HTTPS (a request body read by a worker through TLS).
    files = ct_study[:3]
    body, ctype = stow_body(files)
    status, _, reply = https_get(base + "/dicomweb/studies", ctx, "POST", body, {"Content-Type": ctype,
                                                                                 "Accept": "application/dicom+json"})
    assert status == 200, reply[:500]
    study = study_uid_of(files)
    # QIDO-RS and WADO-RS (a large response written through TLS).
    p = curl("--cacert", pki.path("ca.pem"), base + "/dicomweb/studies?StudyInstanceUID=" + study)
    assert p.returncode == 0 and study in p.stdout, p.stdout + p.stderr
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    url = "%s/dicomweb/studies/%s/series/%s/instances/%s" % (base, study, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    out = tmp_path / "instance.bin"
    p = curl("--cacert", pki.path("ca.pem"), "-H", "Accept: multipart/related; type=\"application/dicom\"",
             "-o", out, "-w", "%{http_code} %{ssl_verify_result}", url)
    assert p.stdout == "200 0", p.stdout + p.stderr
    assert out.stat().st_size > Path(files[0]).stat().st_size * 0.9
    # The web page and keep-alive: two requests on one TLS connection.
    p = curl("--cacert", pki.path("ca.pem"), "-w", "\n%{http_code} %{num_connects}\n", base + "/", "-o", "/dev/null",
             base + "/dicomweb/studies")
    assert p.stdout.split("\n")[1] == "200 1" and p.stdout.split("\n")[-2].startswith("200 0"), p.stdout
    status, headers, page = https_get(base + "/", ctx)
    assert status == 200 and b"<html" in page.lower()
    # TLS 1.2 or newer: a TLS 1.1 client (allowed to by its own settings) gets the server's
    # protocol_version alert.
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(pki.path("ca.pem"))
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError, match="ALERT_PROTOCOL_VERSION"):
        https_get(base + "/", old)
    # HTTP beside it still serves everything.
    p = curl("-w", "%{http_code}", "-o", "/dev/null", "http://127.0.0.1:%d/dicomweb/studies" % server.http_port)
    assert p.stdout == "200"
    log = server.log_text()
    assert "event=http_start" in log and "https_port=%d" % server.https_port in log
    assert "PRIVATE KEY" not in log and "BEGIN" not in log


def test_https_client_refuses_a_certificate_it_does_not_trust(server_factory, pki, tmp_path):
    server = https_server(server_factory, pki, tmp_path)
    base = "https://localhost:%d/" % server.https_port
    p = curl("--cacert", pki.path("wrongca.pem"), base)
    assert p.returncode == 60, p.stdout + p.stderr  # curl: peer certificate cannot be authenticated
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(base, client_context(pki, "wrongca.pem"))
    # The server's name is checked too: the certificate names localhost/127.0.0.1, not this.
    p = curl("--cacert", pki.path("ca.pem"), "--resolve", "other.example:%d:127.0.0.1" % server.https_port,
             "https://other.example:%d/" % server.https_port)
    assert p.returncode == 60, p.stdout + p.stderr
    assert curl("--cacert", pki.path("ca.pem"), base).returncode == 0


def test_https_front_survives_bad_and_stalled_clients(server_factory, pki, tmp_path):
    server = https_server(server_factory, pki, tmp_path)
    base = "https://127.0.0.1:%d/dicomweb/studies" % server.https_port
    # Plain HTTP to the HTTPS port: no answer in clear, and the connection is closed.
    with socket.create_connection(("127.0.0.1", server.https_port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        got = s.recv(4096)
        assert not got.startswith(b"HTTP/"), got
    # Stalled peers (TCP only, a half handshake) hold no worker: requests still go through,
    # and the stalled connections are closed after the header timeout (2 s here).
    stalled = [socket.create_connection(("127.0.0.1", server.https_port), timeout=10) for _ in range(20)]
    half = socket.create_connection(("127.0.0.1", server.https_port), timeout=10)
    half.sendall(b"\x16\x03\x01\x00\xc8\x01")  # the start of a ClientHello
    t0 = time.time()
    for _ in range(5):
        p = curl("--cacert", pki.path("ca.pem"), "-w", "%{http_code}", "-o", "/dev/null", base)
        assert p.stdout == "200", p.stdout + p.stderr
    assert time.time() - t0 < 10
    for s in stalled + [half]:
        assert s.recv(16) == b""  # EOF from the server (not the 10 s client timeout)
        s.close()
    assert time.time() - t0 < 9
    assert server.alive()


def test_http_redirect_and_off(server_factory, pki, tmp_path, ct_study):
    server = https_server(server_factory, pki, tmp_path, http="redirect")
    p = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
             "http://localhost:%d/dicomweb/studies?PatientName=A*" % server.http_port)
    assert p.stdout == "308 https://localhost:%d/dicomweb/studies?PatientName=A*" % server.https_port, p.stdout
    # A Host header that is no host name is not echoed into the redirect.
    p = curl("-o", "/dev/null", "-w", "%{redirect_url}", "-H", "Host: evil/\"x", "http://127.0.0.1:%d/" % server.http_port)
    assert p.stdout == "https://127.0.0.1:%d/" % server.https_port, p.stdout
    # A client that follows it gets the resource over HTTPS; the plain port serves nothing else.
    p = curl("-L", "--cacert", pki.path("ca.pem"), "-w", "%{http_code} %{url_effective}", "-o", "/dev/null",
             "http://localhost:%d/dicomweb/studies" % server.http_port)
    assert p.stdout == "200 https://localhost:%d/dicomweb/studies" % server.https_port, p.stdout
    # A STOW-RS POST is redirected with its method kept (308), and nothing is stored over HTTP.
    body, ctype = stow_body(ct_study[:1])
    p = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: " + ctype, "--data-binary", "@-",
             "http://localhost:%d/dicomweb/studies" % server.http_port)
    assert p.stdout == "308"
    server.stop()

    server = https_server(server_factory, pki, tmp_path, http="off")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.http_port), timeout=2).close()
    p = curl("--cacert", pki.path("ca.pem"), "-w", "%{http_code}", "-o", "/dev/null",
             "https://localhost:%d/dicomweb/studies" % server.https_port)
    assert p.stdout == "200"


def test_bad_https_settings_stop_the_server_with_a_reason(pki, tmp_path):
    cases = [
        ({"tls_key": pki.modality[0]}, "modality.key"),
        ({"tls_cert": str(tmp_path / "missing.pem")}, "missing.pem"),
        ({"tls_key": ""}, "needs web.tls_cert and web.tls_key"),
        ({"https_port": 0}, "web.https_port is not"),
        ({"http": "sometimes"}, "must be on, off or redirect"),
    ]
    for i, (override, reason) in enumerate(cases):
        web = {"https_port": free_port(), "tls_cert": pki.server[1], "tls_key": pki.server[0]}
        web.update(override)
        cfg = tmp_path / ("badweb%d.json" % i)
        cfg.write_text(json.dumps({"web": web}))
        p = run([STRATA, "serve", "--data", tmp_path / ("w%d" % i), "--port", free_port(), "--http-port", free_port(),
                 "--config", cfg], check=False, timeout=30)
        assert p.returncode != 0 and reason in p.stdout + p.stderr, (override, p.stdout + p.stderr)
        assert "PRIVATE KEY" not in p.stdout + p.stderr


def test_storage_commitment_report_to_a_tls_requester(server_factory, pki, tmp_path, ct_study):
    """The N-EVENT-REPORT on a new association goes over TLS to a requester in
    dimse.tls_destinations, and Strata shows its certificate (the peer requires one)."""
    import test_storage_commitment as sc
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.peer[1], pki.peer[0])
    ctx.load_verify_locations(pki.path("ca.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    seen = {}

    def wrap(conn):
        t = ctx.wrap_socket(conn, server_side=True)
        seen["peer"] = dict(x[0] for x in t.getpeercert()["subject"])["commonName"]
        seen["version"] = t.version()
        return t

    scp = sc.RawReportSCP(wrap=wrap)
    cfg = tmp_path / "commit.json"
    cfg.write_text(json.dumps({"dimse": {
        "tls_cert": pki.server[1], "tls_key": pki.server[0], "tls_ca": pki.path("ca.pem"),
        "tls_port": free_port(), "tls_require_client_cert": True,
        "move_destinations": {"RAWSCU": "127.0.0.1:%d" % scp.port}, "tls_destinations": ["RAWSCU"]}}))
    server = server_factory(extra=["--config", cfg])
    files = ct_study[:2]
    run(["storescu", "-aec", server.aet, *server.addr(), *files])
    scu = sc.CommitmentSCU(server.addr()[0], int(server.port))
    sc.n_action(scu.peer, 1, "1.2.826.0.1.3680043.2.1143.77.9", [sc.uids(f) for f in files])
    _, rsp, _ = scu.peer.recv_message()
    assert sc.us(rsp, (0x0000, 0x0900)) == 0
    scu.release()
    scp.join()
    assert scp.error is None, scp.error
    assert seen == {"peer": SERVER_CN, "version": seen.get("version")} and seen["version"] in ("TLSv1.2", "TLSv1.3")
    assert scp.report["event"] == 1 and scp.report["committed"] == {sc.uids(f)[1] for f in files}
    assert wait_log(server, 'delivery=new_association status="ok"')


def test_stalled_tls_handshakes_do_not_block_the_dicom_tls_port(server_factory, pki, tmp_path):
    server = tls_server(server_factory, pki, tmp_path, extra_dimse={"handshake_timeout": 2})
    stalled = [socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) for _ in range(5)]
    stalled[0].sendall(b"\x16\x03\x01\x00\xc8\x01")  # half a ClientHello
    t0 = time.time()
    p = echo(server, pki, pki.modality, "MODALITY")
    assert p.returncode == 0 and time.time() - t0 < 2, p.stdout + p.stderr
    for s in stalled:
        assert s.recv(16) == b""  # closed by the server after the handshake timeout
        s.close()
    assert time.time() - t0 < 6
    assert echo(server, pki, pki.modality, "MODALITY").returncode == 0


def test_plain_dicom_port_off(pki, tmp_path):
    """dimse.plain = false: DICOM TLS only; the plain port is not opened at all."""
    plain, tls_port = free_port(), free_port()
    cfg = tmp_path / "tlsonly.json"
    cfg.write_text(json.dumps({"dimse": {"plain": False, "tls_port": tls_port, "tls_cert": pki.server[1],
                                         "tls_key": pki.server[0], "tls_ca": pki.path("ca.pem"),
                                         "tls_require_client_cert": True}}))
    log = tmp_path / "tlsonly.log"
    with open(log, "w") as logf:
        proc = subprocess.Popen([STRATA, "serve", "--data", str(tmp_path / "d"), "--port", str(plain), "--http-port", "0",
                                 "--config", str(cfg)], stdout=logf, stderr=subprocess.STDOUT)
    try:
        wait_port(tls_port)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", plain), timeout=2).close()
        p = run(["echoscu", "-v", "-aet", "ANYONE", "-aec", "STRATA", *tls_flags(pki, pki.modality), "127.0.0.1",
                 str(tls_port)], check=False)
        assert p.returncode == 0 and "Echo Response (Success)" in p.stdout + p.stderr, p.stdout + p.stderr + log.read_text()
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, log.read_text()
    # Off with no TLS port: nothing to serve, so the server refuses to start.
    cfg.write_text(json.dumps({"dimse": {"plain": False}}))
    p = run([STRATA, "serve", "--data", tmp_path / "d2", "--port", free_port(), "--http-port", "0", "--config", cfg],
            check=False, timeout=30)
    assert p.returncode != 0 and "dimse.plain = false" in p.stdout + p.stderr

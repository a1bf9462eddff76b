"""Browser sign-in against a real `strata serve` with auth on (net/web/session.h): POST
/api/session with a Basic user, a static bearer token or an OIDC JWT answers a session cookie;
with that cookie alone the page, its assets, the viewer's files, QIDO and the API answer; a
change needs the page's X-Strata-Request header too (CSRF); signed-out, expired and forged
cookies get 401."""
import json
import re
import time

from conftest import free_port, storescu, study_uid_of
from test_auth import ISS, AUD, basic, bearer, issuer, secured, small_study  # noqa: F401 (fixtures)
from test_web import http, multipart_body, wait_http

PAGE_READS = ["/", "/index.html", "/assets/app.js", "/assets/app.css", "/favicon.ico", "/api/stats",
              "/api/studies", "/api/session", "/dicomweb/studies"]


def sign_in(s, headers):
    r = http(s.base + "/api/session", method="POST", headers={**headers, "X-Strata-Request": "1"})
    assert r.status == 200, (r.status, r.body[:300])
    set_cookie = r.headers["Set-Cookie"]
    m = re.match(r"strata_session=([0-9a-f]{64}); Path=/; Max-Age=(\d+); HttpOnly; SameSite=Strict$", set_cookie)
    assert m, set_cookie  # no Secure over plain HTTP
    assert r.headers["Cache-Control"] == "no-store"
    return m.group(1), int(m.group(2)), r


def cookie(sid):
    return {"Cookie": "strata_session=" + sid}


def test_sign_in_then_cookie_only(secured, issuer, small_study):
    s = secured
    storescu(s, small_study, "-aet", "MODALITY")
    study = study_uid_of(small_study)
    viewer_with_creds = http(s.base + "/viewer", headers=basic("ann", "ann-Pw-7")).status
    assert viewer_with_creds != 401
    for how in (basic("ann", "ann-Pw-7"), bearer("static-RIS-token"), bearer(issuer.token(sub="alice"))):
        sid, max_age, r = sign_in(s, how)
        assert 0 < max_age <= 8 * 3600
        who = json.loads(r.body)
        assert who["user"] in ("ann", "ris", "alice") and "read" in who["roles"], who
        for path in PAGE_READS:
            got = http(s.base + path, headers=cookie(sid))
            assert got.status == 200, (how, path, got.status, got.body[:200])
        got = http(s.base + "/dicomweb/studies?StudyInstanceUID=" + study, headers=cookie(sid))
        assert got.status == 200 and study in got.body.decode()
        # The viewer's files: as with the credentials themselves (200 with OHIF installed).
        assert http(s.base + "/viewer", headers=cookie(sid)).status == viewer_with_creds
        assert http(s.base + "/viewer/app-config.js", headers=cookie(sid)).status != 401
    # The session keeps the roles of who signed in: ann (read) cannot store with it.
    sid, _, _ = sign_in(s, basic("ann", "ann-Pw-7"))
    body, ctype = multipart_body(small_study[:1])
    r = http(s.base + "/dicomweb/studies", method="POST", data=body,
             headers={**cookie(sid), "X-Strata-Request": "1", "Content-Type": ctype})
    assert r.status == 403 and b"lacks the write role" in r.body, (r.status, r.body[:200])


def test_changes_with_a_cookie_need_the_page_header(secured, small_study):
    s = secured
    sid, _, _ = sign_in(s, bearer("static-RIS-token"))  # read|write
    body, ctype = multipart_body(small_study[:1])
    # A cross-site form or script would send the cookie (if SameSite did not stop it) but
    # cannot add the header: refused before anything is read or stored.
    r = http(s.base + "/dicomweb/studies", method="POST", data=body, headers={**cookie(sid), "Content-Type": ctype})
    assert r.status == 403 and b"X-Strata-Request" in r.body, (r.status, r.body[:200])
    r = http(s.base + "/api/session", method="DELETE", headers=cookie(sid))
    assert r.status == 403
    assert http(s.base + "/dicomweb/studies", headers=cookie(sid)).status == 200  # still signed in
    r = http(s.base + "/dicomweb/studies", method="POST", data=body,
             headers={**cookie(sid), "X-Strata-Request": "1", "Content-Type": ctype})
    assert r.status == 200, (r.status, r.body[:300])
    # A cookie cannot be traded for a fresh one.
    r = http(s.base + "/api/session", method="POST", headers={**cookie(sid), "X-Strata-Request": "1"})
    assert r.status == 400 and "Set-Cookie" not in r.headers


def test_signed_out_forged_and_refused(secured):
    s = secured
    sid, _, _ = sign_in(s, basic("ann", "ann-Pw-7"))
    r = http(s.base + "/api/session", method="DELETE", headers={**cookie(sid), "X-Strata-Request": "1"})
    assert r.status == 204
    assert r.headers["Set-Cookie"].startswith("strata_session=; Path=/; Max-Age=0;")
    for path in PAGE_READS:
        r = http(s.base + path, headers=cookie(sid))
        assert r.status == 401, (path, r.status)
        assert b"sign in again" in r.body
    for forged in ("0" * 64, sid[:-1] + ("0" if sid[-1] != "0" else "1"), "../../etc", ""):
        assert http(s.base + "/dicomweb/studies", headers=cookie(forged)).status == 401, forged
    # Wrong credentials: no cookie.
    r = http(s.base + "/api/session", method="POST", headers=basic("ann", "wrong"))
    assert r.status == 401 and "Set-Cookie" not in r.headers
    # A browser opening the page or the viewer unauthenticated gets the sign-in form as the 401.
    for path in ("/", "/viewer", "/viewer?StudyInstanceUIDs=1.2.3"):
        r = http(s.base + path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert r.status == 401 and r.headers["Content-Type"].startswith("text/html"), (path, r.status)
        assert b'id="signin-form"' in r.body and b"/api/session" in r.body
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    # A script or API client without credentials still gets JSON.
    r = http(s.base + "/api/stats")
    assert r.status == 401 and r.headers["Content-Type"].startswith("application/json")


def test_sessions_expire(server_factory, issuer, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks))
    s = server_factory(http_port=free_port(), extra=[
        "--tiering-enabled", "false", "--web-session-lifetime", "2", "--web-users", "ann=read:ann-Pw-7",
        "--web-jwks-file", jwks, "--web-jwt-issuer", ISS, "--web-jwt-audience", AUD])
    wait_http(s.http_port)
    s.base = "http://127.0.0.1:%d" % s.http_port
    sid, max_age, _ = sign_in(s, basic("ann", "ann-Pw-7"))
    assert max_age == 2
    assert http(s.base + "/api/stats", headers=cookie(sid)).status == 200
    time.sleep(3)
    r = http(s.base + "/api/stats", headers=cookie(sid))
    assert r.status == 401 and b"expired" in r.body
    # A JWT ending sooner than the lifetime ends the session with it.
    s2 = server_factory(http_port=free_port(), extra=[
        "--tiering-enabled", "false", "--web-jwks-file", jwks, "--web-jwt-issuer", ISS, "--web-jwt-audience", AUD])
    wait_http(s2.http_port)
    s2.base = "http://127.0.0.1:%d" % s2.http_port
    _, max_age, _ = sign_in(s2, bearer(issuer.token(exp=int(time.time()) + 30)))
    assert 25 <= max_age <= 30, max_age


def test_browser_signs_in_through_the_form(server_factory, small_study, tmp_path, capsys):
    """Chromium: the sign-in form with a password and with a token, the study list, the viewer
    with the cookie alone, sign-out (tests/browser/signin.cjs)."""
    from test_viewer import SHOTS, VIEWER_DIR, need_browser
    from test_web import BROWSER_DIR
    from conftest import run
    need_browser()
    s = server_factory(http_port=free_port(), extra=[
        "--tiering-enabled", "false", "--web-users", "ann=read:ann-Pw-7", "--web-tokens", "ris=read:static-RIS-token"])
    wait_http(s.http_port)
    s.base = "http://127.0.0.1:%d" % s.http_port
    storescu(s, small_study)
    spec = dict(user="ann", password="ann-Pw-7", token="static-RIS-token", study=study_uid_of(small_study),
                viewer=(VIEWER_DIR / "index.html").is_file())
    spec_file = tmp_path / "signin.json"
    spec_file.write_text(json.dumps(spec))
    SHOTS.mkdir(parents=True, exist_ok=True)
    p = run(["node", BROWSER_DIR / "signin.cjs", s.base, SHOTS, spec_file], check=False, timeout=300)
    with capsys.disabled():
        print("\n" + p.stdout)
    assert p.returncode == 0 and "all ok" in p.stdout, p.stdout[-6000:] + p.stderr[-3000:]

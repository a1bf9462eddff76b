"""The OHIF Viewer at /viewer and the web page as radiology IT sees it, against a real
`strata serve`: files and headers of /viewer over HTTP, then headless Debian chromium
(playwright-core) opening a hot and a packed CT study in OHIF (pixel values compared with the
stored images, every slice), and the web page's pages (names in several character sets, sort
order, tier and pack size, failures in plain words, ISO 8601 times, presets by modality, slice
position). Screenshots go to <build>/screenshots; timings are printed for docs/benchmarks.md."""
import json
import os
import re
import sqlite3
import time
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path

import numpy as np
import pydicom
import pytest

from conftest import STRATA, STRATA_GEN, free_port, gen, run, storescu, study_uid_of
from test_web import BROWSER_DIR, http, npm_ready, wait_http
from test_charsets import reuid

ROOT = Path(__file__).resolve().parents[2]
VIEWER_DIR = Path(os.environ.get("STRATA_VIEWER_DIR", ROOT / "web" / "ohif"))
SHOTS = Path(os.environ.get("STRATA_SCREENSHOTS", Path(STRATA).resolve().parent / "screenshots"))
CHARSETS = Path("/usr/lib/python3/dist-packages/pydicom/data/charset_files")
TOKEN = "viewer-test-token-7f3a"
AUTH = {"Authorization": "Bearer " + TOKEN}


def need_viewer():
    if not (VIEWER_DIR / "index.html").is_file():
        pytest.fail("the OHIF Viewer is not installed in %s: run scripts/install-ohif.sh (part of "
                    "scripts/install-deps.sh)" % VIEWER_DIR)


def need_browser():
    npm_ready()
    if not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists():
        pytest.fail("chromium is not installed (apt-get install chromium)")


def start(server_factory, *extra):
    s = server_factory(http_port=free_port(), extra=["--tiering-enabled", "false", *extra])
    wait_http(s.http_port)
    s.base = "http://127.0.0.1:%d" % s.http_port
    return s


def pixel_checks(path):
    """What ohif.cjs computes from the image OHIF shows: modality values, position-weighted sums."""
    ds = pydicom.dcmread(path)
    a = ds.pixel_array.astype(np.int64).ravel()
    a = np.rint(a * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))).astype(np.int64)
    w = (np.arange(a.size) % 251) + 1
    return dict(sop=str(ds.SOPInstanceUID), n=int(ds.InstanceNumber), rows=int(ds.Rows), columns=int(ds.Columns),
                sum=int(a.sum()), wsum=int((a * w).sum()), min=int(a.min()), max=int(a.max()))


def study_spec(label, files, screens):
    slices = sorted((pixel_checks(f) for f in files), key=lambda s: s["n"])
    d = pydicom.dcmread(files[0], stop_before_pixels=True)
    return dict(label=label, study=str(d.StudyInstanceUID), series=str(d.SeriesInstanceUID), slices=slices,
                screens=screens)


# ---- /viewer over HTTP --------------------------------------------------------------------------
def test_viewer_files(server_factory):
    need_viewer()
    s = start(server_factory, "--web-auth", "bearer:" + TOKEN)
    index = (VIEWER_DIR / "index.html").read_text()
    bundle = re.search(r'src="/(app\.bundle\.[0-9a-f]+\.js)"', index).group(1)

    # With auth on, the viewer's files want credentials like every route (issue 17: the page's
    # assets included); a browser sends them (basic) or the page's bearer token.
    assert http(s.base + "/viewer").status == 401
    assert http(s.base + "/viewer/app-config.js").status == 401

    def get(path, headers=None):
        return http(s.base + path, headers={**AUTH, **(headers or {})})

    # SPA routes get index.html.
    for path in ("/viewer", "/viewer?StudyInstanceUIDs=1.2.3", "/viewer/", "/viewer/segmentation"):
        r = get(path)
        assert r.status == 200 and r.type.startswith("text/html"), (path, r.status)
        html = r.body.decode()
        assert 'window.PUBLIC_URL="/viewer/"' in html and 'src="/viewer/app-config.js"' in html
        assert 'src="/' + bundle not in html and 'src="/viewer/' + bundle in html
        assert r.headers["Cache-Control"] == "no-cache"

    # The generated config: this server's own DICOMweb, same origin, the viewer mode at /viewer.
    r = get("/viewer/app-config.js")
    assert r.status == 200 and r.type.startswith("text/javascript")
    cfg = r.body.decode()
    assert "window.location.origin + '/dicomweb'" in cfg and "routerBasename: '/'" in cfg
    assert "strata-auth" in cfg and "cloudfront" not in cfg
    assert cfg != (VIEWER_DIR / "app-config.js").read_text()

    # Content-hashed bundles are immutable; the public path is rewritten to /viewer/.
    r = get("/viewer/" + bundle, {"Accept-Encoding": "identity"})
    assert r.status == 200 and r.type.startswith("text/javascript")
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b'__webpack_require__.p = "/viewer/"' in r.body and b'__webpack_require__.p = "/"' not in r.body
    etag = r.headers["ETag"]
    assert get("/viewer/" + bundle, {"If-None-Match": etag, "Accept-Encoding": "identity"}).status == 304
    # gzip, compressed once (not per request); the body is the same script.
    import gzip
    t0 = time.time()
    g = get("/viewer/" + bundle, {"Accept-Encoding": "gzip, deflate, br"})
    assert g.status == 200 and g.headers["Content-Encoding"] == "gzip" and time.time() - t0 < 10
    assert gzip.decompress(g.body) == r.body and g.headers["ETag"] != etag
    assert "Accept-Encoding" in g.headers.get("Vary", "")

    wasm = sorted(VIEWER_DIR.glob("*.wasm"))[0]
    r = get("/viewer/" + wasm.name)
    assert r.status == 200 and r.type == "application/wasm" and r.body == wasm.read_bytes()
    assert "immutable" in r.headers["Cache-Control"]
    css = get("/viewer/app.bundle.css", {"Accept-Encoding": "identity"})
    assert css.type.startswith("text/css") and b"url(/viewer/" in css.body and b"url(/a" not in css.body
    assert get("/viewer/assets/favicon.ico").type == "image/vnd.microsoft.icon"

    # Missing files are 404 (not index.html); nothing outside the viewer's directory is reachable.
    for path in ("/viewer/no-such-bundle.js", "/viewer/assets/none.png", "/viewer/..%2f..%2fetc%2fpasswd",
                 "/viewer/.ohif-version", "/viewer/%2e%2e/index.html"):
        r = get(path)
        assert r.status == 404, (path, r.status)
    # DICOMweb still wants the token.
    assert http(s.base + "/dicomweb/studies").status == 401
    assert http(s.base + "/dicomweb/studies", headers=AUTH).status == 200


def test_viewer_not_installed(server_factory, tmp_path):
    s = start(server_factory, "--web-viewer-dir", tmp_path / "nothing-here")
    r = http(s.base + "/viewer?StudyInstanceUIDs=1.2.3")
    assert r.status == 503 and b"install-ohif.sh" in r.body, r.body
    assert http(s.base + "/").status == 200  # the rest of the server is unaffected


def test_unknown_time_zone_is_refused(tmp_path):
    p = run([STRATA, "serve", "--data", tmp_path / "d", "--port", free_port(), "--http-port", free_port(),
             "--web-time-zone", "Mars/Olympus"], check=False, timeout=30)
    assert p.returncode != 0 and "Mars/Olympus" in p.stdout + p.stderr


# ---- OHIF in chromium ---------------------------------------------------------------------------
def test_ohif_hot_and_packed(server_factory, tmp_path, capsys):
    need_viewer()
    need_browser()
    hot = gen("ct", tmp_path / "hot", patients=1, studies_per_patient=1, series=1, slices=24, seed=71, first_patient=71)
    packed = gen("ct", tmp_path / "packed", patients=1, studies_per_patient=1, series=1, slices=24, seed=72,
                 first_patient=72)
    s = start(server_factory, "--web-auth", "bearer:" + TOKEN)
    storescu(s, hot + packed)
    p = run([STRATA, "migrate", "--data", s.data, "--older-than", "0s", "--study", study_uid_of(packed)])
    assert "migrated 1 studies" in p.stdout + p.stderr
    tiers = {t["study_uid"]: t["tier"] for t in json.loads(http(s.base + "/api/studies", headers=AUTH).body)}
    assert tiers == {study_uid_of(hot): "hot", study_uid_of(packed): "packed"}

    screens = [[1366, 768], [1920, 1080]]
    spec = dict(token="Bearer " + TOKEN, studies=[study_spec("hot", hot, screens), study_spec("packed", packed, screens)])
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    SHOTS.mkdir(parents=True, exist_ok=True)
    p = run(["node", BROWSER_DIR / "ohif.cjs", s.base, SHOTS, spec_file], check=False, timeout=600)
    with capsys.disabled():
        print("\n" + p.stdout)
    assert p.returncode == 0 and "all ok" in p.stdout, p.stdout[-6000:] + p.stderr[-3000:]
    timings = [json.loads(l[len("timing "):]) for l in p.stdout.splitlines() if l.startswith("timing ")]
    assert len(timings) == 4
    for label in ("hot", "packed"):
        for w, h in screens:
            assert (SHOTS / ("ohif-%s-%dx%d.png" % (label, w, h))).stat().st_size > 10000
    # Packed frames were served from the pack (the log names every frame request).
    log = s.log_text()
    assert re.search(r"path=/dicomweb/studies/%s/series/[0-9.]+/instances/[0-9.]+/frames/1 status=200"
                     % re.escape(study_uid_of(packed)), log)


def test_ohif_with_basic_auth(server_factory, tmp_path):
    """With basic auth the browser's own credentials for the origin carry the viewer's requests."""
    need_viewer()
    need_browser()
    files = gen("mr", tmp_path / "mr", patients=1, studies_per_patient=1, series=1, slices=5, seed=73, first_patient=73)
    s = start(server_factory, "--web-auth", "basic:radiology:s3cret")
    storescu(s, files)
    assert http(s.base + "/dicomweb/studies").status == 401
    spec = dict(basic=dict(user="radiology", password="s3cret"), studies=[study_spec("basic-auth", files, [[1366, 768]])])
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    p = run(["node", BROWSER_DIR / "ohif.cjs", s.base, tmp_path, spec_file], check=False, timeout=300)
    assert p.returncode == 0 and "all ok" in p.stdout, p.stdout[-4000:] + p.stderr[-2000:]
    assert "5 of 5 slices show the stored pixel values exactly" in p.stdout
    # The server wants the credentials on every DICOMweb request: all of the viewer's got in.
    log = [l for l in s.log_text().splitlines() if "event=http " in l and "path=/dicomweb/" in l]
    served = [l for l in log if re.search(r"status=2\d\d", l)]
    # 401s besides ours above are challenges the browser answered by resending the same request
    # with its credentials (basic auth's ordinary round trip, invisible to the page).
    assert len(served) >= 10
    path_of = lambda l: re.search(r"path=(\S+)", l).group(1)
    for i, l in enumerate(log):
        if "status=401" in l and i > 0:
            assert any(path_of(m) == path_of(l) and re.search(r"status=2\d\d", m) for m in log[i + 1:]), l


# ---- the web page ---------------------------------------------------------------------------------
def test_web_pages(server_factory, tmp_path, capsys):
    need_browser()
    ct = gen("ct", tmp_path / "ct", patients=1, studies_per_patient=1, series=2, slices=6, seed=81, first_patient=81)
    mr = gen("mr", tmp_path / "mr", patients=1, studies_per_patient=1, series=1, slices=5, seed=82, first_patient=82)
    cr = gen("mono1", tmp_path / "cr")
    names_dir = tmp_path / "names"
    # Every one of pydicom's character-set files (issue 12): 3 + 17 studies fit the first page (25).
    picks = sorted(p.name for p in CHARSETS.glob("chr*.dcm"))
    assert len(picks) == 17, picks
    # Each its own study (several of these files share UIDs), the names' bytes as they were.
    names_dir.mkdir(parents=True, exist_ok=True)
    named = [reuid(CHARSETS / n, names_dir, "page-" + n[:-4]) for n in picks]
    assert len(named) == len(picks)
    # A study deleted through DICOMweb: gone from the list, listed under the lifecycle changes.
    doomed = gen("ct", tmp_path / "doomed", patients=1, studies_per_patient=1, series=1, slices=2, seed=83,
                 first_patient=83)
    s = start(server_factory, "--web-time-zone", "America/New_York")
    storescu(s, ct + mr + cr + named + doomed)
    assert http(s.base + "/dicomweb/studies/" + study_uid_of(doomed), "DELETE").status == 204
    life = json.loads(http(s.base + "/api/lifecycle?limit=5").body)
    assert len(life) == 1 and life[0]["study_uid"] == study_uid_of(doomed) and life[0]["action"] == "delete"
    run([STRATA, "migrate", "--data", s.data, "--older-than", "0s", "--study", study_uid_of(mr)])
    # A failed migration as the converter records it (this text is what the charset defect left
    # in the ledger before names were converted; no failure of today's converter reproduces it).
    failed_ms = int(time.time() * 1000)
    db = sqlite3.connect(str(s.data / "catalog.db"))
    db.execute("INSERT OR REPLACE INTO migrations VALUES (?,?,?,?,?,?,?,?,?)",
               (study_uid_of(cr), "failed", "node-a", 0, "", failed_ms,
                "Internal: [json.exception.type_error.316] invalid UTF-8 byte at index 3: 0xE9", 2, 0))
    db.commit()
    db.close()

    def study_of(f):
        d = pydicom.dcmread(f, stop_before_pixels=True)
        pn = d.get("PatientName", "")
        if isinstance(pn, pydicom.multival.MultiValue):  # chrFrenMulti: the list shows the first value
            pn = pn[0] if len(pn) else ""
        return dict(uid=str(d.StudyInstanceUID), date=str(d.get("StudyDate", "")),
                    name=str(pn).rstrip("^"), modality=str(d.get("Modality", "")))
    studies = [study_of(f[0]) for f in (ct, mr, cr)] + [study_of(f) for f in named]
    spec = dict(studies=studies, hot=study_uid_of(ct), packed=study_uid_of(mr), cr=study_uid_of(cr),
                failed=study_uid_of(cr), zone="America/New_York",
                failed_when=datetime.fromtimestamp(failed_ms / 1000, ZoneInfo("America/New_York"))
                .strftime("%Y-%m-%d %H:%M:%S"),
                ct_series=str(pydicom.dcmread(ct[0], stop_before_pixels=True).SeriesInstanceUID),
                mr_series=str(pydicom.dcmread(mr[0], stop_before_pixels=True).SeriesInstanceUID),
                cr_series=str(pydicom.dcmread(cr[0], stop_before_pixels=True).SeriesInstanceUID),
                deleted=dict(study_of(doomed[0]), who="anonymous@", instances=len(doomed),
                             when=datetime.fromtimestamp(life[0]["at_ms"] / 1000, ZoneInfo("America/New_York"))
                             .strftime("%Y-%m-%d %H:%M:%S")))
    spec_file = tmp_path / "pages.json"
    spec_file.write_text(json.dumps(spec))
    SHOTS.mkdir(parents=True, exist_ok=True)
    p = run(["node", BROWSER_DIR / "pages.cjs", s.base, SHOTS, spec_file], check=False, timeout=600)
    with capsys.disabled():
        print("\n" + p.stdout)
    assert p.returncode == 0 and "all ok" in p.stdout, p.stdout[-6000:] + p.stderr[-3000:]


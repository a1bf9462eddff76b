"""Packs and the converter: store -> migrate -> retrieve, with real tools checking the packs
(unzip, Python's zipfile), corruption, late images, and kill -9 at random points."""
import os
import random
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pydicom
import pytest

from conftest import STRATA, gen, run, same_dataset, storescu, study_uid_of


def migrate(server, *extra, check=True):
    return run([STRATA, "migrate", "--data", server.data, "--older-than", "0s", *extra], check=check)


def cold_objects(server):
    root = server.data / "cold"
    return sorted(p for p in root.rglob("*") if p.is_file() and ".uploads" not in p.parts)


def pending_uploads(server):
    up = server.data / "cold" / ".uploads"
    return list(up.iterdir()) if up.exists() else []


def hot_dcm(server):
    return sorted(p for p in (server.data / "hot").rglob("*.dcm"))


def getscu(server, out, level, **keys):
    out.mkdir(parents=True, exist_ok=True)
    cmd = ["getscu", "-v", "-S", "-aec", "STRATA", "-od", out, "-k", "QueryRetrieveLevel=" + level]
    for k, v in keys.items():
        cmd += ["-k", "%s=%s" % (k, v)]
    return run(cmd + server.addr(), check=False)


def check_identical(sent, out):
    got = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in out.iterdir()}
    assert len(got) == len(sent)
    for f in sent:
        assert same_dataset(f, got[pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID])


def test_migrate_roundtrip_and_standard_tools(server_factory, ct_study, tmp_path):
    server = server_factory(extra=["--tiering-enabled", "false"])
    storescu(server, ct_study)
    p = migrate(server)
    assert "migrated 1 studies, 24 instances" in p.stdout
    objs = cold_objects(server)
    assert len(objs) == 1 and objs[0].suffix == ".zip"
    assert hot_dcm(server) == []
    assert pending_uploads(server) == []
    # Standard tools read the pack without Strata.
    run(["unzip", "-tq", objs[0]])
    with zipfile.ZipFile(objs[0]) as z:
        names = z.namelist()
        assert len(names) == 25 and names[-1] == "strata-manifest.json"
        assert z.testzip() is None
        one = z.read(names[0])
        assert one[128:132] == b"DICM"
    run([STRATA, "pack", "verify", objs[0]])
    assert "24" in run([STRATA, "pack", "inspect", objs[0]]).stdout
    # Retrieval is transparent, before and after a restart.
    study = study_uid_of(ct_study)
    r = getscu(server, tmp_path / "a", "STUDY", StudyInstanceUID=study)
    assert r.returncode == 0, r.stderr[-2000:]
    check_identical(ct_study, tmp_path / "a")
    server.stop()
    server.start()
    r = getscu(server, tmp_path / "b", "STUDY", StudyInstanceUID=study)
    assert r.returncode == 0, r.stderr[-2000:]
    check_identical(ct_study, tmp_path / "b")
    # Queries still see everything.
    from conftest import findscu
    s = findscu(server, "STUDY", ["StudyInstanceUID=" + study, "NumberOfStudyRelatedInstances"])
    assert int(s[0].NumberOfStudyRelatedInstances) == 24
    v = run([STRATA, "verify", "--data", server.data, "--hot"])
    assert "OK" in v.stdout


def test_corrupt_entry_is_detected_and_isolated(server_factory, ct_study, tmp_path):
    server = server_factory(extra=["--tiering-enabled", "false"])
    storescu(server, ct_study[:6])
    migrate(server)
    pack = cold_objects(server)[0]
    with zipfile.ZipFile(pack) as z:
        info = z.infolist()[2]
        victim = info.filename
    raw = bytearray(pack.read_bytes())
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    data_at = info.header_offset + 30 + name_len + extra_len
    raw[data_at + info.file_size // 2] ^= 0xFF
    pack.write_bytes(bytes(raw))
    sop_bad = victim.split("/")[1][:-4]
    series = victim.split("/")[0]
    bad = getscu(server, tmp_path / "bad", "IMAGE", StudyInstanceUID=study_uid_of(ct_study),
                 SeriesInstanceUID=series, SOPInstanceUID=sop_bad)
    assert not list((tmp_path / "bad").iterdir())  # never bad data
    assert "Failed" in bad.stdout + bad.stderr or bad.returncode != 0
    ok_name = [n for n in zipfile.ZipFile(pack).namelist() if n != victim and n.endswith(".dcm")][0]
    good = getscu(server, tmp_path / "good", "IMAGE", StudyInstanceUID=study_uid_of(ct_study),
                  SeriesInstanceUID=ok_name.split("/")[0], SOPInstanceUID=ok_name.split("/")[1][:-4])
    assert good.returncode == 0 and len(list((tmp_path / "good").iterdir())) == 1
    v = run([STRATA, "verify", "--data", server.data], check=False)
    assert v.returncode != 0
    assert victim in v.stdout and pack.name in v.stdout
    assert "does not match its checksum" in server.log_text() or "Corruption" in server.log_text()


def test_late_images_get_a_new_generation(server_factory, tmp_path):
    files = gen("ct", tmp_path / "late", patients=1, studies_per_patient=1, series=2, slices=4, seed=11)
    first = [f for f in files if pydicom.dcmread(f, stop_before_pixels=True).SeriesNumber == 1]
    later = [f for f in files if f not in first]
    server = server_factory(extra=["--tiering-enabled", "false"])
    storescu(server, first)
    migrate(server)
    storescu(server, later)  # late series for a study that is already packed
    study = study_uid_of(files)
    from conftest import findscu
    s = findscu(server, "STUDY", ["StudyInstanceUID=" + study, "NumberOfStudyRelatedInstances"])
    assert int(s[0].NumberOfStudyRelatedInstances) == len(files)
    r = getscu(server, tmp_path / "mixed", "STUDY", StudyInstanceUID=study)
    assert r.returncode == 0
    check_identical(files, tmp_path / "mixed")
    migrate(server, "--tiering-small-pack-share", "1")  # the share rule off: a second generation
    assert len(cold_objects(server)) == 2
    assert hot_dcm(server) == []
    r = getscu(server, tmp_path / "all", "STUDY", StudyInstanceUID=study)
    check_identical(files, tmp_path / "all")
    # One more late image with at most 2 packs per study: the pass folds all into one pack.
    extra = gen("ct", tmp_path / "later", patients=1, studies_per_patient=1, series=3, slices=1, seed=11)
    third = [f for f in extra if pydicom.dcmread(f, stop_before_pixels=True).SeriesNumber == 3]
    assert study_uid_of(third) == study
    storescu(server, third)
    migrate(server, "--tiering-max-packs-per-study", "2", "--tiering-orphan-grace", "0s")
    assert len(cold_objects(server)) == 1
    r = getscu(server, tmp_path / "one", "STUDY", StudyInstanceUID=study)
    check_identical(files + third, tmp_path / "one")


def test_kill9_at_random_points_loses_nothing(server_factory, tmp_path):
    rounds = int(os.environ.get("STRATA_KILL_ROUNDS", "20"))
    rng = random.Random(int(os.environ.get("STRATA_KILL_SEED", "1234")))
    server = server_factory(extra=["--tiering-enabled", "false"])
    sent = []
    # Calibrate: how long does one uninterrupted migration of such a study take?
    calib = gen("ct", tmp_path / "calib", patients=1, studies_per_patient=1, series=1, slices=30, seed=999)
    storescu(server, calib)
    sent += calib
    t0 = time.time()
    migrate(server)
    span = max(0.2, time.time() - t0)
    kills = 0
    for i in range(rounds):
        files = gen("ct", tmp_path / ("k%d" % i), patients=1, studies_per_patient=1, series=1, slices=30,
                    seed=1000 + i, first_patient=i + 2)
        storescu(server, files)
        sent += files
        proc = subprocess.Popen([STRATA, "migrate", "--data", str(server.data), "--older-than", "0s"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, span * 1.1))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        # Between kills every image must stay readable: spot-check one study.
        r = getscu(server, tmp_path / ("chk%d" % i), "STUDY", StudyInstanceUID=study_uid_of(files))
        assert r.returncode == 0, r.stderr[-2000:]
        check_identical(files, tmp_path / ("chk%d" % i))
    assert kills >= rounds // 2, "the kill window missed the migrations (%d kills)" % kills
    # The next run finishes and cleans up (no grace: nothing else runs now).
    migrate(server, "--tiering-orphan-grace", "0s")
    studies = {study_uid_of([f]) for f in sent}
    assert hot_dcm(server) == []
    assert pending_uploads(server) == []
    assert [p for p in (server.data / "hot" / ".incoming").rglob("*") if p.is_file()] == []
    objs = cold_objects(server)
    assert len(objs) == len(studies), "orphan or missing packs: %d objects for %d studies" % (len(objs), len(studies))
    v = run([STRATA, "verify", "--data", server.data])
    assert "OK" in v.stdout
    out = tmp_path / "final"
    for s in studies:
        r = getscu(server, out, "STUDY", StudyInstanceUID=s)
        assert r.returncode == 0
    check_identical(sent, out)


@pytest.mark.parametrize("codec,syntax,getscu_flag", [
    ("jpeg-ls", "1.2.840.10008.1.2.4.80", "+xt"),
    ("htj2k", "1.2.840.10008.1.2.4.201", None),
    ("j2k", "1.2.840.10008.1.2.4.90", "+xv"),
])
def test_lossless_codec_in_packs(server_factory, ct_study, tmp_path, codec, syntax, getscu_flag):
    server = server_factory(extra=["--tiering-enabled", "false"])
    files = ct_study[:6]
    storescu(server, files)
    migrate(server, "--tiering-codec", codec)
    pack = cold_objects(server)[0]
    raw_total = sum(f.stat().st_size for f in files)
    with zipfile.ZipFile(pack) as z:
        import io
        import json
        manifest = json.loads(z.read("strata-manifest.json"))
        entries = [e for e in manifest["entries"]]
        assert all(e["transfer_syntax"] == syntax for e in entries)
        assert all(e["original_transfer_syntax"] == "1.2.840.10008.1.2.1" for e in entries)
        dcm = [n for n in z.namelist() if n.endswith(".dcm")]
        ds = pydicom.dcmread(io.BytesIO(z.read(dcm[0])))
        assert ds.file_meta.TransferSyntaxUID == syntax
        packed = sum(z.getinfo(n).file_size for n in dcm)
    assert packed < raw_total / 1.5, "lossless compression should shrink CT by > 1.5x"
    # A client that wants uncompressed gets the original pixels bit for bit.
    r = getscu(server, tmp_path / "plain", "STUDY", StudyInstanceUID=study_uid_of(files))
    assert r.returncode == 0, r.stderr[-2000:]
    check_identical(files, tmp_path / "plain")
    for p in (tmp_path / "plain").iterdir():
        assert pydicom.dcmread(p).file_meta.TransferSyntaxUID in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
    if getscu_flag:
        # A client that accepts the pack's syntax gets the compressed entry as stored.
        out = tmp_path / "compressed"
        out.mkdir()
        run(["getscu", "-S", getscu_flag, "-aec", "STRATA", "-od", out, "-k", "QueryRetrieveLevel=STUDY",
             "-k", "StudyInstanceUID=" + study_uid_of(files), *server.addr()])
        got = list(out.iterdir())
        assert len(got) == len(files)
        for g in got:
            d = pydicom.dcmread(g)
            assert d.file_meta.TransferSyntaxUID == syntax
            orig = next(f for f in files if pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID == d.SOPInstanceUID)
            # An independent decoder (GDCM) must give back the original pixels.
            raw = tmp_path / ("raw-" + g.name)
            run(["gdcmconv", "--raw", g, raw])
            assert pydicom.dcmread(raw).PixelData == pydicom.dcmread(orig).PixelData


def acknowledged(storescu_output):
    """Files storescu got Success for (its -v log: 'Sending file: F' ... 'Received Store Response (Success)')."""
    acked, current = [], None
    for line in storescu_output.splitlines():
        if "Sending file: " in line:
            current = line.split("Sending file: ", 1)[1].strip()
        elif "Received Store Response" in line and current is not None:
            if "(Success)" in line:
                acked.append(current)
            current = None
    return acked


def test_two_converters_beside_ingest_lose_nothing(server_factory, tmp_path):
    """Defect 3 on a small scale: the server's converter on a 1 s interval, `strata migrate`
    looping beside it, two clients storing studies and late images. Every acknowledged
    instance must come back bit-identical (its data set) and no retrieval may fail."""
    import re
    import threading
    seconds = float(os.environ.get("STRATA_RACE_SECONDS", "60"))
    server = server_factory(extra=["--tiering-enabled", "true", "--tiering-interval", "1s",
                                   "--tiering-older-than", "0s", "--tiering-codec", "none"])
    stop = threading.Event()
    errors = []

    def migrate_loop():
        while not stop.is_set():
            p = migrate(server, "--tiering-codec", "none", check=False)
            if p.returncode != 0 and "kConflict" not in p.stderr and "conflict" not in p.stderr.lower():
                errors.append("migrate: " + p.stderr[-500:])

    acked = []
    lock = threading.Lock()

    def client(c):
        i = 0
        while not stop.is_set():
            files = gen("ct", tmp_path / ("c%d-%d" % (c, i)), patients=1, studies_per_patient=4, series=2,
                        slices=3, seed=5000 + 100 * c + i, first_patient=1000 * (c + 1) + i)
            # Late images: each series arrives on its own, so its study is often packed already.
            for s in (1, 2):
                part = [f for f in files if pydicom.dcmread(f, stop_before_pixels=True).SeriesNumber == s]
                p = storescu(server, part, check=False)
                with lock:
                    acked.extend(acknowledged(p.stdout + p.stderr))
                time.sleep(0.2)
            i += 1

    threads = [threading.Thread(target=migrate_loop) for _ in range(2)] + [threading.Thread(target=client, args=(c,)) for c in range(2)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    assert acked, "no store was acknowledged"
    by_study = {}
    for f in acked:
        by_study.setdefault(study_uid_of([f]), []).append(f)
    out = tmp_path / "back"
    lost = []
    for s, files in by_study.items():
        r = getscu(server, out / s, "STUDY", StudyInstanceUID=s)
        got = {}
        if (out / s).exists():
            got = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in (out / s).iterdir()}
        for f in files:
            sop = pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID
            if sop not in got or not same_dataset(f, got[sop]):
                lost.append(f)
        text = r.stdout + r.stderr
        bad = [int(n) for n in re.findall(r"Number of (?:Failed|Warning) Suboperations\s*:\s*(\d+)", text)]
        if r.returncode != 0 or any(bad):
            errors.append("getscu %s: %s" % (s, (r.stdout + r.stderr)[-300:]))
    assert not lost, "%d of %d acknowledged instances lost or changed" % (len(lost), len(acked))
    assert not errors, errors[:3]

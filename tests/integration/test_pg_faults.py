"""PostgreSQL connections cut under `strata serve` (issue 10, defect 2): a store that Strata
answered with Success must have its catalog row, and its bytes must come back; no row may
point at a missing file. The catalog is reached through faultproxy.FaultProxy, which cuts
connections right before or right after forwarding COMMIT, and at random; the checks read
PostgreSQL directly. Needs STRATA_TEST_PG_URL (scripts/test.sh starts a PostgreSQL)."""
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pydicom
import pytest

from conftest import TOOL_ENV, gen, run, same_dataset, study_uid_of
from faultproxy import FaultProxy

PG = os.environ.get("STRATA_TEST_PG_URL", "")
pytestmark = pytest.mark.skipif(not PG, reason="needs STRATA_TEST_PG_URL (scripts/test.sh starts PostgreSQL)")


def psql(sql):
    return run(["psql", PG, "-tAc", sql]).stdout.strip()


@pytest.fixture
def pg_proxy():
    psql("DROP TABLE IF EXISTS instances, series, studies, patients, packs, migrations, schema_version CASCADE")
    u = urlsplit(PG)
    proxy = FaultProxy(u.hostname, u.port or 5432, postgres=True, seed=int(os.environ.get("STRATA_FAULT_SEED", "1")))
    netloc = u.netloc.rsplit("@", 1)
    host = "%s@127.0.0.1:%d" % (netloc[0], proxy.port) if len(netloc) == 2 else "127.0.0.1:%d" % proxy.port
    proxy.url = urlunsplit((u.scheme, host, u.path, u.query, u.fragment))
    yield proxy
    proxy.close()


@pytest.fixture
def node(pg_proxy, server_factory):
    return server_factory(extra=["--catalog", pg_proxy.url, "--tiering-enabled", "false"])


def store(server, files, check_exit=True):
    """storescu -v; returns {sop_uid: status text} for every response received."""
    p = run(["storescu", "-v", "-nh", "-aec", server.aet, *server.addr(), *map(str, files)], check=False, timeout=300)
    answers, current = {}, None
    for line in (p.stdout + p.stderr).splitlines():
        m = re.search(r"Sending file: (\S+)", line)
        if m:
            current = Path(m.group(1)).stem
        m = re.search(r"Received Store Response \(([^)]*)\)", line)
        if m and current:
            answers[current] = m.group(1)
            current = None
    return answers


def acknowledged(answers):
    return {sop for sop, st in answers.items() if st.startswith("Success") or st.startswith("Warning")}


def rows():
    out = {}
    for line in psql("SELECT sop_uid, tier, hot_path, checksum FROM instances").splitlines():
        sop, tier, hot, checksum = line.split("|")
        out[sop] = (int(tier), hot, checksum)
    return out


def get_study(server, study, out):
    out.mkdir(parents=True, exist_ok=True)
    run(["getscu", "-S", "-aec", server.aet, "-od", out, "-k", "QueryRetrieveLevel=STUDY",
         "-k", "StudyInstanceUID=" + study, *server.addr()], check=False, timeout=300)
    return {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in out.iterdir()}


def check_promise(server, files, acked, tmp_path, tag):
    """Every acknowledged instance has a row and comes back identical; no row points at a
    missing file. Returns the number of acknowledged instances that are lost."""
    by_sop = {Path(f).stem: f for f in files}
    catalog = rows()
    hot_root = server.data / "hot"
    dangling = [sop for sop, (tier, hot, _) in catalog.items() if tier == 0 and not (hot_root / hot).is_file()]
    assert dangling == [], "rows pointing at missing hot files: %s" % dangling
    lost = sorted(sop for sop in acked if sop not in catalog)
    got = get_study(server, study_uid_of(files), tmp_path / ("get-" + tag))
    for sop in acked:
        if sop in catalog:
            assert sop in got, "acknowledged %s has a row but C-GET did not return it" % sop
            assert same_dataset(by_sop[sop], got[sop]), "%s came back different" % sop
    return lost


def test_commit_lost_on_its_way_is_not_acknowledged(node, pg_proxy, tmp_path):
    """The COMMIT never reaches PostgreSQL. The old driver reconnected, sent COMMIT again on the
    new session ("no transaction in progress", a mere warning) and answered Success."""
    files = gen("ct", tmp_path / "d", patients=1, studies_per_patient=1, series=1, slices=3, seed=51)
    pg_proxy.cut_next_commit(1, when="before")
    first = store(node, files[:1])
    assert pg_proxy.stats()["commits_cut_before"] == 1
    sop = Path(files[0]).stem
    assert sop in first, first
    # Success is right only if the row is there (the catalog may retry an aborted transaction).
    assert sop not in acknowledged(first) or sop in rows(), "acknowledged, but no catalog row"
    if sop not in acknowledged(first):
        assert not list((node.data / "hot").rglob(sop + "*")), "the hot file of a failed store stayed"
    # The sender's retry then succeeds; the promise holds for everything.
    again = store(node, files)
    assert acknowledged(again) == {Path(f).stem for f in files}
    assert check_promise(node, files, acknowledged(again), tmp_path, "a") == []


def test_commit_answer_lost_is_found_out(node, pg_proxy, tmp_path):
    """PostgreSQL commits and the answer is lost: Strata must find out that the row is there
    (and keep the file it points at) rather than fail blindly or re-send COMMIT."""
    files = gen("ct", tmp_path / "d", patients=1, studies_per_patient=1, series=1, slices=4, seed=52)
    acked = set()
    for f in files:
        pg_proxy.cut_next_commit(1, when="after")
        acked |= acknowledged(store(node, [f]))
    assert pg_proxy.stats()["commit_answers_dropped"] == len(files)
    catalog = rows()
    assert set(catalog) == {Path(f).stem for f in files}  # all committed at the server
    assert acked == set(catalog), "committed rows whose store was refused: %s" % (set(catalog) - acked)
    assert check_promise(node, files, acked, tmp_path, "b") == []


def test_unknown_outcome_is_read_back_before_answering(node, pg_proxy, tmp_path):
    """The COMMIT lands, its answer is lost, and the driver's own inquiry (txid_status on a new
    session) is refused: the commit's outcome is unknown to the driver. The archive must read
    the row back and then acknowledge, not refuse a store it holds (or delete its file)."""
    files = gen("ct", tmp_path / "d", patients=1, studies_per_patient=1, series=1, slices=3, seed=55)
    acked = set()
    for f in files:
        pg_proxy.cut_next_commit(1, when="after", then_refuse=1)
        acked |= acknowledged(store(node, [f]))
    assert pg_proxy.stats()["commit_answers_dropped"] == len(files)
    assert acked == set(rows()) == {Path(f).stem for f in files}
    assert check_promise(node, files, acked, tmp_path, "r") == []
    assert "read_back=present" in node.log_text()


def test_unknown_outcome_keeps_the_file_a_row_may_reference(node, pg_proxy, tmp_path):
    """The COMMIT lands, its answer is lost and PostgreSQL stays unreachable, so nobody can
    find out: the store must fail (it cannot be acknowledged) and must keep the hot file,
    which the committed row points at."""
    files = gen("ct", tmp_path / "d", patients=1, studies_per_patient=1, series=1, slices=2, seed=54)
    pg_proxy.cut_next_commit(1, when="after", then_down=True)
    first = store(node, files[:1])
    sop = Path(files[0]).stem
    assert pg_proxy.stats()["commit_answers_dropped"] == 1
    assert sop in first and sop not in acknowledged(first), first
    pg_proxy.restore()
    catalog = rows()
    assert sop in catalog  # committed at the server
    assert (node.data / "hot" / catalog[sop][1]).is_file(), "the row points at a deleted file"
    got = get_study(node, study_uid_of(files), tmp_path / "get-u")
    assert sop in got and same_dataset(files[0], got[sop])
    assert "event=commit_unknown" in node.log_text()
    again = store(node, files)
    assert acknowledged(again) == {Path(f).stem for f in files}
    assert check_promise(node, files, acknowledged(again), tmp_path, "u") == []


def test_random_cuts_lose_nothing_acknowledged(node, pg_proxy, tmp_path):
    """Three senders at once while COMMITs and random chunks are cut."""
    n = int(os.environ.get("STRATA_PG_FAULT_INSTANCES", "60"))
    files = gen("ct", tmp_path / "d", patients=1, studies_per_patient=1, series=3, slices=n // 3, seed=53)
    pg_proxy.cut_commits(0.3, when="random")
    pg_proxy.cut_random(0.01)
    procs = []
    for k in range(3):
        part = files[k::3]
        procs.append(subprocess.Popen(["storescu", "-v", "-nh", "-aec", node.aet, *node.addr(), *map(str, part)],
                                      env=TOOL_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    answers = {}
    for p in procs:
        out = p.communicate(timeout=600)[0]
        current = None
        for line in out.splitlines():
            m = re.search(r"Sending file: (\S+)", line)
            if m:
                current = Path(m.group(1)).stem
            m = re.search(r"Received Store Response \(([^)]*)\)", line)
            if m and current:
                answers[current] = m.group(1)
    pg_proxy.cut_commits(0)
    pg_proxy.cut_random(0)
    time.sleep(0.5)
    acked = acknowledged(answers)
    st = pg_proxy.stats()
    faults = st["commits_cut_before"] + st["commits_cut_after"] + st["random_cuts"]
    lost = check_promise(node, files, acked, tmp_path, "c")
    print("pg faults: instances=%d acknowledged=%d faults=%d (commit cut before=%d after=%d, random=%d) lost=%d"
          % (len(files), len(acked), faults, st["commits_cut_before"], st["commits_cut_after"], st["random_cuts"],
             len(lost)))
    assert faults >= 5, st  # the faults really happened
    assert lost == [], "%d acknowledged instances have no catalog row: %s" % (len(lost), lost[:5])
    # What was refused can be sent again, and then everything is there.
    again = store(node, files)
    assert acknowledged(again) == {Path(f).stem for f in files}, {s: a for s, a in again.items() if s not in acknowledged(again)}
    assert check_promise(node, files, set(acknowledged(again)), tmp_path, "d") == []

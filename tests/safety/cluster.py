"""The system under test: engines (PostgreSQL + Ceph RGW behind fault proxies, or SQLite + a
local cold directory), the hot directory on a small tmpfs, `strata serve` nodes that can be
killed with SIGKILL and restarted (optionally with a skewed clock), and the CLI beside them."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from faultproxy import FaultProxy  # noqa: E402  (the shared, PostgreSQL-aware fault proxy)

STRATA = os.environ.get("STRATA_BIN", str(ROOT / "build" / "strata"))
STRATA_GEN = os.environ.get("STRATA_GEN_BIN", str(ROOT / "build" / "src" / "testdata" / "strata-gen"))
BUCKET = "strata-safety"
REPLICA_BUCKET = "strata-safety-replica"
# The replica cluster has credentials of its own (the nodes get them as replica.access_key /
# replica.secret_key), so a mix-up of the two stores' keys fails loudly.
REPLICA_KEYS = {"CEPH_DEV_ACCESS_KEY": "STRATAREPLICAKEY001", "CEPH_DEV_SECRET_KEY": "strata-replica-secret-not-for-production"}
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"  # Debian's faketime package


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout=300, env=None):
    try:
        return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                              env=env or dict(os.environ, TCP_NODELAY="1"))
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(e.cmd, 124, e.stdout or "", (e.stderr or "") + "\ntimeout")


def read_env(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[7:]
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v.strip("'\"")
    return env


class SetupError(Exception):
    """An engine did not start: with CI=true the run fails, never skips."""


class HotVolume:
    """The hot directory on its own small tmpfs, so the workload can fill it (ENOSPC) without
    touching the machine's disk. Falls back to a plain directory (no full-disk fault) where
    mount is not permitted, and says so."""

    def __init__(self, path, size_mb):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        p = run(["mount", "-t", "tmpfs", "-o", "size=%dm" % size_mb, "tmpfs", self.path])
        self.mounted = p.returncode == 0
        self.note = "tmpfs %d MB" % size_mb if self.mounted else "plain dir (mount failed: %s)" % p.stderr.strip()
        self.filler = self.path / ".safety-filler"

    def fill(self):
        """Fill the filesystem to the last byte; returns bytes written."""
        n = 0
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 4096, 1):
                try:
                    while True:
                        n += os.write(fd, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        return n

    def unfill(self):
        try:
            self.filler.unlink()
        except FileNotFoundError:
            pass

    def close(self):
        self.unfill()
        if self.mounted:
            run(["umount", "-l", self.path])


class Node:
    def __init__(self, name, work, flags, aet="STRATA"):
        self.name = name
        self.data = Path(work) / ("node-" + name)
        self.port = free_port()
        self.http_port = free_port()
        while self.http_port == self.port:  # two probes can get the same free port back
            self.http_port = free_port()
        self.aet = aet
        self.flags = flags
        self.proc = None
        self.skew = None  # e.g. "+5m": run under faketime
        self.log = Path(work) / ("node-%s.log" % name)
        self.starts = 0

    def start(self, timeout=60):
        self.data.mkdir(parents=True, exist_ok=True)
        cmd = [STRATA, "serve", "--data", self.data, "--port", self.port, "--http-port", self.http_port,
               "--aet", self.aet, "--node-id", self.name] + self.flags
        env = dict(os.environ)
        env.pop("TCP_NODELAY", None)
        if self.skew:  # libfaketime in the node itself (the faketime wrapper would be the pid we kill)
            env.update(LD_PRELOAD=FAKETIME_LIB, FAKETIME=self.skew)
        with open(self.log, "a") as logf:
            logf.write("=== start %d%s at %s\n" % (self.starts, " skew " + self.skew if self.skew else "",
                                                   time.strftime("%H:%M:%S")))
            logf.flush()
            self.proc = subprocess.Popen([str(c) for c in cmd], stdout=logf, stderr=subprocess.STDOUT, env=env)
        self.starts += 1
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", self.http_port), timeout=0.2).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        """SIGTERM; returns the exit code (None if it had to be killed)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def addr(self):
        return ["127.0.0.1", str(self.port)]

    def url(self):
        return "http://127.0.0.1:%d" % self.http_port


class System:
    """Everything one run needs; mode "full" (PostgreSQL + Ceph, two nodes) or "embedded"
    (SQLite + file: cold store, one node)."""

    def __init__(self, mode, work, args):
        self.mode, self.work, self.args = mode, Path(work), args
        self.work.mkdir(parents=True, exist_ok=True)
        self.hot = HotVolume(self.work / "hot", args.hot_mb)
        self.pg_dir = self.ceph_dir = None
        self.pg_proxy = self.s3_proxy = self.replica_proxy = None
        self.replica_s3 = None
        self.replica = getattr(args, "replica", "off") == "on"
        self.started = []
        if mode == "full":
            try:
                self._start_engines()
            except BaseException:
                self.close()
                raise
        tiering = ["--tiering-enabled", "true", "--tiering-interval", args.interval,
                   "--tiering-older-than", args.older_than, "--tiering-lease", args.lease,
                   "--tiering-codec", args.codec,
                   # The hot janitor runs during the run too (a real server waits 1 h).
                   "--hot-reconcile-grace", "120s", "--hot-reconcile-interval", "30s"]
        if self.replica:  # the backup queue and the background scrubber, fast for a short run
            tiering += ["--replica-interval", "1s", "--replica-retry", "1s", "--replica-retry-max", "4s",
                        "--scrub-interval", args.scrub_interval, "--scrub-pause", "0s"]
        names = ["a", "b"] if mode == "full" else ["a"]
        self.nodes = [Node(n, self.work, self.common_flags() + tiering) for n in names]

    # --- engines -----------------------------------------------------------------------------
    def _start_engines(self):
        a = self.args
        if a.pg_dir:
            self.pg_dir = Path(a.pg_dir)
        else:
            self.pg_dir = self.work / "pg"
            p = run([ROOT / "scripts" / "pg-dev.sh", "start", self.pg_dir], timeout=180)
            if p.returncode != 0:
                raise SetupError("PostgreSQL did not start: " + p.stdout[-500:] + p.stderr[-1500:])
            self.started.append(("pg", self.pg_dir))
        pg_env = read_env(self.pg_dir / "env")
        self.pg_port = int(pg_env["PGDEV_PORT"])
        if a.ceph_dir:
            self.ceph_dir = Path(a.ceph_dir)
        else:
            self.ceph_dir = self.work / "ceph"
            p = run([ROOT / "scripts" / "ceph-dev.sh", "start", self.ceph_dir], timeout=300)
            if p.returncode != 0:
                raise SetupError("Ceph did not start: " + p.stdout[-500:] + p.stderr[-1500:])
            self.started.append(("ceph", self.ceph_dir))
        s3_env = read_env(self.ceph_dir / "env")
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION",
                  "STRATA_TEST_S3_ENDPOINT"):
            os.environ[k] = s3_env[k]
        self.s3_endpoint = s3_env["STRATA_TEST_S3_ENDPOINT"].rstrip("/")
        s3_port = int(self.s3_endpoint.rsplit(":", 1)[1])
        self.db = "s" + uuid.uuid4().hex[:10]  # a fresh database per run, same server
        p = run(["psql", self.pg_url_direct("strata"), "-tAc", "CREATE DATABASE " + self.db])
        if p.returncode != 0:
            raise SetupError("create database: " + p.stderr)
        self.pg_proxy = FaultProxy("127.0.0.1", self.pg_port, postgres=True)
        self.s3_proxy = FaultProxy("127.0.0.1", s3_port)
        from s3util import S3
        self.s3 = S3(endpoint=self.s3_endpoint)
        self.s3.create_bucket(BUCKET)
        self.prefix = "r-" + uuid.uuid4().hex[:8]
        if self.replica:
            self._start_replica_cluster()

    def _start_replica_cluster(self):
        """The replica: a second ceph-dev cluster (its own monitor, OSD, radosgw, fsid, ports
        and credentials) behind a fault proxy of its own."""
        a = self.args
        if a.replica_ceph_dir:
            self.replica_ceph_dir = Path(a.replica_ceph_dir)
        else:
            self.replica_ceph_dir = self.work / "ceph-replica"
            p = run([ROOT / "scripts" / "ceph-dev.sh", "start", self.replica_ceph_dir], timeout=300,
                    env=dict(os.environ, **REPLICA_KEYS))
            if p.returncode != 0:
                raise SetupError("the replica's Ceph did not start: " + p.stdout[-500:] + p.stderr[-1500:])
            self.started.append(("ceph", self.replica_ceph_dir))
        env = read_env(self.replica_ceph_dir / "env")
        self.replica_keys = (env["STRATA_TEST_S3_ACCESS_KEY"], env["STRATA_TEST_S3_SECRET_KEY"], env["AWS_REGION"])
        self.replica_endpoint = env["STRATA_TEST_S3_ENDPOINT"].rstrip("/")
        if self.replica_endpoint == self.s3_endpoint:
            raise SetupError("the replica's cluster is the primary's (%s)" % self.replica_endpoint)
        self.replica_proxy = FaultProxy("127.0.0.1", int(self.replica_endpoint.rsplit(":", 1)[1]))
        from s3util import S3
        self.replica_s3 = S3(endpoint=self.replica_endpoint, access_key=self.replica_keys[0],
                             secret_key=self.replica_keys[1], region=self.replica_keys[2])
        self.replica_s3.create_bucket(REPLICA_BUCKET)

    def restart_rgw(self, signal="KILL", timeout=180):
        """radosgw itself killed (SIGKILL or SIGTERM) and started again on its port
        (scripts/ceph-dev.sh restart-rgw); returns the CompletedProcess. Behind the S3 proxy,
        so the nodes see refused connections and cut requests, then the same endpoint back."""
        return run([ROOT / "scripts" / "ceph-dev.sh", "restart-rgw", self.ceph_dir], timeout=timeout,
                   env=dict(os.environ, CEPH_DEV_RGW_SIGNAL=signal))

    def pg_url_direct(self, db=None):
        return "postgresql://strata@127.0.0.1:%d/%s" % (self.pg_port, db or self.db)

    def common_flags(self, direct=False):
        """Catalog and stores as the nodes and the CLI see them (through the proxies unless
        direct, which the final checks use so no fault can touch them)."""
        if self.mode == "embedded":
            f = ["--catalog", "sqlite:%s" % (self.work / "catalog.db"), "--cold", "file:%s" % (self.work / "cold"),
                 "--hot-dir", str(self.hot.path)]
            return f + (["--replica", "file:%s" % (self.work / "replica")] if self.replica else [])
        pg = self.pg_url_direct() if direct else "postgresql://strata@127.0.0.1:%d/%s" % (self.pg_proxy.port, self.db)
        s3 = self.s3_endpoint if direct else "http://127.0.0.1:%d" % self.s3_proxy.port
        f = ["--catalog", pg, "--cold", "s3://%s/%s" % (BUCKET, self.prefix), "--s3-endpoint", s3,
             "--hot-dir", str(self.hot.path)]
        if self.replica:
            rep = self.replica_endpoint if direct else "http://127.0.0.1:%d" % self.replica_proxy.port
            f += ["--replica", "s3://%s/%s" % (REPLICA_BUCKET, self.prefix), "--replica-endpoint", rep,
                  "--replica-access-key", self.replica_keys[0], "--replica-secret-key", self.replica_keys[1],
                  "--replica-region", self.replica_keys[2]]
        return f

    def cli(self, sub, *extra, node_id="cli", direct=False, timeout=300):
        return run([STRATA, sub, "--data", self.work / "cli", "--node-id", node_id,
                    "--tiering-codec", self.args.codec, *self.common_flags(direct), *extra], timeout=timeout)

    # --- catalog and stores, read directly ------------------------------------------------------
    def sql(self, query):
        """Rows of a query on the catalog, bypassing every proxy."""
        if self.mode == "embedded":
            con = sqlite3.connect("file:%s?mode=ro" % (self.work / "catalog.db"), uri=True, timeout=30)
            try:
                return [tuple("" if v is None else str(v) for v in r) for r in con.execute(query)]
            finally:
                con.close()
        p = run(["psql", self.pg_url_direct(), "-tAF", "\x1f", "-c", query], timeout=120)
        if p.returncode != 0:
            raise RuntimeError("psql: " + p.stderr)
        return [tuple(line.split("\x1f")) for line in p.stdout.splitlines() if line]

    def cold_objects(self):
        """{key: size} of every object under the run's prefix (S3) or cold dir."""
        if self.mode == "embedded":
            root = self.work / "cold"
            out = {}
            for p in root.rglob("*") if root.exists() else []:
                rel = p.relative_to(root)
                if p.is_file() and not any(part.startswith(".") for part in rel.parts):
                    out[str(rel)] = p.stat().st_size
            return out
        return {k[len(self.prefix) + 1:]: 0 for k in self.s3.list_keys(BUCKET, self.prefix + "/")}

    # --- the two stores, for faults and checks (never through a proxy) -------------------------
    def store_keys(self, store):
        """Keys of every object of STORE ("primary" or "replica"), tombstones included."""
        if store == "primary":
            return set(self.cold_objects())
        if self.mode == "embedded":
            root = self.work / "replica"
            return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                    and not any(x.startswith(".") for x in p.relative_to(root).parts)} if root.exists() else set()
        return {k[len(self.prefix) + 1:] for k in self.replica_s3.list_keys(REPLICA_BUCKET, self.prefix + "/")}

    def _store_path(self, store, key):
        return self.work / ("cold" if store == "primary" else "replica") / key

    def _store_s3(self, store):
        return (self.s3, BUCKET) if store == "primary" else (self.replica_s3, REPLICA_BUCKET)

    def store_get(self, store, key):
        """The object's bytes, or None if it is not there."""
        if self.mode == "embedded":
            path = self._store_path(store, key)
            return path.read_bytes() if path.is_file() else None
        s3, bucket = self._store_s3(store)
        code, body = s3.request("GET", "/%s/%s/%s" % (bucket, self.prefix, key))
        return body if code == 200 else None

    def store_delete(self, store, key):
        if self.mode == "embedded":
            try:
                self._store_path(store, key).unlink()
            except FileNotFoundError:
                pass
            return
        s3, bucket = self._store_s3(store)
        s3.request("DELETE", "/%s/%s/%s" % (bucket, self.prefix, key))

    def store_flip(self, store, key, offset):
        """Flips one byte at OFFSET of the object in place; False if it is not there. (S3: read,
        flip, write back, so the caller must check the object was not retired meanwhile.)"""
        if self.mode == "embedded":
            try:
                with open(self._store_path(store, key), "r+b") as f:
                    f.seek(offset)
                    b = f.read(1)
                    if not b:
                        return False
                    f.seek(offset)
                    f.write(bytes([b[0] ^ 0xFF]))
                return True
            except FileNotFoundError:
                return False
        data = self.store_get(store, key)
        if data is None or offset >= len(data):
            return False
        raw = bytearray(data)
        raw[offset] ^= 0xFF
        s3, bucket = self._store_s3(store)
        return s3.request("PUT", "/%s/%s/%s" % (bucket, self.prefix, key), body=bytes(raw))[0] == 200

    def cold_pending(self):
        """Pending multipart uploads and temp files: nothing of them may survive cleanup."""
        if self.mode == "embedded":
            root = self.work / "cold"
            if not root.exists():
                return []
            out = [str(p.relative_to(root)) for p in root.rglob(".tmp-*")]
            up = root / ".uploads"
            out += ["upload " + d.name for d in up.iterdir()] if up.exists() else []
            return out
        return self.s3.list_uploads(BUCKET, self.prefix + "/")

    def hot_files(self):
        """Every regular file under the hot dir except the workload's own filler."""
        out = []
        for p in self.hot.path.rglob("*"):
            if p.is_file() and p != self.hot.filler:
                out.append(str(p.relative_to(self.hot.path)))
        return out

    def close(self):
        for n in getattr(self, "nodes", []):
            n.kill9()
        for prox in (self.pg_proxy, self.s3_proxy, self.replica_proxy):
            if prox:
                prox.close()
        self.hot.close()
        if self.mode == "full" and getattr(self, "db", None):
            run(["psql", self.pg_url_direct("strata"), "-tAc", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db])
        for kind, d in reversed(self.started):
            run([ROOT / "scripts" / ("pg-dev.sh" if kind == "pg" else "ceph-dev.sh"), "stop", d], timeout=180)

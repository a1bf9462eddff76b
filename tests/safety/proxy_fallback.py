"""A fault-injecting TCP proxy with the API of tests/integration/faultproxy.py, used only when
that file is not there yet: FaultProxy(host, port) -> .port, .down(), .restore(),
.cut_random(p), .cut_after_bytes(n), .cut_next_commit(n), .cut_commits(p). The commit cuts are
PostgreSQL-aware in the crudest way that is still exact for libpq's traffic: a client message
whose text holds COMMIT arms its connection, and the server's next bytes (COMMIT's answer)
are dropped together with the connection."""
import random
import re
import socket
import threading

_COMMIT = re.compile(rb"(?i)\bCOMMIT\b")


class FaultProxy:
    def __init__(self, host, port, postgres=False, seed=None):
        self.target = (host, port)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.up = True
        self.p_cut = 0.0
        self.cut_bytes = None
        self.commit_cuts = 0
        self.p_commit = 0.0
        self.cuts = 0  # connections this proxy cut, for the report
        self.conns = set()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    # --- the API -----------------------------------------------------------------------------
    def down(self):
        with self.lock:
            self.up = False
            conns, self.conns = list(self.conns), set()
        for c in conns:
            c.kill()

    def restore(self):
        with self.lock:
            self.up = True
            self.p_cut, self.cut_bytes, self.commit_cuts, self.p_commit = 0.0, None, 0, 0.0

    def cut_random(self, p):
        self.p_cut = p

    def cut_after_bytes(self, n):
        self.cut_bytes = n

    def cut_next_commit(self, n=1, when="after", then_down=False, then_refuse=0):
        with self.lock:
            self.commit_cuts += n

    def cut_commits(self, p, when="after"):
        self.p_commit = p

    def stats(self):
        return {"cuts": self.cuts}

    def close(self):
        self.down()
        self.listener.close()

    # --- plumbing ----------------------------------------------------------------------------
    def _accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                c.close()
                continue
            try:
                s = socket.create_connection(self.target, timeout=5)
                s.settimeout(None)
            except OSError:
                c.close()
                continue
            conn = _Conn(self, c, s)
            with self.lock:
                self.conns.add(conn)
            conn.start()


class _Conn:
    def __init__(self, proxy, client, server):
        self.proxy, self.client, self.server = proxy, client, server
        self.armed = False
        self.dead = False

    def start(self):
        threading.Thread(target=self._pipe, args=(self.client, self.server, True), daemon=True).start()
        threading.Thread(target=self._pipe, args=(self.server, self.client, False), daemon=True).start()

    def kill(self):
        if self.dead:
            return
        self.dead = True
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        with self.proxy.lock:
            self.proxy.conns.discard(self)

    def _cut(self):
        with self.proxy.lock:
            self.proxy.cuts += 1
        self.kill()

    def _pipe(self, src, dst, upstream):
        p = self.proxy
        try:
            while not self.dead:
                data = src.recv(65536)
                if not data or not p.up:
                    break
                if not upstream and self.armed:
                    self._cut()  # COMMIT reached the server; its answer never reaches the client
                    return
                if p.p_cut and p.rng.random() < p.p_cut:
                    self._cut()
                    return
                dst.sendall(data)
                with p.lock:
                    if p.cut_bytes is not None:
                        p.cut_bytes -= len(data)
                        if p.cut_bytes <= 0:
                            p.cut_bytes = None
                            threading.Thread(target=self._cut, daemon=True).start()
                    if upstream and _COMMIT.search(data):
                        if p.commit_cuts > 0:
                            p.commit_cuts -= 1
                            self.armed = True
                        elif p.p_commit and p.rng.random() < p.p_commit:
                            self.armed = True
        except OSError:
            pass
        finally:
            self.kill()

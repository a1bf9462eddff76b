"""A fault-injecting TCP proxy for tests and the checker (loopback only, bounded).

    proxy = FaultProxy("127.0.0.1", pg_port, postgres=True)
    url = "postgresql://strata@127.0.0.1:%d/strata" % proxy.port
    proxy.cut_next_commit(1, when="before")   # the COMMIT never reaches the server
    proxy.cut_next_commit(1, when="after")    # the server commits; its answer is lost
    proxy.cut_next_commit(1, "after", then_down=True)  # ... and the server stays unreachable
    proxy.cut_commits(0.2)                    # each COMMIT: cut with this probability
    proxy.cut_random(0.01)                    # each forwarded chunk: cut with this probability
    proxy.down(); proxy.restore()             # cut everything and refuse; then accept again
    proxy.cut_after_bytes(4 << 20)            # plain bytes (S3): go down after N bytes
    proxy.stats()                             # counters of what it did
    proxy.close()

With postgres=True it follows the frontend protocol's framing (startup packet, then a type
byte and an int32 length per message) to find COMMIT, sent as a simple query ('Q') or through
the extended protocol (Parse of COMMIT, then Execute/Sync). A cut "after" forwards the COMMIT
and drops the connection when the server's first answer byte arrives, so the transaction is
committed while the client never hears so; "before" drops the COMMIT and the connection, so
the server aborts the transaction. Both look the same to the client: that is the point.

Run as a program (`python3 faultproxy.py HOST PORT [--postgres]`) it prints "port N" and
then reads commands from stdin, one per line, answering "ok" (for tests in other languages):
    cut_next_commit N before|after [down] | cut_commits P [when] | cut_random P | down | restore
    | cut_after_bytes N | stats | quit
"""
import ipaddress
import random
import socket
import struct
import sys
import threading

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_MAX_MESSAGE = 1 << 30  # PostgreSQL's own limit for one frontend message


def _is_loopback(host):
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def _is_commit(sql):
    """True if SQL (one simple query, maybe several statements) contains a COMMIT."""
    for stmt in sql.split(";"):
        words = stmt.upper().split()
        if words and words[0] in ("COMMIT", "END") and len(words) <= 3:
            return True
    return False


class _Conn:
    def __init__(self, client, server):
        self.client = client
        self.server = server
        self.closed = False
        self.cut_on_reply = False  # a COMMIT went out that must not be answered
        self.opaque = False        # TLS or unknown framing: forward bytes, parse nothing
        self.startup = True
        self.expect_ssl_answer = False
        self.commit_parsed = False  # extended protocol: a Parse of COMMIT awaits its Execute
        self.down_after = False    # go down once the COMMIT's answer is dropped


class FaultProxy:
    def __init__(self, target_host, target_port, postgres=False, max_connections=128, seed=None):
        if not _is_loopback(target_host):
            raise ValueError("FaultProxy forwards to loopback only, not %r" % target_host)
        self.target = (target_host, int(target_port))
        self.postgres = postgres
        self.max_connections = max_connections
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.conns = []
        self.up = True
        self.closed = False
        self.forwarded = 0
        self.cut_after = None
        self.random_p = 0.0
        self.commit_p = 0.0
        self.commit_when = "random"
        self.next_commits = []  # queued forced cuts: (when, then_down, then_refuse)
        self.refuse_next = 0
        self.counters = dict(connections=0, refused=0, bytes=0, random_cuts=0, down_cuts=0, commits=0,
                             commits_cut_before=0, commits_cut_after=0, commit_answers_dropped=0)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    # ---- controls --------------------------------------------------------------------------
    def down(self):
        """Cuts every connection and refuses new ones until restore()."""
        with self.lock:
            self.up = False
            conns, self.conns = self.conns, []
            self.counters["down_cuts"] += len(conns)
        for c in conns:
            self._cut(c)

    def restore(self):
        with self.lock:
            self.up = True
            self.forwarded = 0
            self.cut_after = None

    def cut_random(self, probability_per_chunk):
        self.random_p = float(probability_per_chunk)

    def cut_after_bytes(self, n):
        """Goes down() once N more bytes (both directions, all connections) were forwarded."""
        with self.lock:
            self.forwarded = 0
            self.cut_after = int(n)

    def cut_next_commit(self, n=1, when="after", then_down=False, then_refuse=0):
        """The next N COMMITs are cut; with THEN_DOWN the proxy also goes down() (until
        restore()), so that whoever asks the server what became of the COMMIT cannot; with
        THEN_REFUSE=k only the next k new connections after the cut are refused."""
        assert when in ("before", "after", "random")
        with self.lock:
            self.next_commits += [(when, then_down, int(then_refuse))] * int(n)

    def cut_commits(self, probability, when="random"):
        assert when in ("before", "after", "random")
        self.commit_p = float(probability)
        self.commit_when = when

    def stats(self):
        with self.lock:
            return dict(self.counters)

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.down()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- plumbing --------------------------------------------------------------------------
    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                refuse = not self.up or len(self.conns) >= self.max_connections or self.refuse_next > 0
                if self.refuse_next > 0:
                    self.refuse_next -= 1
                if refuse:
                    self.counters["refused"] += 1
            if refuse:
                c.close()
                continue
            try:
                s = socket.create_connection(self.target, timeout=10)
                s.settimeout(None)
            except OSError:
                c.close()
                continue
            for sock in (c, s):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(c, s)
            conn.opaque = not self.postgres
            with self.lock:
                self.conns.append(conn)
                self.counters["connections"] += 1
            threading.Thread(target=self._client_to_server, args=(conn,), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(conn,), daemon=True).start()

    def _cut(self, conn):
        conn.closed = True
        for s in (conn.client, conn.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        with self.lock:
            if conn in self.conns:
                self.conns.remove(conn)

    def _count(self, n):
        """Counts N forwarded bytes; True if a random cut or the byte budget says: cut now."""
        go_down = False
        with self.lock:
            self.counters["bytes"] += n
            self.forwarded += n
            if self.cut_after is not None and self.forwarded > self.cut_after:
                self.cut_after = None
                go_down = True
            rnd = self.random_p > 0 and self.rng.random() < self.random_p
            if rnd:
                self.counters["random_cuts"] += 1
        if go_down:
            threading.Thread(target=self.down, daemon=True).start()
        return rnd

    def _commit_decision(self):
        """None (forward), "before" or "after" for the COMMIT about to be forwarded."""
        with self.lock:
            self.counters["commits"] += 1
            when, then_down, refuse = None, False, 0
            if self.next_commits:
                when, then_down, refuse = self.next_commits.pop(0)
            elif self.commit_p > 0 and self.rng.random() < self.commit_p:
                when = self.commit_when
            if when == "random":
                when = self.rng.choice(("before", "after"))
            if when:
                self.counters["commits_cut_" + when] += 1
            if then_down:
                self.up = False  # refuse new connections from now on; down() follows the cut
            self.refuse_next += refuse
            return when, then_down

    def _server_to_client(self, conn):
        try:
            while not conn.closed:
                data = conn.server.recv(65536)
                if not data:
                    break
                if conn.cut_on_reply:
                    with self.lock:
                        self.counters["commit_answers_dropped"] += 1
                    if conn.down_after:
                        self.down()
                    break
                if not self.up:
                    break
                if conn.expect_ssl_answer:
                    conn.expect_ssl_answer = False
                    if data[:1] != b"N":
                        conn.opaque = True  # TLS (or GSS) from here on: nothing to parse
                if self._count(len(data)):
                    break
                conn.client.sendall(data)
        except OSError:
            pass
        finally:
            self._cut(conn)

    def _client_to_server(self, conn):
        buf = b""
        try:
            while not conn.closed:
                data = conn.client.recv(65536)
                if not data or not self.up:
                    break
                if self._count(len(data)):
                    break
                if conn.opaque:
                    conn.server.sendall(data)
                    continue
                buf += data
                buf, ok = self._forward_messages(conn, buf)
                if not ok:
                    break
        except OSError:
            pass
        finally:
            self._cut(conn)

    def _forward_messages(self, conn, buf):
        """Forwards the complete frontend messages in BUF; returns (rest, keep_going)."""
        out = b""
        pos = 0
        while True:
            if conn.opaque:
                conn.server.sendall(out + buf[pos:])
                return b"", True
            if conn.startup:
                if len(buf) - pos < 8:
                    break
                length, code = struct.unpack("!ii", buf[pos:pos + 8])
                if length < 8 or length > 10000:
                    conn.opaque = True
                    continue
                if len(buf) - pos < length:
                    break
                out += buf[pos:pos + length]
                pos += length
                if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                    conn.expect_ssl_answer = True
                else:
                    conn.startup = False
                continue
            if len(buf) - pos < 5:
                break
            kind = buf[pos:pos + 1]
            (length,) = struct.unpack("!i", buf[pos + 1:pos + 5])
            if length < 4 or length > _MAX_MESSAGE:
                conn.opaque = True
                continue
            if len(buf) - pos < 1 + length:
                break
            body = buf[pos + 5:pos + 1 + length]
            msg = buf[pos:pos + 1 + length]
            pos += 1 + length
            trigger = False
            if kind == b"Q":
                trigger = _is_commit(body.split(b"\0", 1)[0].decode("utf-8", "replace"))
            elif kind == b"P":
                parts = body.split(b"\0", 2)
                conn.commit_parsed = len(parts) > 1 and _is_commit(parts[1].decode("utf-8", "replace"))
            elif kind in (b"E", b"S") and conn.commit_parsed:
                conn.commit_parsed = False
                trigger = True
            if trigger:
                when, then_down = self._commit_decision()
                if when == "before":
                    # Nothing of this chunk goes out (with the extended protocol it holds the
                    # Parse/Bind of the COMMIT); the server sees the session end mid-transaction.
                    if then_down:
                        self.down()
                    return b"", False
                if when == "after":
                    conn.down_after = then_down
                    conn.cut_on_reply = True  # set before the COMMIT leaves: no answer may pass
            out += msg
        if out:
            conn.server.sendall(out)
        return buf[pos:], True


def _main(argv):
    if len(argv) < 3:
        print("usage: faultproxy.py HOST PORT [--postgres]", file=sys.stderr)
        return 2
    proxy = FaultProxy(argv[1], int(argv[2]), postgres="--postgres" in argv[3:])
    print("port %d" % proxy.port, flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd, args = words[0], words[1:]
        try:
            if cmd == "quit":
                break
            if cmd == "stats":
                print(" ".join("%s=%d" % kv for kv in sorted(proxy.stats().items())), flush=True)
                continue
            if cmd == "cut_next_commit":
                proxy.cut_next_commit(int(args[0]) if args else 1, args[1] if len(args) > 1 else "after",
                                      then_down=len(args) > 2 and args[2] == "down")
            elif cmd == "cut_commits":
                proxy.cut_commits(float(args[0]), args[1] if len(args) > 1 else "random")
            elif cmd == "cut_random":
                proxy.cut_random(float(args[0]))
            elif cmd == "cut_after_bytes":
                proxy.cut_after_bytes(int(args[0]))
            elif cmd in ("down", "restore"):
                getattr(proxy, cmd)()
            else:
                raise ValueError("unknown command " + cmd)
            print("ok", flush=True)
        except (ValueError, IndexError, AssertionError) as e:
            print("error %s" % e, flush=True)
    proxy.close()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))

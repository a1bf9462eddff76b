"""faultproxy.FaultProxy itself, against a tiny echo "server": its PostgreSQL framing finds
COMMIT in simple and extended queries (and nothing else), cuts where it is told, refuses
non-loopback targets and stays bounded. No engine needed."""
import socket
import struct
import threading
import time

import pytest

from faultproxy import FaultProxy


class Echo:
    """Answers every received chunk with b"R"; records what arrived."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                self.received += d
                c.sendall(b"R")
        except OSError:
            pass


def msg(kind, body):
    return kind + struct.pack("!i", len(body) + 4) + body


STARTUP = struct.pack("!ii", 8 + 5, 196608) + b"user\0"
SIMPLE_COMMIT = msg(b"Q", b"COMMIT\0")
EXTENDED_COMMIT = msg(b"P", b"\0COMMIT\0\0\0") + msg(b"B", b"\0\0\0\0\0\0\0\0") + msg(b"E", b"\0\0\0\0\0") + msg(b"S", b"")


def talk(proxy, payload):
    """Sends PAYLOAD after the startup packet; returns the answer bytes (b"" when cut)."""
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    s.sendall(STARTUP)
    assert s.recv(1) == b"R"
    s.sendall(payload)
    try:
        return s.recv(100)
    except OSError:
        return b""
    finally:
        s.close()


@pytest.fixture
def echo():
    e = Echo()
    yield e
    e.sock.close()


def test_simple_and_extended_commit_are_found_and_cut(echo):
    with FaultProxy("127.0.0.1", echo.port, postgres=True) as p:
        assert talk(p, msg(b"Q", b"SELECT 1\0")) == b"R"
        assert p.stats()["commits"] == 0
        p.cut_next_commit(1, when="after")
        assert talk(p, SIMPLE_COMMIT) == b""  # forwarded, answer dropped
        assert SIMPLE_COMMIT in echo.received
        p.cut_next_commit(1, when="before")
        before = len(echo.received)
        assert talk(p, EXTENDED_COMMIT) == b""  # never forwarded
        time.sleep(0.1)
        assert EXTENDED_COMMIT not in echo.received[before:]
        assert talk(p, EXTENDED_COMMIT) == b"R"  # no cut queued: passes
        st = p.stats()
        assert (st["commits"], st["commits_cut_after"], st["commits_cut_before"]) == (3, 1, 1)
        assert st["commit_answers_dropped"] == 1


def test_commit_in_a_multi_statement_query_and_not_in_a_literal(echo):
    with FaultProxy("127.0.0.1", echo.port, postgres=True) as p:
        p.cut_commits(1.0, when="after")
        assert talk(p, msg(b"Q", b"INSERT INTO t VALUES ('COMMIT')\0")) == b"R"
        assert talk(p, msg(b"Q", b"BEGIN; INSERT INTO t VALUES (1); COMMIT;\0")) == b""
        assert p.stats()["commits_cut_after"] == 1


def test_plain_bytes_down_restore_and_cut_after_bytes(echo):
    with FaultProxy("127.0.0.1", echo.port) as p:
        s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
        s.sendall(b"x")
        assert s.recv(1) == b"R"
        p.down()
        assert s.recv(1) == b""
        with pytest.raises(OSError):
            c = socket.create_connection(("127.0.0.1", p.port), timeout=5)
            c.sendall(b"x")
            if c.recv(1) == b"":
                raise OSError("refused")
        p.restore()
        p.cut_after_bytes(10)
        s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
        s.sendall(b"y" * 20)
        assert s.recv(1) in (b"", b"R")
        time.sleep(0.2)
        assert p.stats()["down_cuts"] >= 1


def test_loopback_only_and_bounded(echo):
    with pytest.raises(ValueError):
        FaultProxy("192.0.2.1", 5432)
    with FaultProxy("127.0.0.1", echo.port, max_connections=2) as p:
        socks = [socket.create_connection(("127.0.0.1", p.port), timeout=5) for _ in range(2)]
        for s in socks:
            s.sendall(b"x")
            assert s.recv(1) == b"R"
        extra = socket.create_connection(("127.0.0.1", p.port), timeout=5)
        try:
            extra.sendall(b"x")
            assert extra.recv(1) == b""
        except ConnectionResetError:
            pass  # closed with our byte unread: a reset, also a refusal
        assert p.stats()["refused"] == 1

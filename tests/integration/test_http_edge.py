"""The HTTP edge under pressure: thousands of idle or slow connections do not
lock out a normal request, and the malformed requests libmicrohttpd answers
itself get the statuses docs/api-coverage.md lists."""
import resource
import socket
import time
import urllib.request

import pytest

SLOW_CLIENTS = 1500
MANY_CLIENTS = 10000
# Descriptors this test needs beyond its connections (pytest, the clients).
RESERVE = 300


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def open_connections(emu, n, partial_request):
    port = int(emu.endpoint.rsplit(":", 1)[1])
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            if partial_request:
                # A slow client: half a request line, then silence.
                s.sendall(b"GET /things HTTP/1.1\r\nHost: local")
            socks.append(s)
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks


def timed_request(emu):
    start = time.monotonic()
    with urllib.request.urlopen(emu.endpoint + "/things", timeout=10) as r:
        assert r.status == 200
    return time.monotonic() - start


@pytest.mark.parametrize("count, partial", [(SLOW_CLIENTS, True), (MANY_CLIENTS, False)])
def test_held_connections_do_not_lock_out_requests(emulator, count, partial):
    limit = raise_fd_limit(count + RESERVE)
    count = min(count, limit - RESERVE)
    assert count >= SLOW_CLIENTS, "the machine allows only %d descriptors" % limit
    socks = open_connections(emulator, count, partial)
    try:
        assert timed_request(emulator) < 2.0
        assert emulator.client("iot").list_things()["things"] == []
        # The held connections are still open: none was refused or dropped.
        for s in socks[::100]:
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
    finally:
        for s in socks:
            s.close()


def raw(emu, data):
    """Send bytes, return the status line's code (None when the connection is
    closed without an answer)."""
    port = int(emu.endpoint.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        head = b""
        while b"\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                return None
            head += chunk
    return int(head.split(b" ", 2)[1])


def test_what_libmicrohttpd_answers_itself(emulator):
    host = b"Host: localhost\r\n"
    assert raw(emulator, b"POST /things/x HTTP/1.1\r\n" + host +
               b"Content-Length: -1\r\n\r\n") == 400
    assert raw(emulator, b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n" + host + b"\r\n") == 414
    assert raw(emulator, b"GET /things HTTP/1.1\r\n" + host +
               b"".join(b"X-H%d: v\r\n" % i for i in range(10000)) + b"\r\n") == 431
    assert raw(emulator, b"POST /things/x HTTP/1.1\r\n" + host +
               b"Content-Length: 99999999999999999999999\r\n\r\n") == 413
    assert raw(emulator, b"GARBAGE\r\n\r\n") is None
    # The emulator answers what reaches it, AWS-shaped.
    status = raw(emulator, b"POST /things/x HTTP/1.1\r\n" + host +
                 b"Content-Length: 104857600\r\n\r\n")
    assert status == 413

# SPDX-License-Identifier: MIT
"""The conformance proxy: moto's tests, run in server mode, talk to this
instead of a moto server, and it forwards every request to ddlocal unchanged
(method, path, query, headers and body, so a SigV4 signature made for the
proxy's address still matches). The one call it translates is moto's own
reset, `POST /moto-api/reset`, which every `mock_aws` sends before and after
a test: it becomes ddlocal's `POST /_ddlocal/reset`. Any other path under
/moto-api/ is moto's own API, which ddlocal does not have: the proxy answers
it 501 and says so, and never makes up an AWS answer.

Standard library only. Used by run.py; also runnable on its own:

    python3 tests/conformance/proxy.py --port 5000 --target http://127.0.0.1:4566
"""
import argparse
import http.client
import http.server
import json
import sys
import threading
import urllib.parse

MOTO_API = "/moto-api/"
# moto's path -> ddlocal's; only exact POSTs are mapped.
MAPPED = {"/moto-api/reset": "/_ddlocal/reset"}
# Headers that belong to one connection, not to the request (RFC 9110
# 7.6.1), and those the proxy sets itself: the length of what it sends, and
# Expect (http.server answers a 100-continue on the client's connection).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length", "expect"}
UPSTREAM_TIMEOUT_S = 120
# The regions moto's IoT tests use, where --indexing turns the index on.
INDEX_REGIONS = ("us-east-1", "ap-northeast-1")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive with the client
    server_version = "ddlocal-conformance-proxy"

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("proxy: %s\n" % (fmt % args))

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def forward(self):
        body = self.read_body()
        path = urllib.parse.urlsplit(self.path).path
        target = self.path
        if path.startswith(MOTO_API):
            if self.command != "POST" or path not in MAPPED:
                msg = ("%s %s is moto's own API, which ddlocal does not have "
                       "(the conformance proxy maps only POST %s)\n"
                       % (self.command, path, ", POST ".join(sorted(MAPPED))))
                self.reply(501, [("Content-Type", "text/plain")], msg.encode())
                return
            target, body = MAPPED[path], b""
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        conn = http.client.HTTPConnection(self.server.target_host, self.server.target_port,
                                          timeout=UPSTREAM_TIMEOUT_S)
        try:
            conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            out = resp.read()
            if target == "/_ddlocal/reset" and resp.status == 200:
                self.server.index_after_reset()
            self.reply(resp.status, resp.getheaders(), out)
        except OSError as e:
            self.reply(502, [("Content-Type", "text/plain")],
                       ("ddlocal did not answer: %s\n" % e).encode())
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = forward


class Proxy(http.server.ThreadingHTTPServer):
    """A proxy listening on 127.0.0.1:port (0 picks a free one) that forwards
    to target, an http://host:port URL. serve_in_thread() starts it;
    shutdown() and server_close() stop it."""

    daemon_threads = True

    def __init__(self, port, target, verbose=False, indexing=None):
        url = urllib.parse.urlsplit(target)
        self.target_host, self.target_port = url.hostname, url.port or 80
        self.verbose = verbose
        self.indexing = indexing  # thingIndexingMode to set after a reset, or None
        super().__init__(("127.0.0.1", port), Handler)

    def index_after_reset(self):
        """With indexing set, turn the thing index on in each of INDEX_REGIONS
        after a reset: a setup step of the run (a fresh AWS account has it off),
        not an answer to a test."""
        if not self.indexing:
            return
        body = json.dumps({"thingIndexingConfiguration": {"thingIndexingMode": self.indexing}})
        for region in INDEX_REGIONS:
            conn = http.client.HTTPConnection(self.target_host, self.target_port,
                                              timeout=UPSTREAM_TIMEOUT_S)
            try:
                conn.request("POST", "/indexing/config", body, {
                    "Content-Type": "application/json",
                    "Authorization": ("AWS4-HMAC-SHA256 Credential=FOOBARKEY/20260101/%s/iot/"
                                      "aws4_request, SignedHeaders=host, Signature=0" % region)})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    sys.stderr.write("proxy: turning indexing on in %s answered %d\n"
                                     % (region, resp.status))
            finally:
                conn.close()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def serve_in_thread(self):
        t = threading.Thread(target=self.serve_forever, name="proxy", daemon=True)
        t.start()
        return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=5000, help="port to listen on (127.0.0.1)")
    ap.add_argument("--target", default="http://127.0.0.1:4566", help="ddlocal's HTTP endpoint")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--indexing", metavar="MODE",
                    help="after each reset, set thingIndexingMode MODE (e.g. REGISTRY_AND_SHADOW)")
    args = ap.parse_args()
    proxy = Proxy(args.port, args.target, args.verbose, args.indexing)
    print("proxy: %s -> %s" % (proxy.endpoint, args.target), flush=True)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.server_close()


if __name__ == "__main__":
    main()
